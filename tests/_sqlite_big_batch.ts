/**
 * A process for tests/sqlite_processes_test.ts that appends one large batch and is
 * killed with SIGKILL while doing it. Prints `inserting` when the adapter starts inserting
 * the rows and `committed` after the commit. With `park`, it stops inside the transaction
 * once every row is inserted (printing `inserted`) and waits there to be killed.
 *
 * Usage: `deno run -A tests/_sqlite_big_batch.ts <path> <events> [park]`
 *
 * @module
 */

import { z } from "zod";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import type { DatabaseSync } from "node:sqlite";
import type { AdapterTransaction, InsertableRecord } from "../contract/mod.ts";
import { EventStore } from "../stores/event_store.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";

const [path, count, mode] = Deno.args;
const events = new EventFactory([event.type("bulk").data(z.string())]);
const say = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(`${line}\n`));

/** Tells the parent when the rows start going into the database. */
class TracedAdapter extends SqliteAdapter {
  override transaction<T>(work: (tx: AdapterTransaction<DatabaseSync>) => Promise<T>): Promise<T> {
    return super.transaction((tx) =>
      work(
        new Proxy(tx, {
          get(target, key) {
            if (key === "insert") {
              return (records: readonly InsertableRecord[]) => {
                say("inserting");
                return target.insert(records);
              };
            }
            const value = Reflect.get(target, key, target);
            return typeof value === "function" ? value.bind(target) : value;
          },
        }),
      )
    );
  }
}

const store = new EventStore({ adapter: new TracedAdapter(path), events });
if (mode === "park") {
  store.onEventsInserting(async () => {
    say("inserted");
    await new Promise(() => setInterval(() => {}, 1000));
  });
}
const batch = Array.from(
  { length: Number(count) },
  () => store.event({ type: "bulk", stream: "big", data: "x".repeat(200) }),
);
await store.pushManyEvents(batch);
say("committed");
await new Promise(() => setInterval(() => {}, 1000));
