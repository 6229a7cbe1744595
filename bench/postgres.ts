/**
 * PostgreSQL figures for `deno task bench`: the store (an `EventStore` over a
 * `PostgresAdapter`) against postgres.js used directly on an identical table (same
 * columns, indexes and defaults, made by the adapter's own migration), with the same
 * UUIDv7 ids and CBOR payloads, in the same run. The raw side is the fastest plain use
 * of the driver: one multi-row INSERT per batch, revisions kept in memory (a single
 * writer may), no locking, no notification. Store and raw runs alternate; every figure
 * is a median.
 *
 * Server: `EVENTFOLD_PG_URL` or `postgres://root@127.0.0.1:5432/test`. Each run makes two
 * throwaway schemas and drops them.
 *
 * @module
 */

import postgres from "postgres";
import { z } from "zod";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import { uuidv7 } from "../events/id.ts";
import { cborCodec } from "../stores/codec.ts";
import { EventStore } from "../stores/event_store.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { type BenchRow, median, percentile } from "./_report.ts";
import { delay } from "../async.ts";
import { payload } from "./_users.ts";

const URL = Deno.env.get("EVENTFOLD_PG_URL") ?? "postgres://root@127.0.0.1:5432/test";
const CLIENTS = 16;

const events = new EventFactory([
  event.type("user:updated").data(z.object({
    name: z.string(),
    email: z.string(),
    age: z.number(),
    tags: z.array(z.string()),
  })),
]);

const COLUMNS = [
  "id",
  "stream",
  "type",
  "revision",
  "created",
  "outdated",
  "imported",
  "data",
  "meta",
] as const;

interface RawRow {
  id: string;
  stream: string;
  type: string;
  revision: number;
  created: string;
  outdated: boolean;
  imported: boolean;
  data: Uint8Array;
  meta: null;
}

function rawRow(stream: string, revision: number, i: number): RawRow {
  return {
    id: uuidv7(),
    stream,
    type: "user:updated",
    revision,
    created: new Date().toISOString(),
    outdated: false,
    imported: false,
    data: cborCodec.encode(payload(i)),
    meta: null,
  };
}

/**
 * Batched appends of 50 events, through the store and raw, one batch each in turn so
 * both sides run under the same machine load. Returns events/s of each side.
 */
async function batches(
  store: EventStore<typeof events>,
  sql: postgres.Sql,
  rawSchema: string,
  calls: number,
): Promise<{ store: number; raw: number }> {
  const streams = Array.from({ length: 200 }, () => uuidv7());
  const revisions = new Map<string, number>();
  let storeMs = 0;
  let rawMs = 0;
  for (let call = 0; call < calls; call++) {
    const stream = streams[call % streams.length];
    const batch = new Array(50);
    for (let i = 0; i < 50; i++) batch[i] = { type: "user:updated", stream, data: payload(i) };
    let started = performance.now();
    await store.pushManyEvents(batch);
    storeMs += performance.now() - started;

    started = performance.now();
    let revision = revisions.get(stream) ?? 0;
    const rows = new Array<RawRow>(50);
    for (let i = 0; i < 50; i++) rows[i] = rawRow(stream, ++revision, i);
    await sql`INSERT INTO ${sql(rawSchema)}.events ${sql(rows, ...COLUMNS)}`;
    revisions.set(stream, revision);
    rawMs += performance.now() - started;
  }
  return { store: (calls * 50) / (storeMs / 1000), raw: (calls * 50) / (rawMs / 1000) };
}

interface LoadResult {
  rate: number;
  latencies: number[];
  lags: number[];
}

/**
 * `CLIENTS` concurrent writers, each appending single events to its own stream with the
 * expected revision, while one reader tails the log (woken by NOTIFY, polling as well).
 */
async function loadStore(
  store: EventStore<typeof events>,
  reader: PostgresAdapter,
  perClient: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const committed = new Map<string, number>();
  const lags: number[] = [];
  const total = CLIENTS * perClient;
  let done = false;
  let wake: (() => void) | undefined;
  const stop = reader.watch(() => wake?.());
  const start = (await reader.stats()).head ?? undefined;
  const tailing = (async () => {
    let cursor = start;
    let seen = 0;
    while (seen < total && !done) {
      const page = await reader.readLog({ direction: "forward", limit: 1000, after: cursor });
      const now = performance.now();
      for (const record of page) {
        const at = committed.get(record.id);
        // The reader may see an event before its writer hears back from COMMIT.
        lags.push(at === undefined ? 0 : Math.max(0, now - at));
      }
      seen += page.length;
      if (page.length > 0) {
        cursor = page.at(-1)!.position;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  })();
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
    const stream = `load-${client}-${uuidv7()}`;
    for (let n = 0; n < perClient; n++) {
      const record = store.event({ type: "user:updated", stream, data: payload(n) });
      const t0 = performance.now();
      await store.pushEvent(record, { expectedRevision: n });
      const t1 = performance.now();
      latencies.push(t1 - t0);
      committed.set(record.id, t1);
    }
  }));
  const rate = total / ((performance.now() - started) / 1000);
  const deadline = Date.now() + 10_000;
  while (lags.length < total && Date.now() < deadline) await delay(10);
  done = true;
  wake?.();
  await tailing;
  stop();
  return { rate, latencies, lags };
}

/** The same single-event inserts by `CLIENTS` concurrent postgres.js callers, no store. */
async function loadRaw(sql: postgres.Sql, schema: string, perClient: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
    const stream = `load-${client}-${uuidv7()}`;
    for (let n = 0; n < perClient; n++) {
      const row = rawRow(stream, n + 1, n);
      const t0 = performance.now();
      await sql`INSERT INTO ${sql(schema)}.events ${sql(row, ...COLUMNS)}`;
      latencies.push(performance.now() - t0);
    }
  }));
  return { rate: (CLIENTS * perClient) / ((performance.now() - started) / 1000), latencies, lags: [] };
}

/**
 * Runs the PostgreSQL benchmark.
 *
 * @param options `quick` for a short run (smaller counts, fewer repeats)
 * @returns one row per case
 */
export async function bench(options: { quick: boolean }): Promise<BenchRow[]> {
  const { quick } = options;
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const storeSchema = `bench_store_${suffix}`;
  const rawSchema = `bench_raw_${suffix}`;
  const sql = postgres(URL, { max: CLIENTS, onnotice: () => {} });
  const adapter = new PostgresAdapter(sql, { schema: storeSchema });
  const rawTables = new PostgresAdapter(sql, { schema: rawSchema });
  const reader = new PostgresAdapter(URL, { schema: storeSchema });
  const store = new EventStore({ adapter, events });
  try {
    await Promise.all([adapter.open(), rawTables.open(), reader.open()]);
    const repeats = quick ? 3 : 5;
    const calls = quick ? 100 : 400;

    // Warm both sides (JIT, prepared statements, connections) untimed.
    await batches(store, sql, rawSchema, 40);
    const stores: number[] = [];
    const raws: number[] = [];
    for (let n = 0; n < repeats; n++) {
      const run = await batches(store, sql, rawSchema, calls);
      stores.push(run.store);
      raws.push(run.raw);
    }

    const perClient = quick ? 150 : 600;
    await loadRaw(sql, rawSchema, 20);
    const raw = await loadRaw(sql, rawSchema, perClient);
    await loadStore(store, reader, 20);
    const load = await loadStore(store, reader, perClient);

    return [
      {
        store: "postgres",
        case: "append batch 50 x 200 streams",
        unit: "events/s",
        value: median(stores),
        baseline: median(raws),
        target: ">= 0.7x",
      },
      {
        store: "postgres",
        case: `${CLIENTS} clients, 1-event appends with expected revision`,
        unit: "events/s",
        value: load.rate,
        baseline: raw.rate,
        target: "reported",
      },
      {
        store: "postgres",
        case: `${CLIENTS} clients, 1-event append latency p50`,
        unit: "ms",
        value: percentile(load.latencies, 50),
        baseline: percentile(raw.latencies, 50),
        target: "reported",
      },
      {
        store: "postgres",
        case: `${CLIENTS} clients, 1-event append latency p99`,
        unit: "ms",
        value: percentile(load.latencies, 99),
        baseline: percentile(raw.latencies, 99),
        target: "reported",
      },
      {
        store: "postgres",
        case: `tailing reader lag p99 under ${CLIENTS}-client load (commit ack to read)`,
        unit: "ms",
        value: percentile(load.lags, 99),
        target: "reported",
      },
    ];
  } finally {
    await store.close();
    await Promise.all([rawTables.close(), reader.close()]);
    await sql`DROP SCHEMA IF EXISTS ${sql(storeSchema)} CASCADE`;
    await sql`DROP SCHEMA IF EXISTS ${sql(rawSchema)} CASCADE`;
    await sql.end();
  }
}

if (import.meta.main) {
  const { renderTable } = await import("./_report.ts");
  console.log(renderTable(await bench({ quick: Deno.args.includes("--quick") })));
}
