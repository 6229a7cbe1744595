/**
 * Subscription figures for `deno task bench`, per store (memory, a SQLite file,
 * PostgreSQL when reachable):
 *
 * - catch-up throughput: events per second through a trivial projector (one `all`
 *   handler counting), from subscribe until the subscription has handled the last event
 *   (pages of 1000, a checkpoint saved per page);
 * - live delay: from the commit of an event to its handler, p50 and p99, one event at a
 *   time. "Same store": the writer is the subscription's own `EventStore` (woken by its
 *   commit hook). "Another connection": the writer is a second adapter on the same file
 *   or database, as another process would be (woken by the adapter's `watch`: SQLite
 *   checks `data_version` every 50 ms, PostgreSQL uses `LISTEN/NOTIFY`); the clock starts
 *   when the writer's append returned, and events come at random moments.
 *
 * Server: `EVENTFOLD_PG_URL` or `postgres://root@127.0.0.1:5432/test`, on a throwaway schema.
 *
 * @module
 */

import postgres from "postgres";
import { z } from "zod";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import { Projector } from "../projectors/projector.ts";
import type { Adapter } from "../contract/mod.ts";
import { EventStore } from "../stores/event_store.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { type BenchRow, median, percentile } from "./_report.ts";
import { delay } from "../async.ts";

const PG_URL = Deno.env.get("EVENTFOLD_PG_URL") ?? "postgres://root@127.0.0.1:5432/test";
const events = new EventFactory([
  event.type("item:added").data(z.object({ n: z.number(), note: z.string() })),
]);
type Store = EventStore<typeof events, Adapter>;

interface Target {
  readonly name: string;
  /** Opens an adapter on the target's one database (a new connection each time). */
  open(): Adapter;
  /** Removes what the run made. */
  dispose(): Promise<void>;
}

async function targets(): Promise<Target[]> {
  const directory = await Deno.makeTempDir({ prefix: "eventfold_bench_subscriptions_" });
  const list: Target[] = [];
  const memory = new MemoryAdapter();
  list.push({
    name: "memory",
    open: () => memory,
    dispose: () => Promise.resolve(),
  });
  list.push({
    name: "sqlite",
    open: () => new SqliteAdapter(`${directory}/events.db`),
    dispose: () => Deno.remove(directory, { recursive: true }),
  });
  const schema = `bench_sub_${crypto.randomUUID().slice(0, 8)}`;
  const sql = postgres(PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    list.push({
      name: "postgres",
      open: () => new PostgresAdapter(PG_URL, { schema }),
      dispose: async () => {
        const drop = postgres(PG_URL, { max: 1, onnotice: () => {} });
        await drop`DROP SCHEMA IF EXISTS ${drop(schema)} CASCADE`;
        await drop.end();
      },
    });
  } catch (error) {
    console.error(`subscriptions bench: skipping PostgreSQL (${(error as Error).message})`);
  } finally {
    await sql.end({ timeout: 1 });
  }
  return list;
}

async function fill(store: Store, total: number): Promise<string> {
  let last = "";
  for (let done = 0; done < total; done += 1000) {
    const records = await store.pushManyEvents(
      Array.from({ length: Math.min(1000, total - done) }, (_, i) =>
        store.event({
          type: "item:added",
          stream: `s${(done + i) % 100}`,
          data: { n: done + i, note: "a short note" },
        })),
    );
    last = records[records.length - 1].position;
  }
  return last;
}

async function catchUp(store: Store, head: string, total: number, run: number): Promise<number> {
  let handled = 0;
  const projector = new Projector<typeof events>();
  projector.all("item:added", () => void handled++);
  const started = performance.now();
  const subscription = store.subscribe(`catch-up-${run}`, projector);
  await subscription.waitFor(head, { timeout: 600_000 });
  const seconds = (performance.now() - started) / 1000;
  await subscription.stop();
  if (handled !== total) throw new Error(`handled ${handled} of ${total}`);
  return total / seconds;
}

async function liveDelays(
  subscriber: Store,
  writer: Store,
  samples: number,
  name: string,
): Promise<number[]> {
  const committed = new Map<string, number>();
  const delays: number[] = [];
  const handled = new Map<string, () => void>();
  const projector = new Projector<typeof events>();
  projector.all("item:added", (record) => {
    const at = performance.now();
    const since = committed.get(record.id);
    if (since !== undefined) delays.push(Math.max(0, at - since));
    handled.get(record.id)?.();
  });
  // Same store: its commit hook runs right after the commit, before the subscription's.
  const hook = writer === subscriber
    ? writer.onEventsInserted((records) => {
      for (const record of records) committed.set(record.id, performance.now());
    })
    : undefined;
  // Start at the head: only the live events are measured.
  const head = (await subscriber.stats()).head;
  if (head !== null) await subscriber.checkpoints.set(name, head, { expected: null });
  const subscription = subscriber.subscribe(name, projector);
  for (let i = 0; i < samples; i++) {
    // Events of another process arrive at any moment, not just after a wake-up check.
    if (hook === undefined) await delay(Math.random() * 50);
    const pending = writer.event({ type: "item:added", stream: "live", data: { n: i, note: "live" } });
    const done = new Promise<void>((resolve) => handled.set(pending.id, resolve));
    await writer.pushEvent(pending);
    if (hook === undefined && !committed.has(pending.id)) committed.set(pending.id, performance.now());
    await done;
    handled.delete(pending.id);
  }
  hook?.unsubscribe();
  await subscription.stop();
  return delays;
}

/**
 * Runs the subscription benchmarks.
 *
 * @param options `quick` for fewer events and samples
 * @returns the rows
 */
export async function bench(options: { quick: boolean }): Promise<BenchRow[]> {
  const total = options.quick ? 20_000 : 100_000;
  const runs = options.quick ? 1 : 3;
  const samples = options.quick ? 50 : 300;
  const rows: BenchRow[] = [];
  for (const target of await targets()) {
    const store: Store = new EventStore({ adapter: target.open(), events });
    const other: Store = new EventStore({ adapter: target.open(), events });
    try {
      const head = await fill(store, total);
      const rates: number[] = [];
      for (let run = 0; run < runs; run++) rates.push(await catchUp(store, head, total, run));
      rows.push({
        store: target.name,
        case: `subscription catch-up, ${total} events, trivial projector`,
        unit: "events/s",
        value: median(rates),
      });
      const same = await liveDelays(store, store, samples, "live-same");
      rows.push(
        {
          store: target.name,
          case: "subscription live delay p50, same store",
          unit: "ms",
          value: percentile(same, 50),
        },
        {
          store: target.name,
          case: "subscription live delay p99, same store",
          unit: "ms",
          value: percentile(same, 99),
        },
      );
      if (target.name !== "memory") {
        const across = await liveDelays(store, other, samples, "live-other");
        rows.push(
          {
            store: target.name,
            case: "subscription live delay p50, another connection",
            unit: "ms",
            value: percentile(across, 50),
          },
          {
            store: target.name,
            case: "subscription live delay p99, another connection",
            unit: "ms",
            value: percentile(across, 99),
          },
        );
      }
    } finally {
      await store.close();
      if (target.name !== "memory") await other.close();
      await target.dispose();
    }
  }
  return rows;
}

if (import.meta.main) {
  const { renderTable } = await import("./_report.ts");
  console.log(renderTable(await bench({ quick: Deno.args.includes("--quick") })));
}
