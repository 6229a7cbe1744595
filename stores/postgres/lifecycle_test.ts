import assert from "node:assert/strict";
import postgres from "postgres";
import { dropSchema, freshSchema, PG_URL } from "../../tests/_postgres_env.ts";
import { isStreamTombstonedError } from "../../contract/mod.ts";
import { PostgresAdapter } from "./mod.ts";
import { SCHEMA_VERSION } from "./_schema.ts";
import { rewindSchema } from "../../tests/_pg_rewind.ts";
import { append, row, test, withAdapter } from "./_test_helpers.ts";

/** Appends `count` events to `stream` after its current revision. */
async function grow(adapter: PostgresAdapter, stream: string, count: number): Promise<void> {
  await adapter.transaction(async (tx) => {
    const from = (await tx.revisions([stream])).get(stream)!;
    await tx.insert(Array.from({ length: count }, (_, n) => row(stream, from + n + 1)));
  });
}

/** Removes `stream` as the store deletes it: at the revision its transaction read. */
async function remove(adapter: PostgresAdapter, stream: string, tombstone = false): Promise<void> {
  await adapter.transaction(async (tx) => {
    const revision = (await tx.revisions([stream])).get(stream)!;
    await tx.removeStream!(stream, { revision, tombstone });
  });
}

async function truncate(adapter: PostgresAdapter, stream: string, before: number): Promise<number> {
  return await adapter.transaction(async (tx) => {
    await tx.revisions([stream]);
    return await tx.truncateStream!(stream, before);
  });
}

async function revisionOf(adapter: PostgresAdapter, stream: string): Promise<number> {
  return await adapter.transaction(async (tx) => (await tx.revisions([stream])).get(stream)!);
}

async function revisionsRead(adapter: PostgresAdapter, stream: string): Promise<number[]> {
  return (await adapter.readStream(stream, { direction: "forward", limit: 100 })).map((r) => r.revision);
}

test("after a stream is removed, revisions() answers its floor and appends continue after it", async () => {
  await withAdapter(async (adapter) => {
    await grow(adapter, "s", 3);
    await remove(adapter, "s");
    assert.deepEqual(await revisionsRead(adapter, "s"), []);
    assert.equal(await revisionOf(adapter, "s"), 3);
    await grow(adapter, "s", 2);
    assert.deepEqual(await revisionsRead(adapter, "s"), [4, 5]);
    assert.equal(await revisionOf(adapter, "s"), 5);
    // A second removal keeps the greater floor and moves deletedAt.
    await remove(adapter, "s");
    assert.deepEqual((await adapter.streamStatus(["s"])).get("s"), {
      revision: 5,
      deletedAt: 5,
      tombstoned: false,
      truncatedBefore: 1,
    });
  });
});

test("the floor is never below the highest revision removed, whatever revision is passed", async () => {
  await withAdapter(async (adapter) => {
    await grow(adapter, "s", 4);
    await adapter.transaction(async (tx) => {
      await tx.revisions(["s"]);
      await tx.removeStream!("s", { revision: 2, tombstone: false });
    });
    assert.equal(await revisionOf(adapter, "s"), 4);
  });
});

test("a tombstoned stream makes revisions() reject, and nothing of the transaction is written", async () => {
  await withAdapter(async (adapter) => {
    await grow(adapter, "gone", 2);
    await grow(adapter, "kept", 1);
    await remove(adapter, "gone", true);
    const before = await adapter.stats();
    let rejected: unknown;
    await assert.rejects(
      adapter.transaction(async (tx) => {
        await tx.updateRelations([{ op: "insert", key: "k", stream: "kept" }]);
        try {
          await tx.revisions(["kept", "gone", "never"]);
        } catch (error) {
          rejected = error;
          throw error;
        }
        await tx.insert([row("gone", 3), row("kept", 2)]);
      }),
      (error) => isStreamTombstonedError(error) && error.stream === "gone",
    );
    assert(isStreamTombstonedError(rejected));
    assert.deepEqual(await adapter.stats(), before);
    assert.deepEqual(await revisionsRead(adapter, "kept"), [1]);
    assert.deepEqual(await adapter.getStreamsByKeys(["k"]), []);
    // Other streams still take appends, and a tombstone cannot be lifted by a later delete.
    await grow(adapter, "kept", 1);
    await adapter.transaction(async (tx) => {
      await tx.removeStream!("gone", { revision: 2, tombstone: false });
    });
    await assert.rejects(revisionOf(adapter, "gone"), isStreamTombstonedError);
    assert.deepEqual((await adapter.streamStatus(["gone"])).get("gone"), {
      revision: 2,
      deletedAt: 2,
      tombstoned: true,
      truncatedBefore: 1,
    });
  });
});

test("truncation removes the revisions below the one given, counts them and keeps the rest", async () => {
  await withAdapter(async (adapter) => {
    await grow(adapter, "s", 5);
    await adapter.putSnapshot({ name: "n", stream: "s", state: 1, revision: 2, position: null, version: 1 });
    await adapter.updateRelations([{ op: "insert", key: "k", stream: "s" }]);
    assert.equal(await truncate(adapter, "s", 3), 2);
    assert.deepEqual(await revisionsRead(adapter, "s"), [3, 4, 5]);
    assert.equal(await revisionOf(adapter, "s"), 5);
    // Below the recorded point: nothing removed, the point stays.
    assert.equal(await truncate(adapter, "s", 2), 0);
    assert.equal((await adapter.streamStatus(["s"])).get("s")?.truncatedBefore, 3);
    // Snapshots and relations stay.
    assert.equal((await adapter.getSnapshot("n", "s"))?.state, 1);
    assert.deepEqual(await adapter.getStreamsByKeys(["k"]), ["s"]);
    // Past the end: every event goes, the revision stays.
    assert.equal(await truncate(adapter, "s", 10), 3);
    assert.deepEqual(await revisionsRead(adapter, "s"), []);
    assert.equal(await revisionOf(adapter, "s"), 5);
    assert.deepEqual((await adapter.streamStatus(["s"])).get("s"), {
      revision: 5,
      deletedAt: 0,
      tombstoned: false,
      truncatedBefore: 10,
    });
    await grow(adapter, "s", 1);
    assert.deepEqual(await revisionsRead(adapter, "s"), [6]);
    await assert.rejects(truncate(adapter, "s", 0), RangeError);
  });
});

test("removing a stream removes its snapshots of every name and its relations, and no one else's", async () => {
  await withAdapter(async (adapter) => {
    await grow(adapter, "s", 1);
    await grow(adapter, "other", 1);
    for (const [name, stream] of [["a", "s"], ["b", "s"], ["a", "other"]]) {
      await adapter.putSnapshot({ name, stream, state: name, revision: 1, position: null, version: 1 });
    }
    await adapter.updateRelations([
      { op: "insert", key: "k1", stream: "s" },
      { op: "insert", key: "k2", stream: "s" },
      { op: "insert", key: "k1", stream: "other" },
    ]);
    await remove(adapter, "s");
    assert.equal(await adapter.getSnapshot("a", "s"), undefined);
    assert.equal(await adapter.getSnapshot("b", "s"), undefined);
    assert.equal((await adapter.getSnapshot("a", "other"))?.state, "a");
    assert.deepEqual(await adapter.getStreamsByKeys(["k1", "k2"]), ["other"]);
    assert.deepEqual(await revisionsRead(adapter, "other"), [1]);
  });
});

test("a removal rolled back with its transaction leaves everything as it was", async () => {
  await withAdapter(async (adapter) => {
    await grow(adapter, "s", 2);
    await assert.rejects(
      adapter.transaction(async (tx) => {
        await tx.revisions(["s"]);
        await tx.removeStream!("s", { revision: 2, tombstone: true });
        throw new Error("abandon");
      }),
      /abandon/,
    );
    assert.deepEqual(await revisionsRead(adapter, "s"), [1, 2]);
    assert.deepEqual((await adapter.streamStatus(["s"])).get("s"), {
      revision: 2,
      deletedAt: 0,
      tombstoned: false,
      truncatedBefore: 1,
    });
  });
});

test("streamStatus answers streams with events or recorded state and leaves the others out", async () => {
  await withAdapter(async (adapter) => {
    assert.deepEqual(await adapter.streamStatus([]), new Map());
    await grow(adapter, "live", 2);
    await grow(adapter, "deleted", 3);
    await remove(adapter, "deleted", true);
    const status = await adapter.streamStatus(["live", "never", "deleted", "live"]);
    assert.deepEqual(
      status,
      new Map([
        ["live", { revision: 2, deletedAt: 0, tombstoned: false, truncatedBefore: 1 }],
        ["deleted", { revision: 3, deletedAt: 3, tombstoned: true, truncatedBefore: 1 }],
      ]),
    );
  });
});

test("stats count an emptied stream no more, and a truncated one with events left once", async () => {
  await withAdapter(async (adapter) => {
    await grow(adapter, "a", 3);
    await grow(adapter, "b", 3);
    assert.deepEqual([(await adapter.stats()).streams, (await adapter.stats()).events], [2, 6]);
    await remove(adapter, "a");
    let stats = await adapter.stats();
    assert.deepEqual([stats.streams, stats.events], [1, 3]);
    assert.equal(await truncate(adapter, "b", 3), 2);
    stats = await adapter.stats();
    assert.deepEqual([stats.streams, stats.events], [1, 1]);
    await grow(adapter, "a", 1);
    stats = await adapter.stats();
    assert.deepEqual([stats.streams, stats.events], [2, 2]);
  });
});

test("log reads after a position go on past removed events, which they no longer see", async () => {
  await withAdapter(async (adapter) => {
    const [first] = await append(adapter, [row("a", 1)]);
    await append(adapter, [row("b", 1)]);
    await append(adapter, [row("a", 2), row("b", 2)]);
    await append(adapter, [row("b", 3)]);
    await remove(adapter, "a");
    assert.equal(await truncate(adapter, "b", 2), 1);
    const after = await adapter.readLog({
      after: first.position,
      direction: "forward",
      limit: 10,
      settle: true,
    });
    assert.deepEqual(after.map((r) => [r.stream, r.revision]), [["b", 2], ["b", 3]]);
    const all = await adapter.readLog({ direction: "forward", limit: 10, settle: true });
    assert.deepEqual(all.map((r) => [r.stream, r.revision]), [["b", 2], ["b", 3]]);
    const [tail] = await append(adapter, [row("a", 3)]);
    const next = await adapter.readLog({
      after: all[1].position,
      direction: "forward",
      limit: 10,
      settle: true,
    });
    assert.deepEqual(next.map((r) => r.id), [tail.id]);
    assert.equal(await adapter.countAfter(first.position), 3);
  });
});

test("a version 4 schema is migrated: its streams keep their events and revisions and can be removed", async () => {
  const schema = freshSchema();
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    const old = new PostgresAdapter(sql, { schema });
    await grow(old, "s", 2);
    await grow(old, "t", 1);
    await old.close();
    // Back to what version 4 made: no lifecycle or retention columns on streams, no key table.
    await rewindSchema(sql, schema, 4);
    await using adapter = new PostgresAdapter(sql, { schema });
    assert.deepEqual(await revisionsRead(adapter, "s"), [1, 2]);
    assert.equal(await revisionOf(adapter, "s"), 2);
    assert.deepEqual((await adapter.streamStatus(["s"])).get("s"), {
      revision: 2,
      deletedAt: 0,
      tombstoned: false,
      truncatedBefore: 1,
    });
    assert.equal((await adapter.stats()).streams, 2);
    await remove(adapter, "s", true);
    await assert.rejects(revisionOf(adapter, "s"), isStreamTombstonedError);
    await grow(adapter, "t", 1);
    assert.deepEqual(await revisionsRead(adapter, "t"), [1, 2]);
    const [{ version }] = await sql<{ version: number }[]>`
      SELECT max(version) AS version FROM ${sql(schema)}.migrations`;
    assert.equal(version, SCHEMA_VERSION);
    assert.ok(SCHEMA_VERSION >= 5);
  } finally {
    await sql.end({ timeout: 1 });
    await dropSchema(schema);
  }
});
