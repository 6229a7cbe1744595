/**
 * A subscriber process for the multi-process subscription tests: runs subscription
 * `<name>` over a SQLite file or a PostgreSQL schema, with a read model of two counter
 * tables in the same database, `applied` (per event) and `sums` (per stream), and prints
 * its state changes and progress on stdout.
 *
 * Usage: `deno run -A tests/_subscriber.ts <sqlite:PATH | postgres:SCHEMA> <name> <owner> [flags]`
 *
 * - `--tx`: handlers write through the subscription's transaction (exactly once);
 *   otherwise each event is written in a transaction of its own (at least once);
 * - `--slow`: pauses now and then, so a catch-up lasts long enough to be killed in;
 * - `--until-caught-up`: exits once every event stored at start is handled;
 * - `--stamp EPOCH`: `applied` keys are `id|owner` holding the ms since EPOCH when handled.
 *
 * @module
 */

import { z } from "zod";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import { Projector } from "../projectors/projector.ts";
import type { Adapter } from "../contract/mod.ts";
import { EventStore } from "../stores/event_store.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { txTable } from "../testing/_conformance_read_model.ts";
import { PG_URL } from "./_postgres_env.ts";
import { delay } from "../async.ts";

/** The events the subscription tests write. */
export const events = new EventFactory([event.type("item:added").data(z.object({ n: z.number().int() }))]);

/**
 * Opens the adapter a target names.
 *
 * @param target `sqlite:PATH` or `postgres:SCHEMA`
 */
export function openTarget(target: string): Adapter {
  if (target.startsWith("sqlite:")) return new SqliteAdapter(target.slice("sqlite:".length));
  if (target.startsWith("postgres:")) {
    return new PostgresAdapter(PG_URL, { schema: target.slice("postgres:".length) });
  }
  throw new TypeError(`unknown target ${target}`);
}

if (import.meta.main) {
  const [target, name, owner, ...flags] = Deno.args;
  const tx = flags.includes("--tx");
  const slow = flags.includes("--slow");
  const stampAt = flags.indexOf("--stamp");
  const epoch = stampAt >= 0 ? Number(flags[stampAt + 1]) : undefined;
  const store = new EventStore({ adapter: openTarget(target), events });
  const adapter = store.adapter;
  const applied = await txTable(adapter, "applied");
  const sums = await txTable(adapter, "sums");
  let handled = 0;
  const projector = new Projector<typeof events>();
  const subscription = store.subscribe(name, projector, {
    transactional: tx,
    owner,
    pollInterval: 100,
    leaseInterval: 100,
    leaseTtl: 1000,
    onError: (error, context) => console.error(`${context.action}:`, error),
  });
  projector.on("item:added", async (record) => {
    const write = async (handle: unknown) => {
      if (epoch === undefined) await applied.add(handle, record.id, 1);
      else await applied.add(handle, `${record.id}|${owner}`, Date.now() - epoch);
      await sums.add(handle, record.stream, record.data.n);
    };
    if (tx) await write(subscription.tx());
    else await adapter.transaction((transaction) => write(transaction.handle));
    if (++handled % 500 === 0) console.log(`handled ${handled}`);
    if (slow && handled % 100 === 0) await delay(20);
  });
  let shown = "";
  const show = setInterval(() => {
    if (subscription.state === shown) return;
    shown = subscription.state;
    console.log(`state ${shown}`);
  }, 10);
  const finish = async () => {
    clearInterval(show);
    await store.close();
  };
  Deno.addSignalListener("SIGTERM", () => void finish().then(() => Deno.exit(0)));
  if (flags.includes("--until-caught-up")) {
    const { head } = await store.stats();
    if (head !== null) await subscription.waitFor(head, { timeout: 120_000 });
    console.log("caught up");
    await finish();
    Deno.exit(0);
  }
}
