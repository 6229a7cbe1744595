import assert from "node:assert/strict";
import { EventInsertionError, StoreClosedError } from "../../errors.ts";
import { DuplicateIdError, RevisionConflictError } from "../../contract/mod.ts";
import { row, tempDir } from "../../tests/_sqlite_helpers.ts";
import { SqliteAdapter } from "./sqlite_adapter.ts";
import { delay } from "../../async.ts";

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
        await delay(5);
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
      await delay(10);
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
