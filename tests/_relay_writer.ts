/**
 * A writer process for tests/relay_processes_test.ts: appends `total` events to a store
 * in batches of 100 (over a few streams and three types), pausing between batches so
 * that the appends span the relay's restarts, then prints `done <total>`.
 *
 * Usage: `deno run -A tests/_relay_writer.ts <store> <total> <pause-ms>`, where `<store>`
 * is `sqlite:<path>` or `postgres://...?schema=<name>`.
 *
 * @module
 */

import { delay } from "../async.ts";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import { EventStore } from "../stores/event_store.ts";
import { relayStoreAdapter } from "./_relay_store.ts";

const [url, total, pause] = Deno.args;
const events = new EventFactory([event.type("order:placed"), event.type("order:paid"), event.type("note")]);
await using store = new EventStore({ adapter: relayStoreAdapter(url), events });
const types = ["order:placed", "order:paid", "note"] as const;
for (let written = 0; written < Number(total); written += 100) {
  const batch = Array.from({ length: Math.min(100, Number(total) - written) }, (_, k) => {
    const n = written + k;
    return store.event({ type: types[n % 3], stream: `order-${n % 17}` });
  });
  await store.pushManyEvents(batch);
  if (written % 10_000 === 0) console.log(`written ${written}`);
  await delay(Number(pause));
}
console.log(`done ${total}`);
