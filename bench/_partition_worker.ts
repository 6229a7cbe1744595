/**
 * A worker process of the partitions bench: runs a subscription of 16 partitions over a
 * PostgreSQL schema with a handler that awaits `IO_MS` of I/O per event, from the line
 * `go` on stdin until every partition has caught up with the log, then prints
 * `done <handled>` and exits. With `one-connection` the handlers' I/O goes through one
 * connection of the worker (one at a time, as through a pool of one or a rate-limited
 * client); with `concurrent` every handler waits on its own.
 *
 * Usage: `deno run -A bench/_partition_worker.ts <url> <schema> <name> <head> <one-connection | concurrent>`
 *
 * @module
 */

import { delay } from "../async.ts";
import { Projector } from "../projectors/projector.ts";
import { EventStore } from "../stores/event_store.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { events } from "./_partition_events.ts";

/** How long each handler waits for its I/O, in ms. */
export const IO_MS = 1;

if (import.meta.main) {
  const [url, schema, name, head, io] = Deno.args;
  if (io !== "one-connection" && io !== "concurrent") throw new TypeError(`unknown I/O "${io}"`);
  await using store = new EventStore({ adapter: new PostgresAdapter(url, { schema }), events });
  let handled = 0;
  const projector = new Projector<typeof events>();
  let connection = Promise.resolve();
  projector.on("item:added", async () => {
    if (io === "one-connection") {
      const turn = connection.then(() => delay(IO_MS));
      connection = turn;
      await turn;
    } else {
      await delay(IO_MS);
    }
    handled++;
  });
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  console.log("ready");
  while (!(await lines.read()).value?.includes("go"));
  await using subscription = store.subscribe(name, projector, {
    partitions: 16,
    pollInterval: 50,
    leaseInterval: 250,
    leaseTtl: 3000,
    onError: () => {}, // a renewal slowed by a busy machine is retried; the time shows it
  });
  await subscription.waitFor(head, { timeout: 600_000 });
  console.log(`done ${handled}`);
  lines.releaseLock();
  Deno.exit(0);
}
