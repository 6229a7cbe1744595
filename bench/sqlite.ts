/**
 * SQLite figures for `deno task bench`: the store (an `EventStore` over a file-backed
 * `SqliteAdapter`) against `node:sqlite` used directly on the same table, indexes,
 * pragmas, UUIDv7 ids and CBOR payloads, in the same run. The raw side is the fastest
 * plain use of the driver: one multi-row INSERT per batch in one transaction, revisions
 * kept in memory where a single writer may, rows read as arrays with only the columns a
 * fold needs. Every figure is the median of repeated runs, store and raw alternating.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { z } from "zod";
import { AggregateRoot } from "../aggregates/aggregate_root.ts";
import { event } from "../events/event.ts";
import { EventFactory, type EventRecordOf } from "../events/factory.ts";
import { uuidv7 } from "../events/id.ts";
import { makeReducer } from "../reducers/make_reducer.ts";
import { cborCodec } from "../stores/codec.ts";
import { EventStore } from "../stores/event_store.ts";
import { EVENTS_TABLE_SQL } from "../stores/sqlite/schema.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { type BenchRow, median } from "./_report.ts";
import { payload, singleAppends } from "./_users.ts";

const userV1 = z.object({
  name: z.string(),
  email: z.string(),
  age: z.number(),
  tags: z.array(z.string()),
});
const events = new EventFactory([event.type("user:updated").data(userV1)]);
type Events = typeof events;

/** The same event at version 2 (a `unit` added), read from version-1 records by one upcast step. */
const eventsV2 = new EventFactory([
  event.type("user:updated").version(2).data(userV1.extend({ unit: z.string() }))
    .upcast(1, ({ data, meta }) => ({ data: { ...data, unit: "years" }, meta }), { data: userV1 }),
]);

const ages = makeReducer<Events, number>((total, record) => total + record.data.age, 0);
const agesV2 = makeReducer<typeof eventsV2, number>(
  (total, record) => record.data.unit === "years" ? total + record.data.age : NaN,
  0,
);

/** An account-like aggregate whose snapshot is the running total. */
class Member extends AggregateRoot<Events> {
  static readonly snapshot = { every: 1000 };
  total = 0;
  with(record: EventRecordOf<Events>): void {
    this.total += record.data.age;
  }
}

const INSERT =
  "INSERT INTO eventfold_events (id, stream, type, revision, data, meta, created, recorded, outdated, imported) VALUES ";

function rawOpen(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
  db.exec(EVENTS_TABLE_SQL);
  return db;
}

function rawInsert(db: DatabaseSync, size: number) {
  const values = Array.from({ length: size }, () => "(?, ?, ?, ?, ?, ?, ?, ?, 0, 0)").join(", ");
  return db.prepare(INSERT + values);
}

function bytesPerEvent(path: string): number {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const row = db.prepare(
      "SELECT (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size()) AS bytes, " +
        "(SELECT count(*) FROM eventfold_events) AS n",
    ).get() as { bytes: number; n: number };
    return row.bytes / row.n;
  } finally {
    db.close();
  }
}

interface Run {
  rate: number;
  path: string;
}

/**
 * Runs the SQLite benchmark.
 *
 * @param options `quick` for a short run (smaller counts, fewer repeats)
 * @returns one row per case
 */
export async function bench(options: { quick: boolean }): Promise<BenchRow[]> {
  const { quick } = options;
  const dir = await Deno.makeTempDir({ prefix: "eventfold_bench_sqlite_" });
  let files = 0;
  const file = () => `${dir}/bench_${files++}.db`;
  const repeats = quick ? 3 : 7;
  const streams = Array.from({ length: 200 }, () => uuidv7());
  try {
    // Batched appends: 50 events per call, calls spread over 200 streams.
    const calls = quick ? 400 : 2000;
    const batchStore = async (): Promise<Run> => {
      const path = file();
      await using store = new EventStore({ adapter: new SqliteAdapter(path), events });
      const started = performance.now();
      for (let call = 0; call < calls; call++) {
        const stream = streams[call % streams.length];
        const batch = new Array(50);
        for (let i = 0; i < 50; i++) batch[i] = { type: "user:updated", stream, data: payload(i) };
        await store.pushManyEvents(batch);
      }
      return { rate: (calls * 50) / ((performance.now() - started) / 1000), path };
    };
    const batchRaw = (): Run => {
      const path = file();
      const db = rawOpen(path);
      const insert = rawInsert(db, 50);
      const revisions = new Map<string, number>();
      const params = new Array(50 * 8);
      const started = performance.now();
      for (let call = 0; call < calls; call++) {
        const stream = streams[call % streams.length];
        let revision = revisions.get(stream) ?? 0;
        const recorded = new Date().toISOString();
        for (let i = 0, o = 0; i < 50; i++) {
          params[o++] = uuidv7();
          params[o++] = stream;
          params[o++] = "user:updated";
          params[o++] = ++revision;
          params[o++] = cborCodec.encode(payload(i));
          params[o++] = null;
          params[o++] = new Date().toISOString();
          params[o++] = recorded;
        }
        db.exec("BEGIN IMMEDIATE");
        insert.run(...params);
        db.exec("COMMIT");
        revisions.set(stream, revision);
      }
      const rate = (calls * 50) / ((performance.now() - started) / 1000);
      db.close();
      return { rate, path };
    };
    const batch = await alternate(repeats, batchStore, batchRaw);

    // Single-event appends, each with the expected revision checked.
    const appends = quick ? 1000 : 5000;
    const singleStore = async (): Promise<number> => {
      await using store = new EventStore({ adapter: new SqliteAdapter(file()), events });
      return await singleAppends(store, streams, appends);
    };
    const singleRaw = (): number => {
      const db = rawOpen(file());
      const insert = rawInsert(db, 1);
      const current = db.prepare("SELECT max(revision) FROM eventfold_events WHERE stream = ?");
      current.setReturnArrays(true);
      const revisions = new Map<string, number>();
      const started = performance.now();
      for (let n = 0; n < appends; n++) {
        const stream = streams[n % streams.length];
        const expected = revisions.get(stream) ?? 0;
        const now = new Date().toISOString();
        db.exec("BEGIN IMMEDIATE");
        const actual = ((current.get(stream) as unknown as [number | null])[0]) ?? 0;
        if (actual !== expected) {
          db.exec("ROLLBACK");
          throw new Error("conflict");
        }
        insert.run(
          uuidv7(),
          stream,
          "user:updated",
          actual + 1,
          cborCodec.encode(payload(n)),
          null,
          now,
          now,
        );
        db.exec("COMMIT");
        revisions.set(stream, actual + 1);
      }
      const rate = appends / ((performance.now() - started) / 1000);
      db.close();
      return rate;
    };
    const single = await alternate(repeats, async () => ({ rate: await singleStore(), path: "" }), () => ({
      rate: singleRaw(),
      path: "",
    }));

    // Reading and folding one stream.
    const length = quick ? 10_000 : 20_000;
    const foldPath = file();
    const foldStream = uuidv7();
    {
      await using store = new EventStore({ adapter: new SqliteAdapter(foldPath), events });
      for (let done = 0; done < length; done += 1000) {
        await store.pushManyEvents(
          Array.from(
            { length: 1000 },
            (_, i) => ({ type: "user:updated", stream: foldStream, data: payload(done + i) }),
          ),
        );
      }
    }
    // Both sides keep their database open across runs, as an application does.
    await using foldingStore = new EventStore({ adapter: new SqliteAdapter(foldPath), events });
    const foldDb = new DatabaseSync(foldPath);
    const select = foldDb.prepare(
      "SELECT type, data FROM eventfold_events WHERE stream = ? ORDER BY revision",
    );
    select.setReturnArrays(true);
    const foldStore = async (): Promise<Run> => {
      const started = performance.now();
      const total = await foldingStore.reduce({ name: "ages", stream: foldStream, reducer: ages });
      const rate = length / ((performance.now() - started) / 1000);
      if (typeof total !== "number") throw new Error("fold failed");
      return { rate, path: "" };
    };
    const foldRaw = (): Run => {
      const started = performance.now();
      let total = 0;
      for (const row of select.all(foldStream) as unknown as [string, Uint8Array][]) {
        const data = cborCodec.decode(row[1]) as { age: number };
        if (row[0] === "user:updated") total += data.age;
      }
      const rate = length / ((performance.now() - started) / 1000);
      if (total < 0) throw new Error("fold failed");
      return { rate, path: "" };
    };
    const folded = await alternate(repeats, foldStore, foldRaw);
    foldDb.close();

    // The same fold through one upcast step (records at version 1, definitions at 2),
    // against the fold without it, in the same run.
    await using upcastingStore = new EventStore({ adapter: new SqliteAdapter(foldPath), events: eventsV2 });
    const foldUpcast = async (): Promise<Run> => {
      const started = performance.now();
      const total = await upcastingStore.reduce({ name: "ages-v2", stream: foldStream, reducer: agesV2 });
      const rate = length / ((performance.now() - started) / 1000);
      if (typeof total !== "number" || Number.isNaN(total)) throw new Error("upcast fold failed");
      return { rate, path: "" };
    };
    const upcast = await alternate(repeats, foldUpcast, foldStore);

    // Loading an aggregate from a 100,000-event stream with a snapshot.
    const aggregatePath = file();
    const member = uuidv7();
    const loads: number[] = [];
    {
      await using store = new EventStore({ adapter: new SqliteAdapter(aggregatePath), events });
      for (let done = 0; done < 100_000; done += 2000) {
        await store.pushManyEvents(
          Array.from(
            { length: 2000 },
            (_, i) => ({ type: "user:updated", stream: member, data: payload(done + i) }),
          ),
        );
      }
      await store.aggregate.getByStream(Member, member); // folds everything once and saves the snapshot
      await store.pushManyEvents(
        Array.from({ length: 10 }, (_, i) => ({ type: "user:updated", stream: member, data: payload(i) })),
      );
      for (let n = 0; n < (quick ? 10 : 30); n++) {
        const started = performance.now();
        const loaded = await store.aggregate.getByStream(Member, member);
        loads.push(performance.now() - started);
        if (loaded?.revision !== 100_010) throw new Error(`aggregate at revision ${loaded?.revision}`);
      }
    }

    return [
      {
        store: "sqlite",
        case: "append batch 50 x 200 streams",
        unit: "events/s",
        value: batch.store,
        baseline: batch.raw,
        target: ">= 0.8x",
      },
      {
        store: "sqlite",
        case: "append 1 event with expected revision",
        unit: "appends/s",
        value: single.store,
        baseline: single.raw,
        target: ">= 0.75x",
      },
      {
        store: "sqlite",
        case: `read + fold a ${length.toLocaleString("en-US")}-event stream`,
        unit: "events/s",
        value: folded.store,
        baseline: folded.raw,
        target: ">= 0.7x",
      },
      {
        store: "sqlite",
        case: `fold the ${length.toLocaleString("en-US")}-event stream through one upcast step`,
        unit: "events/s",
        value: upcast.store,
        baseline: upcast.raw,
        target: ">= 0.8x of the fold without",
      },
      {
        store: "sqlite",
        case: "load aggregate, 100,000-event stream + snapshot",
        unit: "ms",
        value: median(loads),
        target: "< 5 ms",
      },
      {
        store: "sqlite",
        case: "disk per event (batch run, after checkpoint)",
        unit: "bytes/event",
        value: bytesPerEvent(batch.storePath),
        baseline: bytesPerEvent(batch.rawPath),
        target: "reported",
      },
    ];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs store and raw `repeats` times each (after a warm-up), alternating which goes first; medians of both. */
async function alternate(
  repeats: number,
  store: () => Promise<Run>,
  raw: () => Run | Promise<Run>,
): Promise<{ store: number; raw: number; storePath: string; rawPath: string }> {
  const stores: Run[] = [];
  const raws: Run[] = [];
  // One untimed run of each first, so both sides are compiled by the JIT before timing.
  for (const run of [await store(), await raw()]) await discard(run.path);
  for (let n = 0; n < repeats; n++) {
    if (n % 2 === 0) {
      stores.push(await store());
      raws.push(await raw());
    } else {
      raws.push(await raw());
      stores.push(await store());
    }
    // Only the first run's files are kept (for the size figure).
    if (n > 0) { for (const run of [stores[n], raws[n]]) await discard(run.path); }
  }
  return {
    store: median(stores.map((run) => run.rate)),
    raw: median(raws.map((run) => run.rate)),
    storePath: stores[0].path,
    rawPath: raws[0].path,
  };
}

async function discard(path: string): Promise<void> {
  if (path === "") return;
  for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
}

if (import.meta.main) {
  const { renderTable } = await import("./_report.ts");
  console.log(renderTable(await bench({ quick: Deno.args.includes("--quick") })));
}
