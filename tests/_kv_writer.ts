/**
 * A writer process for tests/kv_processes_test.ts: appends to a KV file that another
 * process appends to at the same time, and prints (as one JSON line) the ids it stored
 * and how many expected-revision conflicts it was told about.
 *
 * Usage: `deno run -A tests/_kv_writer.ts <path> <name> <rounds> <start-at-ms>`
 *
 * @module
 */

import { isConcurrencyError } from "../errors.ts";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import { EventStore } from "../stores/event_store.ts";
import { KvAdapter } from "../stores/kv/mod.ts";
import { delay } from "../async.ts";

const [path, name, rounds, startAt] = Deno.args;
const events = new EventFactory([event.type("written"), event.type("claimed")]);
await using store = new EventStore({ adapter: new KvAdapter(path), events });
await store.stats();

// Both writers start at the same moment, so their appends overlap.
while (Date.now() < Number(startAt)) await delay(1);

const ids: string[] = [];
let conflicts = 0;
for (let round = 0; round < Number(rounds); round++) {
  // Every tenth round a batch too big for one atomic (written past the head, then shown).
  const size = round % 10 === 9 ? 400 : 20;
  const batch = Array.from({ length: size }, () => store.event({ type: "written", stream: "shared" }));
  await store.pushManyEvents([...batch, store.event({ type: "written", stream: `own-${name}` })]);
  ids.push(...batch.map((e) => e.id));
  // Read the revision, then append expecting it: the other writer may get there first.
  const [last] = await store.getEventsByStreams(["contended"], { direction: "backward", limit: 1 });
  const claim = store.event({ type: "claimed", stream: "contended" });
  try {
    await store.pushEvent(claim, { expectedRevision: last?.revision ?? 0 });
    ids.push(claim.id);
  } catch (error) {
    if (!isConcurrencyError(error)) throw error;
    conflicts++;
  }
}
console.log(JSON.stringify({ name, ids, conflicts }));
