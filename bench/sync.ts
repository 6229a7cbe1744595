/**
 * Sync figures for `deno task bench`: events per second from one SQLite store into another
 * through `syncHandler` and `remote()` over HTTP on 127.0.0.1 (a pull and a push, CBOR and
 * NDJSON), against `sync` between the same two stores in one process (no HTTP, no wire
 * encoding) as the baseline. Each figure is the median of repeated runs into a new target.
 *
 * @module
 */

import { z } from "zod";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import { EventStore } from "../stores/event_store.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { hlc, local, remote, sync, syncHandler } from "../sync/mod.ts";
import { type BenchRow, median } from "./_report.ts";

const events = new EventFactory([
  event.type("user:updated").data(z.object({ name: z.string(), email: z.string(), age: z.number() })),
]);

function open(path: string, node: string) {
  return new EventStore({ adapter: new SqliteAdapter(path), events, clock: hlc({ node }) });
}

async function fill(store: EventStore<typeof events>, count: number): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    await store.pushManyEvents(
      Array.from({ length: Math.min(500, count - i) }, (_, k) =>
        store.event({
          type: "user:updated",
          stream: `user-${(i + k) % 1000}`,
          data: { name: `user ${i + k}`, email: `u${i + k}@example.com`, age: (i + k) % 90 },
        })),
    );
  }
}

/**
 * Runs the sync cases.
 *
 * @param options `quick` for fewer events and repeats
 * @returns the rows
 */
export async function bench(options: { quick: boolean }): Promise<BenchRow[]> {
  const count = options.quick ? 5_000 : 50_000;
  const repeats = options.quick ? 2 : 3;
  const dir = await Deno.makeTempDir({ prefix: "eventfold-bench-sync-" });
  const source = open(`${dir}/source.db`, "source");
  await fill(source, count);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, syncHandler(source));
  const url = `http://127.0.0.1:${server.addr.port}/sync`;
  let run = 0;
  const rate = async (work: (target: EventStore<typeof events>) => Promise<number>): Promise<number> => {
    const target = open(`${dir}/target-${run++}.db`, `target-${run}`);
    try {
      const started = performance.now();
      const moved = await work(target);
      const seconds = (performance.now() - started) / 1000;
      if (moved !== count) throw new Error(`synced ${moved} of ${count} events`);
      return count / seconds;
    } finally {
      await target.close();
    }
  };
  const cases: [string, (target: EventStore<typeof events>) => Promise<number>][] = [
    ["pull over HTTP, CBOR", async (t) => (await sync({ from: remote(url), to: t })).imported],
    [
      "pull over HTTP, NDJSON",
      async (t) => (await sync({ from: remote(url, { format: "ndjson" }), to: t })).imported,
    ],
    // A push: the target is served and the source is read here.
    ["push over HTTP, CBOR", async (t) => {
      const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, syncHandler(t));
      try {
        const to = remote(`http://127.0.0.1:${http.addr.port}/sync`);
        return (await sync({ from: local(source, { id: `bench-${run}` }), to })).imported;
      } finally {
        await http.shutdown();
      }
    }],
  ];
  const rows: BenchRow[] = [];
  try {
    for (const [name, work] of cases) {
      const http: number[] = [];
      const inProcess: number[] = [];
      for (let i = 0; i < repeats; i++) {
        http.push(await rate(work));
        inProcess.push(
          await rate(async (t) =>
            (await sync({ from: local(source, { id: `bench-${run}` }), to: t })).imported
          ),
        );
      }
      rows.push({
        store: "sqlite",
        case: `sync ${name}, ${count.toLocaleString("en-US")} events, pages of 500`,
        unit: "events/s",
        value: median(http),
        baseline: median(inProcess),
        target: "baseline: sync in one process, no HTTP",
      });
    }
  } finally {
    await server.shutdown();
    await source.close();
    await Deno.remove(dir, { recursive: true });
  }
  return rows;
}
