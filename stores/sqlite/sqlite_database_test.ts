import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DecodeError, EventInsertionError } from "../../errors.ts";
import { jsonCodec } from "../codec.ts";
import { row, tempDir } from "../../tests/_sqlite_helpers.ts";
import { SqliteAdapter } from "./sqlite_adapter.ts";
import { delay } from "../../async.ts";

Deno.test("a payload that no longer decodes is a DecodeError naming its position; other events still read", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  {
    await using adapter = new SqliteAdapter(path);
    await adapter.transaction((tx) => tx.insert([row("a", 1), row("a", 2), row("a", 3), row("b", 1)]));
  }
  const db = new DatabaseSync(path);
  db.exec("UPDATE eventfold_events SET meta = x'ff00' WHERE position = 2");
  db.close();
  await using adapter = new SqliteAdapter(path);
  const error = await adapter.readStream("a", { direction: "forward", limit: 10 }).then(() => {}, (e) => e);
  assert.ok(error instanceof DecodeError);
  assert.equal(error.position, "0000000000000002");
  assert.equal(error.field, "meta");
  assert.match(error.message, /position 0000000000000002/);
  assert.ok(error.message.includes(path));
  assert.equal(
    (await adapter.readStream("a", { direction: "forward", fromRevision: 3, limit: 10 })).length,
    1,
  );
  assert.equal(
    (await adapter.readStream("a", { direction: "backward", fromRevision: 1, limit: 10 })).length,
    1,
  );
  assert.equal((await adapter.readStream("b", { direction: "forward", limit: 10 })).length, 1);
  assert.equal(
    (await adapter.readLog({ direction: "forward", after: "0000000000000002", limit: 10 })).length,
    2,
  );
});

Deno.test("a snapshot that no longer decodes reads as missing, so the state is rebuilt", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  await using adapter = new SqliteAdapter(path);
  await adapter.putSnapshot({
    name: "user",
    stream: "u1",
    state: { count: 4 },
    revision: 4,
    position: null,
    version: 1,
  });
  const db = new DatabaseSync(path);
  db.exec("UPDATE eventfold_snapshots SET state = x'1c'");
  db.close();
  assert.equal(await adapter.getSnapshot("user", "u1"), undefined);
});

Deno.test("a payload the codec cannot encode is an EventInsertionError naming the event", async () => {
  await using adapter = new SqliteAdapter(":memory:", { codec: jsonCodec });
  const bad = row("a", 1, { data: { n: 1n } });
  const error = await adapter.transaction((tx) => tx.insert([bad])).then(() => {}, (e) => e);
  assert.ok(error instanceof EventInsertionError);
  assert.ok(error.message.includes(bad.id) && error.message.includes("json"));
});

Deno.test("watch() hears commits made by another connection and stops when unsubscribed", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  await using watcher = new SqliteAdapter(path, { watchInterval: 5 });
  await using writer = new SqliteAdapter(path);
  let heard = 0;
  let woke!: () => void;
  const woken = new Promise<void>((resolve) => woke = resolve);
  const stop = watcher.watch(() => {
    heard++;
    woke();
  });
  const stopOther = watcher.watch(() => {
    throw new Error("a failing listener does not stop the others");
  });
  await writer.transaction((tx) => tx.insert([row("a", 1)]));
  await woken;
  assert.ok(heard >= 1);
  stop();
  stop();
  stopOther();
  const before = heard;
  await writer.transaction((tx) => tx.insert([row("a", 2)]));
  await delay(20);
  assert.equal(heard, before);
});

Deno.test("close() clears a watch that was never stopped", async () => {
  const adapter = new SqliteAdapter(":memory:");
  adapter.watch(() => {});
  await adapter.close();
});

Deno.test("a handed-in node:sqlite database is used and left open", async () => {
  const db = new DatabaseSync(":memory:");
  const adapter = new SqliteAdapter(db);
  assert.equal(adapter.source, ":memory:");
  let handle: unknown;
  await adapter.transaction(async (tx) => {
    handle = tx.handle;
    await tx.insert([row("a", 1)]);
    tx.handle.exec("CREATE TABLE read_model (n INTEGER)");
  });
  assert.equal(handle, db);
  await adapter.close();
  assert.deepEqual({ ...db.prepare("SELECT count(*) AS n FROM eventfold_events").get()! }, { n: 1 });
  db.close();
});

Deno.test("a database with another driver's shape (run returns a count, rows via values()) works", async () => {
  const db = new DatabaseSync(":memory:");
  // The shape of @db/sqlite: run() returns the number of changes and values() returns arrays.
  const other = {
    exec: (sql: string) => db.exec(sql),
    prepare: (sql: string) => {
      const statement = db.prepare(sql);
      const arrays = db.prepare(sql);
      arrays.setReturnArrays(true);
      return {
        run: (...params: never[]) => Number(statement.run(...params).changes),
        get: (...params: never[]) => statement.get(...params),
        all: (...params: never[]) => statement.all(...params),
        values: (...params: never[]) => arrays.all(...params),
      };
    },
  };
  await using adapter = new SqliteAdapter(other);
  const stored = await adapter.transaction((tx) => tx.insert([row("a", 1), row("a", 2)]));
  assert.deepEqual(stored.map((r) => r.position), ["0000000000000001", "0000000000000002"]);
  assert.deepEqual((await adapter.readStream("a", { direction: "forward", limit: 5 })).map((r) => r.data), [
    { n: 1 },
    { n: 2 },
  ]);
  assert.equal((await adapter.stats()).events, 2);
});

Deno.test("the constructor rejects bad arguments with TypeError or RangeError", () => {
  assert.throws(() => new SqliteAdapter(""), TypeError);
  assert.throws(() => new SqliteAdapter(42 as never), TypeError);
  assert.throws(() => new SqliteAdapter({} as never), /exec\(\) and prepare\(\)/);
  assert.throws(() => new SqliteAdapter(":memory:", { codec: "xml" as never }), TypeError);
  assert.throws(() => new SqliteAdapter(":memory:", { durability: "sometimes" as never }), TypeError);
  assert.throws(() => new SqliteAdapter(":memory:", { busyTimeout: -1 }), RangeError);
  assert.throws(() => new SqliteAdapter(":memory:", { watchInterval: 0 }), RangeError);
});

Deno.test("durability is applied to the write connection, and its busy wait is left to the adapter", async () => {
  await using dir = await tempDir();
  await using full = new SqliteAdapter(dir.file("full.db"), { durability: "full", busyTimeout: 1234 });
  await full.transaction(async (tx) => {
    assert.deepEqual({ ...tx.handle.prepare("PRAGMA synchronous").get()! }, { synchronous: 2 });
    // The writer waits for other processes asynchronously, not in SQLite's busy handler.
    assert.deepEqual({ ...tx.handle.prepare("PRAGMA busy_timeout").get()! }, { timeout: 0 });
    assert.deepEqual({ ...tx.handle.prepare("PRAGMA journal_mode").get()! }, { journal_mode: "wal" });
    await Promise.resolve();
  });
  await using normal = new SqliteAdapter(dir.file("normal.db"));
  await normal.transaction(async (tx) => {
    assert.deepEqual({ ...tx.handle.prepare("PRAGMA synchronous").get()! }, { synchronous: 1 });
    await Promise.resolve();
  });
});

Deno.test("a writer waiting for another connection's write lock keeps the event loop running", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  await using adapter = new SqliteAdapter(path, { busyTimeout: 5000 });
  const other = new DatabaseSync(path);
  other.exec("BEGIN IMMEDIATE");
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  const release = setTimeout(() => other.exec("COMMIT"), 200);
  try {
    await adapter.transaction((tx) => tx.insert([row("a", 1)]));
    assert.ok(ticks >= 5, `timers ran while the writer waited (${ticks} ticks)`);
    assert.equal((await adapter.readStream("a", { direction: "forward", limit: 10 })).length, 1);
  } finally {
    clearInterval(ticker);
    clearTimeout(release);
    other.close();
  }
});

Deno.test("a write lock held past the busy timeout is an EventInsertionError that says so", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  await using adapter = new SqliteAdapter(path, { busyTimeout: 50 });
  const other = new DatabaseSync(path);
  other.exec("BEGIN IMMEDIATE");
  try {
    await assert.rejects(
      adapter.transaction((tx) => tx.insert([row("a", 1)])),
      (error) => error instanceof EventInsertionError && /busy timeout of 50 ms/.test(error.message),
    );
    // Reads do not wait for writers.
    assert.deepEqual(await adapter.readStream("a", { direction: "forward", limit: 1 }), []);
  } finally {
    other.exec("ROLLBACK");
    other.close();
  }
  await adapter.transaction((tx) => tx.insert([row("a", 1)]));
});

Deno.test("a record keeps the version it was inserted with (1 when none was given) on every read", async () => {
  await using adapter = new SqliteAdapter(":memory:");
  const stored = await adapter.transaction((tx) => tx.insert([row("a", 1, { version: 3 }), row("a", 2)]));
  assert.deepEqual(stored.map((r) => r.version), [3, 1]);
  const ids = stored.map((r) => r.id);
  assert.deepEqual(
    (await adapter.readStream("a", { direction: "forward", limit: 10 })).map((r) => r.version),
    [3, 1],
  );
  assert.deepEqual(
    (await adapter.readStream("a", { direction: "backward", limit: 10 })).map((r) => r.version),
    [1, 3],
  );
  assert.deepEqual((await adapter.readLog({ direction: "forward", limit: 10 })).map((r) => r.version), [
    3,
    1,
  ]);
  assert.deepEqual(
    (await adapter.readLog({ direction: "forward", limit: 10, streams: ["a"], types: ["counted"] })).map((
      r,
    ) => r.version),
    [3, 1],
  );
  assert.deepEqual((await adapter.getByIds([ids[1], ids[0]])).map((r) => r.version), [1, 3]);
});
