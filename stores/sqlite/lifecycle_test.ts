import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { isStreamTombstonedError } from "../../contract/mod.ts";
import { row, tempDir } from "../../tests/_sqlite_helpers.ts";
import { SqliteAdapter } from "./sqlite_adapter.ts";

async function opened(): Promise<{ adapter: SqliteAdapter } & AsyncDisposable> {
  const dir = await tempDir();
  const adapter = new SqliteAdapter<DatabaseSync>(dir.file("events.db"));
  return {
    adapter,
    [Symbol.asyncDispose]: async () => {
      await adapter.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

async function write(adapter: SqliteAdapter, stream: string, from: number, to: number): Promise<void> {
  await adapter.transaction((tx) =>
    tx.insert(Array.from({ length: to - from + 1 }, (_, i) => row(stream, from + i)))
  );
}

async function revisionsOf(adapter: SqliteAdapter, streams: string[]): Promise<Map<string, number>> {
  return await adapter.transaction((tx) => tx.revisions(streams));
}

async function storedRevisions(adapter: SqliteAdapter, stream: string): Promise<number[]> {
  return (await adapter.readStream(stream, { direction: "forward", limit: 100 })).map((r) => r.revision);
}

Deno.test("removeStream() removes the events and revisions() answers the floor, so an append continues after it", async () => {
  await using store = await opened();
  const { adapter } = store;
  await write(adapter, "a", 1, 3);
  await write(adapter, "b", 1, 2);
  await adapter.transaction((tx) => tx.removeStream!("a", { revision: 3, tombstone: false }));
  assert.deepEqual(await storedRevisions(adapter, "a"), []);
  assert.deepEqual(await storedRevisions(adapter, "b"), [1, 2]);
  assert.deepEqual(await revisionsOf(adapter, ["a", "b", "c"]), new Map([["a", 3], ["b", 2], ["c", 0]]));
  await write(adapter, "a", 4, 5);
  assert.deepEqual(await storedRevisions(adapter, "a"), [4, 5]);
  assert.deepEqual(await revisionsOf(adapter, ["a"]), new Map([["a", 5]]));
  // A lower revision given later never lowers the floor.
  await adapter.transaction((tx) => tx.removeStream!("a", { revision: 1, tombstone: false }));
  assert.deepEqual(await revisionsOf(adapter, ["a"]), new Map([["a", 5]]));
});

Deno.test("a tombstoned stream makes revisions() reject with StreamTombstonedError, and the transaction writes nothing", async () => {
  await using store = await opened();
  const { adapter } = store;
  await write(adapter, "t", 1, 2);
  await adapter.transaction((tx) => tx.removeStream!("t", { revision: 2, tombstone: true }));
  const before = await adapter.stats();
  await assert.rejects(
    adapter.transaction(async (tx) => {
      await tx.insert([row("other", 1)]);
      await tx.revisions(["other", "t"]);
      await tx.insert([row("t", 3)]);
    }),
    (error) => isStreamTombstonedError(error) && error.stream === "t",
  );
  assert.deepEqual(await adapter.stats(), before);
  assert.deepEqual(await storedRevisions(adapter, "other"), []);
  assert.deepEqual(await revisionsOf(adapter, ["other"]), new Map([["other", 0]]));
  // A later removal without tombstone keeps the tombstone.
  await adapter.transaction((tx) => tx.removeStream!("t", { revision: 2, tombstone: false }));
  await assert.rejects(revisionsOf(adapter, ["t"]), isStreamTombstonedError);
});

Deno.test("truncateStream() removes only the revisions below `before` and returns how many", async () => {
  await using store = await opened();
  const { adapter } = store;
  await write(adapter, "s", 1, 5);
  await write(adapter, "o", 1, 2);
  assert.equal(await adapter.transaction((tx) => tx.truncateStream!("s", 3)), 2);
  assert.deepEqual(await storedRevisions(adapter, "s"), [3, 4, 5]);
  assert.deepEqual(await storedRevisions(adapter, "o"), [1, 2]);
  assert.deepEqual(await revisionsOf(adapter, ["s"]), new Map([["s", 5]]));
  assert.equal(await adapter.transaction((tx) => tx.truncateStream!("s", 2)), 0);
  assert.equal((await adapter.streamStatus(["s"])).get("s")?.truncatedBefore, 3);
  assert.equal(await adapter.transaction((tx) => tx.truncateStream!("never", 4)), 0);
  assert.deepEqual(await adapter.streamStatus(["never"]), new Map());
  // Truncating past the end empties the stream but keeps its floor.
  assert.equal(await adapter.transaction((tx) => tx.truncateStream!("s", 10)), 3);
  assert.deepEqual(await storedRevisions(adapter, "s"), []);
  assert.deepEqual(await revisionsOf(adapter, ["s"]), new Map([["s", 5]]));
});

Deno.test("a log read filtered to a truncated stream pages from a cursor in both directions", async () => {
  await using store = await opened();
  const { adapter } = store;
  await write(adapter, "s", 1, 6);
  await write(adapter, "o", 1, 1);
  await adapter.transaction((tx) => tx.truncateStream!("s", 3));
  const all = await adapter.readLog({ direction: "forward", limit: 100, streams: ["s"] });
  assert.deepEqual(all.map((r) => r.revision), [3, 4, 5, 6]);
  const page = async (query: Parameters<SqliteAdapter["readLog"]>[0]) =>
    (await adapter.readLog({ ...query, streams: ["s"] })).map((r) => r.revision);
  assert.deepEqual(await page({ direction: "forward", limit: 2, after: all[1].position }), [5, 6]);
  assert.deepEqual(await page({ direction: "backward", limit: 10, after: all[1].position }), [3]);
  assert.deepEqual(await page({ direction: "backward", limit: 10, after: all[0].position }), []);
  assert.deepEqual(await page({ direction: "forward", limit: 10, after: "0000000000000001" }), [3, 4, 5, 6]);
});

Deno.test("removeStream() removes the stream's snapshots (any name) and relations, not the others'", async () => {
  await using store = await opened();
  const { adapter } = store;
  await write(adapter, "a", 1, 1);
  await write(adapter, "b", 1, 1);
  const snapshot = (name: string, stream: string) => ({
    name,
    stream,
    state: { n: 1 },
    revision: 1,
    position: null,
    version: 1,
  });
  await adapter.putSnapshot(snapshot("counter", "a"));
  await adapter.putSnapshot(snapshot("profile", "a"));
  await adapter.putSnapshot(snapshot("counter", "b"));
  await adapter.updateRelations([
    { op: "insert", key: "team", stream: "a" },
    { op: "insert", key: "team", stream: "b" },
    { op: "insert", key: "solo", stream: "a" },
  ]);
  await adapter.transaction((tx) => tx.removeStream!("a", { revision: 1, tombstone: false }));
  assert.equal(await adapter.getSnapshot("counter", "a"), undefined);
  assert.equal(await adapter.getSnapshot("profile", "a"), undefined);
  assert.deepEqual((await adapter.getSnapshot("counter", "b"))?.state, { n: 1 });
  assert.deepEqual(await adapter.getStreamsByKeys(["team", "solo"]), ["b"]);
});

Deno.test("streamStatus() reports written, deleted, tombstoned and truncated streams, and leaves unknown ones out", async () => {
  await using store = await opened();
  const { adapter } = store;
  await write(adapter, "plain", 1, 2);
  await write(adapter, "gone", 1, 4);
  await write(adapter, "dead", 1, 1);
  await write(adapter, "cut", 1, 7);
  await adapter.transaction(async (tx) => {
    await tx.removeStream!("gone", { revision: 4, tombstone: false });
    await tx.removeStream!("dead", { revision: 1, tombstone: true });
    await tx.truncateStream!("cut", 5);
  });
  await write(adapter, "gone", 5, 6);
  assert.deepEqual(
    await adapter.streamStatus(["plain", "gone", "dead", "cut", "unknown"]),
    new Map([
      ["plain", { revision: 2, deletedAt: 0, tombstoned: false, truncatedBefore: 1 }],
      ["gone", { revision: 6, deletedAt: 4, tombstoned: false, truncatedBefore: 1 }],
      ["dead", { revision: 1, deletedAt: 1, tombstoned: true, truncatedBefore: 1 }],
      ["cut", { revision: 7, deletedAt: 0, tombstoned: false, truncatedBefore: 5 }],
    ]),
  );
  assert.deepEqual(await adapter.streamStatus([]), new Map());
});

Deno.test("stats().streams leaves out emptied streams and counts truncated or rewritten ones once", async () => {
  await using store = await opened();
  const { adapter } = store;
  await write(adapter, "a", 1, 3);
  await write(adapter, "b", 1, 3);
  await write(adapter, "c", 1, 1);
  assert.equal((await adapter.stats()).streams, 3);
  await adapter.transaction((tx) => tx.removeStream!("a", { revision: 3, tombstone: false }));
  assert.deepEqual([(await adapter.stats()).streams, (await adapter.stats()).events], [2, 4]);
  await adapter.transaction((tx) => tx.truncateStream!("b", 3));
  assert.deepEqual([(await adapter.stats()).streams, (await adapter.stats()).events], [2, 2]);
  await write(adapter, "a", 4, 4);
  assert.equal((await adapter.stats()).streams, 3);
  // A stream removed before it was written starts at revision 1 again: counted once.
  await adapter.transaction((tx) => tx.removeStream!("d", { revision: 0, tombstone: false }));
  await write(adapter, "d", 1, 1);
  assert.equal((await adapter.stats()).streams, 4);
  await adapter.transaction((tx) => tx.truncateStream!("b", 10));
  assert.equal((await adapter.stats()).streams, 3);
});

Deno.test("removing the last events of the log never lets a later insert reuse their positions", async () => {
  await using store = await opened();
  const { adapter } = store;
  await write(adapter, "a", 1, 1);
  await write(adapter, "b", 1, 3);
  const [head] = await adapter.readLog({ direction: "backward", limit: 1 });
  const [marker] = await adapter.transaction(async (tx) => {
    await tx.removeStream!("b", { revision: 3, tombstone: false });
    return await tx.insert([row("$streams", 1), row("$streams", 2)]);
  });
  assert.ok(marker.position > head.position, `${marker.position} > ${head.position}`);
  const log = await adapter.readLog({ direction: "forward", limit: 10 });
  assert.deepEqual(log.map((r) => [r.stream, r.revision]), [["a", 1], ["$streams", 1], ["$streams", 2]]);
  assert.deepEqual(log.map((r) => Number(r.position)), [1, 5, 6]);
  await write(adapter, "a", 2, 2);
  assert.equal((await adapter.readLog({ direction: "backward", limit: 1 }))[0].position, "0000000000000007");
});
