/**
 * Workflow figures for `deno task bench`: inputs per second through a trivial workflow
 * (one state record per input) against, in the same run, a subscription whose handler
 * appends one event per input (a process manager built by hand, without exactly-once
 * effects), on SQLite and PostgreSQL; and how late timers fire after they are due.
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
import { Workflow } from "../workflows/workflow.ts";
import { type BenchRow, median, percentile } from "./_report.ts";

const PG_URL = Deno.env.get("EVENTFOLD_PG_URL") ?? "postgres://root@127.0.0.1:5432/test";
const events = new EventFactory([
  event.type("job:started").data(z.object({ job: z.string(), wait: z.number() })),
  event.type("job:noted").data(z.object({ job: z.string() })),
  event.type("job:due").data(z.object({ job: z.string(), due: z.number() })),
]);
type Store = EventStore<typeof events, Adapter>;

/** Counts its inputs; with `wait`, sets a timer that long. */
function jobs(name: string): Workflow<typeof events, number, "job:started" | "job:due"> {
  return new Workflow<typeof events, number, "job:started" | "job:due">({
    name,
    types: ["job:started", "job:due"],
    key: (record) => record.data.job,
    initial: () => 0,
    evolve: (count) => count + 1,
    react: (_count, record, ctx) => {
      if (record.type === "job:started" && record.data.wait >= 0) {
        const due = Date.parse(ctx.now) + record.data.wait;
        ctx.schedule({
          id: "wait",
          at: new Date(due),
          event: { type: "job:due", stream: `job-${record.data.job}`, data: { job: record.data.job, due } },
        });
      }
    },
  });
}

async function fill(store: Store, total: number, wait: (i: number) => number): Promise<string> {
  let last = "";
  for (let done = 0; done < total; done += 500) {
    const records = await store.pushManyEvents(
      Array.from({ length: Math.min(500, total - done) }, (_, i) =>
        store.event({
          type: "job:started",
          stream: `job-${done + i}`,
          data: { job: String(done + i), wait: wait(done + i) },
        })),
    );
    last = records[records.length - 1].position;
  }
  return last;
}

async function throughWorkflow(store: Store, total: number, run: number): Promise<number> {
  const head = await fill(store, total, () => -1);
  const started = performance.now();
  await using flow = store.runWorkflow(jobs(`bench-${run}`), { pollInterval: 20 });
  await flow.subscription.waitFor(head, { timeout: 600_000 });
  return total / ((performance.now() - started) / 1000);
}

async function byHand(store: Store, total: number, run: number): Promise<number> {
  const head = await fill(store, total, () => -1);
  const projector = new Projector<typeof events>();
  projector.all("job:started", async (record) => {
    await store.pushEvent(
      store.event({ type: "job:noted", stream: `note-${record.data.job}`, data: record.data }),
    );
  });
  const started = performance.now();
  await using subscription = store.subscribe(`by-hand-${run}`, projector, { pollInterval: 20 });
  await subscription.waitFor(head, { timeout: 600_000 });
  return total / ((performance.now() - started) / 1000);
}

/** Timers due over two seconds, fired by a loop looking every 100 ms: how late each fired. */
async function timerDelays(store: Store, count: number): Promise<number[]> {
  const late: number[] = [];
  const done = Promise.withResolvers<void>();
  store.onEventsInserted((records) => {
    const now = Date.now();
    for (const record of records) {
      if (record.type !== "job:due") continue;
      late.push(now - (record.data as { due: number }).due);
      if (late.length === count) done.resolve();
    }
  });
  await using flow = store.runWorkflow(jobs("timers"), { pollInterval: 20, timerInterval: 100 });
  await fill(store, count, (i) => 500 + (i * 2000) / count);
  const timeout = setTimeout(() => done.reject(new Error(`${late.length} of ${count} timers fired`)), 60_000);
  await done.promise.finally(() => clearTimeout(timeout));
  void flow;
  return late;
}

async function cases(name: string, open: () => Adapter, quick: boolean): Promise<BenchRow[]> {
  const total = quick ? 300 : 2000;
  const repeats = quick ? 1 : 3;
  const workflow: number[] = [];
  const hand: number[] = [];
  for (let run = 0; run < repeats; run++) {
    for (const side of run % 2 === 0 ? ["workflow", "hand"] : ["hand", "workflow"]) {
      await using store: Store = new EventStore({ adapter: open(), events });
      if (side === "workflow") workflow.push(await throughWorkflow(store, total, run));
      else hand.push(await byHand(store, total, run));
    }
  }
  await using store: Store = new EventStore({ adapter: open(), events });
  const late = await timerDelays(store, quick ? 50 : 200);
  return [
    {
      store: name,
      case: `workflow inputs, ${total} one-input instances (baseline: a handler appending one event each)`,
      unit: "inputs/s",
      value: median(workflow),
      baseline: median(hand),
      target: "reported",
    },
    {
      store: name,
      case: "timer fired after it was due, p50 (timerInterval 100 ms)",
      unit: "ms",
      value: percentile(late, 50),
      target: `p99 ${percentile(late, 99).toFixed(1)} ms (reported)`,
    },
  ];
}

/**
 * Runs the workflow cases on SQLite and (when reachable) PostgreSQL.
 *
 * @param options `quick` for a short run
 * @returns the rows
 */
export async function bench(options: { quick: boolean }): Promise<BenchRow[]> {
  const dir = await Deno.makeTempDir({ prefix: "eventfold_bench_workflows_" });
  const rows: BenchRow[] = [];
  let files = 0;
  try {
    rows.push(...await cases("sqlite", () => new SqliteAdapter(`${dir}/w${files++}.db`), options.quick));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const check = postgres(PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  let reachable = true;
  try {
    await check`SELECT 1`;
  } catch (error) {
    reachable = false;
    console.error(`workflows bench: skipping PostgreSQL (${(error as Error).message})`);
  } finally {
    await check.end({ timeout: 1 });
  }
  if (!reachable) return rows;
  const schemas: string[] = [];
  try {
    rows.push(
      ...await cases("postgres", () => {
        const schema = `bench_wf_${crypto.randomUUID().slice(0, 8)}`;
        schemas.push(schema);
        return new PostgresAdapter(PG_URL, { schema });
      }, options.quick),
    );
  } finally {
    const drop = postgres(PG_URL, { max: 1, onnotice: () => {} });
    for (const schema of schemas) await drop`DROP SCHEMA IF EXISTS ${drop(schema)} CASCADE`;
    await drop.end();
  }
  return rows;
}

if (import.meta.main) {
  const { renderTable } = await import("./_report.ts");
  console.log(renderTable(await bench({ quick: Deno.args.includes("--quick") })));
}
