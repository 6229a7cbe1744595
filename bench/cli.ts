/**
 * Command-line figures for `deno task bench`: `eventfold export` (SQLite -> NDJSON file),
 * `eventfold import` (NDJSON file -> new SQLite store) and `eventfold copy` both ways
 * between SQLite and PostgreSQL (`EVENTFOLD_PG_URL` or the local test database, on a
 * throwaway schema; left out with a note when the server is unreachable), each run as
 * the real CLI in a subprocess, with its rate in events/s and its peak resident memory (read from
 * `/proc/<pid>/status` while it runs, on Linux). The store is seeded once: 100k events
 * with `--quick`, 1M otherwise, over 10k streams. Memory must not grow with the count:
 * both commands stream page by page and import in chunks of 1000.
 *
 * @module
 */

import { EventStore } from "../stores/event_store.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { PermissiveEvents } from "../cli/_permissive_events.ts";
import type { BenchRow } from "./_report.ts";
import { delay } from "../async.ts";

const PG_URL = Deno.env.get("EVENTFOLD_PG_URL") ?? "postgres://root@127.0.0.1:5432/test";
const ROOT = new URL("..", import.meta.url).pathname;
const STREAMS = 10_000;
const BATCH = 1000;

async function seed(path: string, count: number): Promise<void> {
  await using store = new EventStore({
    adapter: new SqliteAdapter(path),
    events: new PermissiveEvents(),
    unknownEvents: "pass",
  });
  const started = Date.UTC(2026, 0, 1);
  for (let done = 0; done < count; done += BATCH) {
    const batch = [];
    for (let i = done; i < Math.min(count, done + BATCH); i++) {
      batch.push(store.event({
        type: i % 10 === 0 ? "user:created" : "user:updated",
        stream: `user-${i % STREAMS}`,
        created: new Date(started + i).toISOString(),
        data: {
          name: `user ${i}`,
          email: `u${i}@example.com`,
          age: i % 90,
          tags: ["a", "b"],
          at: new Date(started + i),
        },
        meta: { by: "bench" },
      } as never));
    }
    await store.pushManyEvents(batch);
  }
}

async function peakRss(pid: number): Promise<number | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** Runs the CLI and returns its wall time and the highest peak RSS seen. */
async function timed(args: string[]): Promise<{ ms: number; rss: number | undefined }> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/mod.ts", ...args],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let rss: number | undefined;
  let running = true;
  const watcher = (async () => {
    while (running) {
      rss = Math.max(rss ?? 0, (await peakRss(child.pid)) ?? 0) || undefined;
      await delay(50);
    }
  })();
  const { code, stderr } = await child.output();
  running = false;
  await watcher;
  if (code !== 0) throw new Error(`eventfold ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`);
  return { ms: performance.now() - started, rss };
}

/**
 * Measures export and import rates and memory.
 *
 * @param options `quick`: 100k events instead of 1M
 * @returns the rows
 */
export async function bench({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const count = quick ? 100_000 : 1_000_000;
  const label = quick ? "100k" : "1M";
  const dir = await Deno.makeTempDir({ prefix: "eventfold-bench-cli-" });
  try {
    await seed(`${dir}/source.db`, count);
    const exported = await timed([
      "export",
      "--store",
      `sqlite:${dir}/source.db`,
      "--output",
      `${dir}/events.ndjson`,
    ]);
    const imported = await timed(["import", "--store", `sqlite:${dir}/target.db`, `${dir}/events.ndjson`]);
    const mb = (bytes: number | undefined) => bytes === undefined ? NaN : Math.round(bytes / 1024 / 1024);
    const rows: BenchRow[] = [
      {
        store: "sqlite",
        case: `cli export ${label} events to NDJSON`,
        unit: "events/s",
        value: (count * 1000) / exported.ms,
      },
      {
        store: "sqlite",
        case: `cli import ${label} events from NDJSON (new store)`,
        unit: "events/s",
        value: (count * 1000) / imported.ms,
      },
    ];
    if (exported.rss !== undefined) {
      rows.push({
        store: "sqlite",
        case: `cli export ${label} events, peak RSS`,
        unit: "MB",
        value: mb(exported.rss),
        target: "flat in N (streamed)",
      });
    }
    rows.push(...await copyRows(`${dir}/source.db`, `${dir}/back.db`, count, label));
    if (imported.rss !== undefined) {
      rows.push({
        store: "sqlite",
        case: `cli import ${label} events, peak RSS`,
        unit: "MB",
        value: mb(imported.rss),
        target: "flat in N (chunked)",
      });
    }
    return rows;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function dropSchema(schema: string): Promise<void> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** `eventfold copy` SQLite -> PostgreSQL (new schema) and back into a new SQLite file. */
async function copyRows(source: string, back: string, count: number, label: string): Promise<BenchRow[]> {
  const schema = `eventfold_bench_cli_${Deno.pid}`;
  const pg = `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}schema=${schema}`;
  try {
    await dropSchema(schema);
  } catch (error) {
    console.error(`bench cli: no copy figures, PostgreSQL is unreachable: ${(error as Error).message}`);
    return [];
  }
  try {
    const to = await timed(["copy", "--from", `sqlite:${source}`, "--to", pg]);
    const from = await timed(["copy", "--from", pg, "--to", `sqlite:${back}`]);
    return [
      {
        store: "postgres",
        case: `cli copy ${label} events SQLite -> PostgreSQL (new schema)`,
        unit: "events/s",
        value: (count * 1000) / to.ms,
        target: ">= 20,000 events/s",
      },
      {
        store: "postgres",
        case: `cli copy ${label} events PostgreSQL -> SQLite (new store)`,
        unit: "events/s",
        value: (count * 1000) / from.ms,
      },
    ];
  } finally {
    await dropSchema(schema);
  }
}

if (import.meta.main) {
  const { renderTable } = await import("./_report.ts");
  console.log(renderTable(await bench({ quick: Deno.args.includes("--quick") })));
}
