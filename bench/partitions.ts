/**
 * Partitioned subscriptions for `deno task bench`: the catch-up of one subscription of 16
 * partitions over a PostgreSQL log, run by 1, 2 and 4 worker processes, with handlers
 * that await 1 ms of I/O per event: through one connection per worker (the I/O of a
 * worker one at a time: what more workers are for), and each on its own (one worker
 * already overlaps the I/O of all its partitions and streams, so more workers add only
 * CPU). The baseline of each row is one worker, measured in the same run; the time runs
 * from the moment every worker is told to go until every partition has caught up (the
 * slowest worker), so joining and dealing out is included.
 *
 * @module
 */

import postgres from "postgres";
import { EventStore } from "../stores/event_store.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { type BenchRow, median } from "./_report.ts";
import { events } from "./_partition_events.ts";

const PG_URL = Deno.env.get("EVENTFOLD_PG_URL") ?? "postgres://root@127.0.0.1:5432/test";
const STREAMS = 2_000;

/** How the handlers' I/O goes: see `_partition_worker.ts`. */
type IO = "one-connection" | "concurrent";

/** Events appended, by how the I/O goes (one at a time per worker is slow: fewer events). */
function totals(quick: boolean): Record<IO, number> {
  return quick
    ? { "one-connection": 4_000, concurrent: 20_000 }
    : { "one-connection": 10_000, concurrent: 100_000 };
}
const root = new URL("..", import.meta.url).pathname;

/** Starts `count` workers, waits until each is ready, tells them to go and times them. */
async function run(
  schema: string,
  name: string,
  head: string,
  total: number,
  count: number,
  io: IO,
): Promise<number> {
  const workers = Array.from({ length: count }, () =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        `${root}deno.json`,
        `${root}bench/_partition_worker.ts`,
        PG_URL,
        schema,
        name,
        head,
        io,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn());
  const outputs = workers.map((worker) => worker.stdout.pipeThrough(new TextDecoderStream()).getReader());
  const next = async (reader: ReadableStreamDefaultReader<string>, want: string) => {
    let text = "";
    while (!text.includes(want)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`a bench worker ended before "${want}": ${text}`);
      text += value;
    }
    return text;
  };
  await Promise.all(outputs.map((reader) => next(reader, "ready")));
  const started = performance.now();
  for (const worker of workers) {
    const writer = worker.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
  }
  const done = await Promise.all(outputs.map((reader) => next(reader, "done")));
  const ms = performance.now() - started;
  const handled = done.reduce((sum, text) => sum + Number(/done (\d+)/.exec(text)![1]), 0);
  if (handled < total) throw new Error(`the ${count} bench workers handled ${handled} of ${total} events`);
  for (const worker of workers) await worker.status;
  return ms;
}

/** Appends `total` events to a fresh schema, then times the catch-up with 1, 2 and 4 workers. */
async function cases(schema: string, io: IO, total: number, quick: boolean): Promise<BenchRow[]> {
  await using store = new EventStore({ adapter: new PostgresAdapter(PG_URL, { schema }), events });
  let head = "";
  for (let done = 0; done < total; done += 1000) {
    const records = await store.pushManyEvents(
      Array.from(
        { length: 1000 },
        (_, i) =>
          store.event({ type: "item:added", stream: `s${(done + i) % STREAMS}`, data: { n: done + i } }),
      ),
    );
    head = records[records.length - 1].position;
  }
  const times = new Map<number, number[]>([[1, []], [2, []], [4, []]]);
  for (let round = 0; round < (quick ? 1 : 3); round++) {
    for (const [count, list] of times) {
      list.push(await run(schema, `bench-${round}-${count}`, head, total, count, io));
    }
  }
  const one = total / (median(times.get(1)!) / 1000);
  return [2, 4].map((count) => ({
    store: "postgres",
    case: `catch-up of ${total} events on ${STREAMS} streams, 16 partitions, 1 ms of I/O per event ` +
      `(${io === "one-connection" ? "through one connection per worker" : "each on its own"}), ` +
      `${count} worker processes (baseline: 1 worker)`,
    unit: "events/s",
    value: total / (median(times.get(count)!) / 1000),
    baseline: one,
    target: count === 4 && io === "one-connection" ? ">= 3x" : undefined,
  }));
}

/**
 * Runs the partition cases (skipped when PostgreSQL cannot be reached).
 *
 * @param options `quick` for a short run
 * @returns the rows
 */
export async function bench(options: { quick: boolean }): Promise<BenchRow[]> {
  const schema = `bench_partitions_${crypto.randomUUID().slice(0, 8)}`;
  const check = postgres(PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await check`SELECT 1`;
  } catch (error) {
    console.error(`partitions bench: skipping PostgreSQL (${(error as Error).message})`);
    await check.end({ timeout: 1 });
    return [];
  }
  try {
    const rows: BenchRow[] = [];
    for (const [io, total] of Object.entries(totals(options.quick)) as [IO, number][]) {
      rows.push(...await cases(`${schema}_${io.replace("-", "_")}`, io, total, options.quick));
    }
    return rows;
  } finally {
    for (const io of ["one_connection", "concurrent"]) {
      await check`DROP SCHEMA IF EXISTS ${check(`${schema}_${io}`)} CASCADE`;
    }
    await check.end({ timeout: 1 });
  }
}

if (import.meta.main) {
  const { renderTable } = await import("./_report.ts");
  console.log(renderTable(await bench({ quick: Deno.args.includes("--quick") })));
}
