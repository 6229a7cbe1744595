import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DecodeError, EventInsertionError, StoreClosedError } from "../../errors.ts";
import { DuplicateIdError, RevisionConflictError } from "../../contract/mod.ts";
import { jsonCodec } from "../codec.ts";
import { row, tempDir } from "../../tests/_sqlite_helpers.ts";
import { SqliteAdapter } from "./sqlite_adapter.ts";

const stores = [
  { name: "file", open: (dir: string) => new SqliteAdapter(`${dir}/events.db`) },
  { name: ":memory:", open: () => new SqliteAdapter(":memory:") },
];

for (const { name, open } of stores) {
  Deno.test(`insert() assigns increasing positions and reads return them (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    const stored = await adapter.transaction(async (tx) => {
      assert.deepEqual(await tx.revisions(["a", "b"]), new Map([["a", 0], ["b", 0]]));
      return await tx.insert([row("a", 1), row("b", 1), row("a", 2)]);
    });
    assert.deepEqual(stored.map((r) => r.position), [
      "0000000000000001",
      "0000000000000002",
      "0000000000000003",
    ]);
    assert.deepEqual(stored[0].data, { n: 1 });
    assert.equal(typeof stored[0].recorded, "string");
    const a = await adapter.readStream("a", { direction: "forward", limit: 10 });
    assert.deepEqual(a, stored.filter((r) => r.stream === "a"));
    await adapter.transaction(async (tx) => {
      assert.deepEqual(await tx.revisions(["a", "b", "c"]), new Map([["a", 2], ["b", 1], ["c", 0]]));
    });
    assert.deepEqual(await adapter.stats(), { events: 3, streams: 2, head: "0000000000000003" });
  });

  Deno.test(`readStream() pages forward and backward, with types (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    await adapter.transaction((tx) =>
      tx.insert(Array.from({ length: 10 }, (_, i) => row("s", i + 1, { type: i % 2 ? "odd" : "even" })))
    );
    const revisions = async (query: Parameters<SqliteAdapter["readStream"]>[1]) =>
      (await adapter.readStream("s", query)).map((r) => r.revision);
    assert.deepEqual(await revisions({ direction: "forward", limit: 3 }), [1, 2, 3]);
    assert.deepEqual(await revisions({ direction: "forward", fromRevision: 9, limit: 3 }), [9, 10]);
    assert.deepEqual(await revisions({ direction: "backward", limit: 3 }), [10, 9, 8]);
    assert.deepEqual(await revisions({ direction: "backward", fromRevision: 2, limit: 5 }), [2, 1]);
    assert.deepEqual(await revisions({ direction: "forward", limit: 10, types: ["odd"] }), [2, 4, 6, 8, 10]);
    assert.deepEqual(await revisions({ direction: "backward", limit: 2, types: ["even"] }), [9, 7]);
    assert.deepEqual(await revisions({ direction: "forward", limit: 10, types: [] }), []);
    assert.deepEqual(await adapter.readStream("none", { direction: "forward", limit: 10 }), []);
  });

  Deno.test(`readLog() reads after an exclusive cursor, with filters, both ways (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    await adapter.transaction((tx) =>
      tx.insert([row("a", 1), row("b", 1, { type: "other" }), row("a", 2), row("c", 1), row("b", 2)])
    );
    const positions = async (query: Parameters<SqliteAdapter["readLog"]>[0]) =>
      (await adapter.readLog(query)).map((r) => Number(r.position));
    assert.deepEqual(await positions({ direction: "forward", limit: 2 }), [1, 2]);
    assert.deepEqual(await positions({ direction: "forward", limit: 9, after: "0000000000000002" }), [
      3,
      4,
      5,
    ]);
    assert.deepEqual(await positions({ direction: "backward", limit: 2 }), [5, 4]);
    assert.deepEqual(await positions({ direction: "backward", limit: 9, after: "0000000000000003" }), [
      2,
      1,
    ]);
    assert.deepEqual(await positions({ direction: "forward", limit: 9, types: ["other"] }), [2]);
    assert.deepEqual(await positions({ direction: "forward", limit: 9, streams: ["b", "c"] }), [2, 4, 5]);
    assert.deepEqual(
      await positions({ direction: "forward", limit: 9, streams: ["b"], types: ["counted"] }),
      [5],
    );
    await assert.rejects(adapter.readLog({ direction: "forward", limit: 1, after: "x" }), RangeError);
  });

  Deno.test(`insert() of an existing id throws DuplicateIdError and keeps nothing (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    const first = row("a", 1);
    await adapter.transaction((tx) => tx.insert([first]));
    const fresh = row("b", 1);
    const error = await adapter.transaction((tx) =>
      tx.insert([fresh, { ...first, stream: "c", revision: 1 }])
    )
      .then(() => undefined, (e) => e);
    assert.ok(error instanceof DuplicateIdError);
    assert.deepEqual(error.ids, [first.id]);
    assert.deepEqual(await adapter.getByIds([fresh.id]), []);
    const twice = row("d", 1);
    await assert.rejects(
      adapter.transaction((tx) => tx.insert([twice, { ...twice, revision: 2 }])),
      EventInsertionError,
    );
  });

  Deno.test(`insert() of a taken revision throws RevisionConflictError (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    await adapter.transaction((tx) => tx.insert([row("a", 1)]));
    const error = await adapter.transaction((tx) => tx.insert([row("b", 1), row("a", 1)])).then(
      () => {},
      (e) => e,
    );
    assert.ok(error instanceof RevisionConflictError);
    assert.equal(error.stream, "a");
    assert.equal((await adapter.stats()).events, 1);
  });

  Deno.test(`a transaction whose work throws leaves nothing behind (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    await assert.rejects(
      adapter.transaction(async (tx) => {
        await tx.insert(Array.from({ length: 150 }, (_, i) => row("a", i + 1)));
        await tx.updateRelations([{ op: "insert", key: "k", stream: "a" }]);
        throw new Error("changed my mind");
      }),
      /changed my mind/,
    );
    assert.deepEqual(await adapter.stats(), { events: 0, streams: 0, head: null });
    assert.deepEqual(await adapter.getStreamsByKeys(["k"]), []);
    // The rolled-back positions are free again: the next insert continues at 1.
    const [stored] = await adapter.transaction((tx) => tx.insert([row("a", 1)]));
    assert.equal(stored.position, "0000000000000001");
  });

  Deno.test(`reads never see a running transaction's events (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    let inserted!: () => void;
    const insertedNow = new Promise<void>((resolve) => inserted = resolve);
    const writing = adapter.transaction(async (tx) => {
      await tx.insert([row("a", 1)]);
      // Reads made from inside the transaction see its own writes.
      assert.equal(
        (await adapter.readStream("a", { direction: "forward", limit: 5 })).length,
        name === "file" ? 0 : 1,
      );
      inserted();
      await held;
    });
    await insertedNow;
    const reading = adapter.readStream("a", { direction: "forward", limit: 5 });
    if (name === "file") assert.deepEqual(await reading, []);
    release();
    await writing;
    if (name !== "file") assert.equal((await reading).length, 1);
    assert.equal((await adapter.readStream("a", { direction: "forward", limit: 5 })).length, 1);
  });

  Deno.test(`transactions of one adapter run one after the other (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    const trace: string[] = [];
    const work = (label: string) =>
      adapter.transaction(async (tx) => {
        trace.push(`${label} start`);
        const revision = (await tx.revisions(["s"])).get("s")!;
        await new Promise((resolve) => setTimeout(resolve, 5));
        await tx.insert([row("s", revision + 1)]);
        trace.push(`${label} end`);
      });
    await Promise.all([work("1"), work("2"), work("3"), adapter.putSnapshot(snapshot(1)), work("4")]);
    assert.deepEqual(trace, ["1 start", "1 end", "2 start", "2 end", "3 start", "3 end", "4 start", "4 end"]);
    const revisions = (await adapter.readStream("s", { direction: "forward", limit: 9 })).map((r) =>
      r.revision
    );
    assert.deepEqual(revisions, [1, 2, 3, 4]);
    await assert.rejects(adapter.transaction(() => adapter.transaction(() => Promise.resolve())), TypeError);
  });

  Deno.test(`relations link and unlink streams, in or outside appends (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    await adapter.transaction((tx) =>
      tx.updateRelations([{ op: "insert", key: "k1", stream: "b" }, { op: "insert", key: "k1", stream: "a" }])
    );
    await adapter.updateRelations([
      { op: "insert", key: "k2", stream: "c" },
      { op: "insert", key: "k2", stream: "a" },
      { op: "insert", key: "k1", stream: "b" },
    ]);
    assert.deepEqual(await adapter.getStreamsByKeys(["k1", "k2"]), ["b", "a", "c"]);
    assert.deepEqual(await adapter.getStreamsByKeys(["k2", "k1"]), ["c", "a", "b"]);
    await adapter.updateRelations([{ op: "remove", key: "k1", stream: "b" }]);
    assert.deepEqual(await adapter.getStreamsByKeys(["k1"]), ["a"]);
    assert.deepEqual(await adapter.getStreamsByKeys([]), []);
  });

  Deno.test(`snapshots are upserted, read and deleted (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    assert.equal(await adapter.getSnapshot("user", "u1"), undefined);
    await adapter.putSnapshot(snapshot(3));
    await adapter.putSnapshot(snapshot(7));
    assert.deepEqual(await adapter.getSnapshot("user", "u1"), snapshot(7));
    await adapter.putSnapshot({ ...snapshot(0), stream: "k", revision: null, position: "0000000000000009" });
    assert.equal((await adapter.getSnapshot("user", "k"))?.position, "0000000000000009");
    await adapter.deleteSnapshot("user", "u1");
    assert.equal(await adapter.getSnapshot("user", "u1"), undefined);
  });

  Deno.test(`checkpoints are compared and set (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    assert.equal(await adapter.putCheckpoint("p", "0000000000000001", { position: "x" }), false);
    assert.equal(await adapter.putCheckpoint("p", null, { position: null }), true);
    assert.equal(await adapter.putCheckpoint("p", null, { position: "0000000000000002" }), true);
    assert.equal(await adapter.putCheckpoint("p", null, { position: "0000000000000003" }), false);
    assert.equal(
      await adapter.putCheckpoint("p", "0000000000000002", {
        position: "0000000000000004",
        state: { seen: new Set([1]) },
        version: 2,
      }),
      true,
    );
    const checkpoint = await adapter.getCheckpoint("p");
    assert.equal(checkpoint?.position, "0000000000000004");
    assert.deepEqual(checkpoint?.state, { seen: new Set([1]) });
    assert.equal(checkpoint?.version, 2);
    await adapter.putCheckpoint("a", null, { position: "0000000000000001" });
    assert.deepEqual((await adapter.listCheckpoints()).map((c) => c.name), ["a", "p"]);
    assert.equal((await adapter.listCheckpoints())[0].state, undefined);
    await adapter.deleteCheckpoint("p");
    assert.equal(await adapter.getCheckpoint("p"), undefined);
  });

  Deno.test(`getByIds() returns stored events in the order asked, leaving out missing ids (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    const [a, b] = await adapter.transaction((tx) => tx.insert([row("a", 1), row("b", 1)]));
    assert.deepEqual((await adapter.getByIds([b.id, "missing", a.id])).map((r) => r.id), [b.id, a.id]);
    assert.deepEqual(await adapter.getByIds([]), []);
  });

  Deno.test(`payloads keep Date, bigint, Map, Set and bytes with CBOR (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    const data = {
      at: new Date(5),
      n: 2n ** 70n,
      m: new Map([["k", 1]]),
      s: new Set(["x"]),
      b: new Uint8Array([1, 2]),
    };
    await adapter.transaction((tx) =>
      tx.insert([row("a", 1, { data, meta: { by: "me" } }), row("a", 2, { data: null, outdated: true })])
    );
    const [first, second] = await adapter.readStream("a", { direction: "forward", limit: 5 });
    assert.deepEqual(first.data, data);
    assert.deepEqual(first.meta, { by: "me" });
    assert.equal(first.outdated, false);
    assert.equal(second.data, null);
    assert.equal(second.meta, null);
    assert.equal(second.outdated, true);
  });

  Deno.test(`latestCreated() and existing() look inside the transaction too (${name})`, async () => {
    await using dir = await tempDir();
    await using adapter = open(dir.path);
    const old = row("a", 1, { created: "2020-01-02T00:00:00.000Z" });
    await adapter.transaction((tx) => tx.insert([old]));
    await adapter.transaction(async (tx) => {
      assert.equal(await tx.latestCreated("a", "counted"), "2020-01-02T00:00:00.000Z");
      assert.equal(await tx.latestCreated("a", "other"), null);
      const next = row("a", 2);
      await tx.insert([next]);
      assert.deepEqual(await tx.existing([old.id, next.id, "nope"]), new Set([old.id, next.id]));
      assert.deepEqual(await tx.existing([]), new Set());
    });
  });

  Deno.test(`close() waits for the running transaction, is idempotent and refuses later calls (${name})`, async () => {
    await using dir = await tempDir();
    const adapter = open(dir.path);
    const writing = adapter.transaction(async (tx) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return await tx.insert([row("a", 1)]);
    });
    const closing = adapter.close();
    assert.equal((await writing).length, 1);
    await closing;
    await adapter.close();
    await assert.rejects(adapter.readStream("a", { direction: "forward", limit: 1 }), StoreClosedError);
    await assert.rejects(adapter.transaction(() => Promise.resolve()), StoreClosedError);
    assert.throws(() => adapter.watch(() => {}), StoreClosedError);
  });
}

function snapshot(revision: number) {
  return {
    name: "user",
    stream: "u1",
    state: { count: revision, at: new Date(1) },
    revision,
    position: null,
    version: 1,
  };
}

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
  await adapter.putSnapshot(snapshot(4));
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
  await new Promise((resolve) => setTimeout(resolve, 20));
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

Deno.test("readLog() with a few streams pages by revision and agrees with the log order", async () => {
  await using adapter = new SqliteAdapter(":memory:");
  const revisions = new Map<string, number>();
  const streams = ["a", "b", "c", "d"];
  const records = Array.from({ length: 400 }, (_, i) => {
    const stream = streams[(i * 7 + (i >> 3)) % 4];
    const revision = (revisions.get(stream) ?? 0) + 1;
    revisions.set(stream, revision);
    return row(stream, revision, { type: i % 3 === 0 ? "x" : "y" });
  });
  const stored = await adapter.transaction((tx) => tx.insert(records));
  for (const chosen of [["b"], ["a", "c"], ["d", "b", "a"], ["a", "b", "c", "d", "missing"]]) {
    for (const types of [undefined, ["x"]]) {
      for (const direction of ["forward", "backward"] as const) {
        let expected = stored.filter((r) => chosen.includes(r.stream) && (!types || types.includes(r.type)));
        if (direction === "backward") expected = expected.reverse();
        const seen: string[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await adapter.readLog({ direction, limit: 7, streams: chosen, types, after: cursor });
          seen.push(...page.map((r) => r.position));
          if (page.length < 7) break;
          cursor = page[page.length - 1].position;
        }
        assert.deepEqual(seen, expected.map((r) => r.position), `${chosen} ${types} ${direction}`);
        // A cursor from anywhere in the log, not only from these streams, works too.
        const middle = stored[200].position;
        const after = await adapter.readLog({
          direction,
          limit: 500,
          streams: chosen,
          types,
          after: middle,
        });
        const wanted = expected.filter((r) =>
          direction === "forward" ? r.position > middle : r.position < middle
        );
        assert.deepEqual(after.map((r) => r.position), wanted.map((r) => r.position));
      }
    }
  }
});
