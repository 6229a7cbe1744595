/**
 * Store-side type filters for `deno task bench`: a subscription whose projector handles
 * 1% of the log's types catches up, reading only those types in SQL, against the same
 * projector behind a wrapper that does not tell its types (so the whole log is read and
 * decoded), in the same run, on SQLite and PostgreSQL.
 *
 * @module
 */

import postgres from "postgres";
import { z } from "zod";
import type { Adapter } from "../contract/mod.ts";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import { Projector } from "../projectors/projector.ts";
import { EventStore } from "../stores/event_store.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { type BenchRow, median } from "./_report.ts";

const PG_URL = Deno.env.get("EVENTFOLD_PG_URL") ?? "postgres://root@127.0.0.1:5432/test";
const TYPES = Array.from({ length: 100 }, (_, i) => `t${i}`);
const events = new EventFactory(TYPES.map((type) => event.type(type).data(z.object({ n: z.number() }))));
type Store = EventStore<typeof events, Adapter>;

async function fill(store: Store, total: number): Promise<string> {
  let last = "";
  for (let done = 0; done < total; done += 1000) {
    const records = await store.pushManyEvents(
      Array.from(
        { length: Math.min(1000, total - done) },
        (_, i) =>
          store.event({
            type: TYPES[(done + i) % TYPES.length] as "t0",
            stream: `s${(done + i) % 500}`,
            data: { n: i },
          }),
      ),
    );
    last = records[records.length - 1].position;
  }
  return last;
}

/** Catches up with a projector of `t0` only; `filtered: false` hides its types from the subscription. */
async function catchUp(store: Store, head: string, filtered: boolean, run: number): Promise<number> {
  let handled = 0;
  const projector = new Projector<typeof events>();
  projector.on("t0", () => void handled++);
  const given = filtered
    ? projector
    : { push: projector.push.bind(projector) } as unknown as Projector<typeof events>;
  const started = performance.now();
  await using subscription = store.subscribe(`${filtered ? "filtered" : "whole"}-${run}`, given, {
    pollInterval: 20,
  });
  await subscription.waitFor(head, { timeout: 600_000 });
  const ms = performance.now() - started;
  if (handled === 0) throw new Error("the projector handled nothing");
  return ms;
}

async function cases(name: string, adapter: Adapter, quick: boolean): Promise<BenchRow> {
  const total = quick ? 20_000 : 100_000;
  await using store: Store = new EventStore({ adapter, events });
  const head = await fill(store, total);
  const filtered: number[] = [];
  const whole: number[] = [];
  for (let run = 0; run < (quick ? 1 : 3); run++) {
    filtered.push(await catchUp(store, head, true, run));
    whole.push(await catchUp(store, head, false, run));
  }
  return {
    store: name,
    case: `catch-up of ${total} events, projector of 1% of the types (baseline: the log read whole)`,
    unit: "events/s",
    value: total / (median(filtered) / 1000),
    baseline: total / (median(whole) / 1000),
    target: ">= 10x",
  };
}

/**
 * Runs the filter cases.
 *
 * @param options `quick` for a short run
 * @returns the rows
 */
export async function bench(options: { quick: boolean }): Promise<BenchRow[]> {
  const dir = await Deno.makeTempDir({ prefix: "eventfold_bench_filters_" });
  const rows: BenchRow[] = [];
  try {
    rows.push(await cases("sqlite", new SqliteAdapter(`${dir}/f.db`), options.quick));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const schema = `bench_filters_${crypto.randomUUID().slice(0, 8)}`;
  const check = postgres(PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await check`SELECT 1`;
  } catch (error) {
    console.error(`filters bench: skipping PostgreSQL (${(error as Error).message})`);
    await check.end({ timeout: 1 });
    return rows;
  }
  try {
    rows.push(await cases("postgres", new PostgresAdapter(PG_URL, { schema }), options.quick));
  } finally {
    await check`DROP SCHEMA IF EXISTS ${check(schema)} CASCADE`;
    await check.end({ timeout: 1 });
  }
  return rows;
}

if (import.meta.main) {
  const { renderTable } = await import("./_report.ts");
  console.log(renderTable(await bench({ quick: Deno.args.includes("--quick") })));
}
