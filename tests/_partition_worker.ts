/**
 * A worker process for the partitioned subscription tests: runs subscription `<name>`
 * with 16 partitions over a SQLite file or a PostgreSQL schema, transactional, each
 * handler awaiting 1 ms of I/O and then writing `id|owner` to the `handled` table (the
 * value: ms since EPOCH when handled) in the subscription's transaction. It prints
 * `handled N` every 1000 events, `partitions K` when the number it runs changes, and
 * `order broken ...` should a stream's revision ever go back.
 *
 * Usage: `deno run -A tests/_partition_worker.ts <sqlite:PATH | postgres:SCHEMA> <name> <owner> <epoch>`
 *
 * @module
 */

import type { PartitionedSubscription } from "../projectors/partitioned_subscription.ts";
import { Projector } from "../projectors/projector.ts";
import { EventStore } from "../stores/event_store.ts";
import { txTable } from "../testing/_conformance_read_model.ts";
import { delay } from "../async.ts";
import { events, openTarget } from "./_subscriber.ts";

/** Partitions of the subscription the workers share. */
export const PARTITIONS = 16;
/** The lease times of the workers, in ms. */
export const LEASE = { leaseInterval: 100, leaseTtl: 1000 } as const;

if (import.meta.main) {
  const [target, name, owner, epoch] = Deno.args;
  const store = new EventStore({ adapter: openTarget(target), events });
  const handled = await txTable(store.adapter, "handled");
  const projector = new Projector<typeof events>();
  const subscription = store.subscribe(name, projector, {
    partitions: PARTITIONS,
    transactional: true,
    owner,
    pollInterval: 100,
    ...LEASE,
    onError: (error, context) => console.error(`${context.action}:`, error),
  }) as PartitionedSubscription<typeof events>;
  const last = new Map<string, number>();
  let count = 0;
  projector.on("item:added", async (record) => {
    await delay(1); // the I/O a real handler waits for
    await handled.add(subscription.tx(), `${record.id}|${owner}`, Date.now() - Number(epoch));
    if ((last.get(record.stream) ?? 0) >= record.revision) {
      console.log(`order broken: ${record.stream} ${record.revision} after ${last.get(record.stream)}`);
    }
    last.set(record.stream, record.revision);
    if (++count % 1000 === 0) console.log(`handled ${count}`);
  });
  let shown = -1;
  const show = setInterval(() => {
    const running = subscription.running.length;
    if (running === shown) return;
    shown = running;
    console.log(`partitions ${running}`);
  }, 10);
  Deno.addSignalListener("SIGTERM", () => {
    clearInterval(show);
    void store.close().then(() => Deno.exit(0));
  });
}
