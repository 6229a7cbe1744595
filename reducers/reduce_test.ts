import assert from "node:assert/strict";
import type { EventRecord } from "../events/record.ts";
import type { Snapshot } from "../contract/mod.ts";
import { fold, type FoldReader, type FoldSpec } from "./reduce.ts";

function record(stream: string, revision: number, type = "added", data: unknown = revision): EventRecord {
  return {
    id: `${stream}-${revision}`,
    stream,
    type,
    data,
    meta: null,
    revision,
    position: String(revision).padStart(4, "0"),
    created: "2025-01-01T00:00:00.000Z",
    recorded: "2025-01-01T00:00:00.000Z",
    outdated: false,
    imported: false,
  };
}

/** Snapshots and relations in a map, with a log of what the fold asked. */
class FakeStorage {
  readonly snapshots = new Map<string, Snapshot>();
  readonly relations = new Map<string, string[]>();
  readonly calls: string[] = [];
  getSnapshot(name: string, stream: string): Promise<Snapshot | undefined> {
    this.calls.push(`getSnapshot ${name} ${stream}`);
    return Promise.resolve(this.snapshots.get(JSON.stringify([name, stream])));
  }
  putSnapshot(snapshot: Snapshot): Promise<void> {
    this.calls.push(`putSnapshot ${snapshot.name} ${snapshot.stream}`);
    this.snapshots.set(JSON.stringify([snapshot.name, snapshot.stream]), snapshot);
    return Promise.resolve();
  }
  deleteSnapshot(name: string, stream: string): Promise<void> {
    this.snapshots.delete(JSON.stringify([name, stream]));
    return Promise.resolve();
  }
  getStreamsByKeys(keys: readonly string[]): Promise<string[]> {
    return Promise.resolve(keys.flatMap((key) => this.relations.get(key) ?? []));
  }
}

/** A reader over fixed records, in pages of two, that records each query. */
class FakeReader implements FoldReader {
  readonly queries: unknown[] = [];
  constructor(readonly records: readonly EventRecord[]) {}
  async *stream(
    stream: string,
    fromRevision: number,
    types?: readonly string[],
  ): AsyncIterable<EventRecord[]> {
    this.queries.push({ stream, fromRevision, types });
    yield* pages(
      this.records.filter((r) =>
        r.stream === stream && r.revision >= fromRevision && (types === undefined || types.includes(r.type))
      ),
    );
  }
  async *log(
    streams: readonly string[],
    after: string | undefined,
    types?: readonly string[],
  ): AsyncIterable<EventRecord[]> {
    this.queries.push({ streams, after, types });
    yield* pages(
      this.records.filter((r) =>
        streams.includes(r.stream) && (after === undefined || r.position > after) &&
        (types === undefined || types.includes(r.type))
      ),
    );
  }
}

async function* pages(records: readonly EventRecord[]): AsyncIterable<EventRecord[]> {
  for (let i = 0; i < records.length; i += 2) yield records.slice(i, i + 2);
}

const sum = (overrides: Partial<FoldSpec<number>> = {}): FoldSpec<number> => ({
  name: "sum",
  initial: () => 0,
  step: (total, r) => total + (r.data as number),
  version: 1,
  snapshot: "manual",
  ...overrides,
});

Deno.test("fold() of an empty stream has no state and covers nothing", async () => {
  const storage = new FakeStorage();
  const result = await fold(storage, new FakeReader([]), { stream: "s" }, sum());
  assert.deepEqual(result, { state: undefined, revision: 0, position: null, folded: 0 });
  assert.equal(storage.snapshots.size, 0, "nothing to save");
});

Deno.test("fold() folds a stream page by page from revision 1", async () => {
  const reader = new FakeReader(
    [1, 2, 3, 4, 5].map((n) => record("s", n)).concat(record("t", 1, "added", 100)),
  );
  const result = await fold(new FakeStorage(), reader, { stream: "s" }, sum());
  assert.deepEqual(result, { state: 15, revision: 5, position: "0005", folded: 5 });
  assert.deepEqual(reader.queries, [{ stream: "s", fromRevision: 1, types: undefined }]);
});

Deno.test("fold() starts from a snapshot of its version and reads only what follows it", async () => {
  const storage = new FakeStorage();
  await storage.putSnapshot({
    name: "sum",
    stream: "s",
    state: 1000,
    revision: 3,
    position: "0003",
    version: 1,
  });
  const reader = new FakeReader([1, 2, 3, 4, 5].map((n) => record("s", n)));
  const result = await fold(
    storage,
    reader,
    { stream: "s" },
    sum({ restore: (saved) => (saved as number) + 1 }),
  );
  assert.deepEqual(result, { state: 1001 + 4 + 5, revision: 5, position: "0005", folded: 2 });
  assert.deepEqual(reader.queries, [{ stream: "s", fromRevision: 4, types: undefined }]);
});

Deno.test("fold() ignores a snapshot of another version and one with nothing after it still gives its state", async () => {
  const storage = new FakeStorage();
  await storage.putSnapshot({
    name: "sum",
    stream: "s",
    state: 1000,
    revision: 2,
    position: "0002",
    version: 1,
  });
  const reader = new FakeReader([1, 2].map((n) => record("s", n)));
  const other = await fold(storage, reader, { stream: "s" }, sum({ version: 2 }));
  assert.deepEqual(other, { state: 3, revision: 2, position: "0002", folded: 2 });
  const same = await fold(storage, reader, { stream: "s" }, sum());
  assert.deepEqual(same, { state: 1000, revision: 2, position: "0002", folded: 0 });
});

Deno.test("fold() passes its types filter to the reader", async () => {
  const reader = new FakeReader([record("s", 1), record("s", 2, "removed", -50), record("s", 3)]);
  const result = await fold(new FakeStorage(), reader, { stream: "s" }, sum({ types: ["added"] }));
  assert.deepEqual(result, { state: 4, revision: 3, position: "0003", folded: 2 });
  assert.deepEqual(reader.queries, [{ stream: "s", fromRevision: 1, types: ["added"] }]);
});

Deno.test('fold() with snapshots "never" neither reads nor writes them', async () => {
  const storage = new FakeStorage();
  await storage.putSnapshot({
    name: "sum",
    stream: "s",
    state: 1000,
    revision: 1,
    position: "0001",
    version: 1,
  });
  storage.calls.length = 0;
  const result = await fold(
    storage,
    new FakeReader([record("s", 1)]),
    { stream: "s" },
    sum({ snapshot: "never" }),
  );
  assert.equal(result.state, 1);
  assert.deepEqual(storage.calls, []);
});

Deno.test("fold() saves a snapshot when the policy is due or when forced", async () => {
  const storage = new FakeStorage();
  const reader = new FakeReader([1, 2, 3].map((n) => record("s", n)));
  await fold(storage, reader, { stream: "s" }, sum({ snapshot: { every: 4 } }));
  assert.equal(storage.snapshots.size, 0, "3 events folded, not yet due");
  await fold(storage, reader, { stream: "s" }, sum({ snapshot: { every: 3 }, save: (n) => n * 10 }));
  assert.deepEqual(storage.snapshots.get(JSON.stringify(["sum", "s"])), {
    name: "sum",
    stream: "s",
    state: 60,
    revision: 3,
    position: "0003",
    version: 1,
  });
  storage.snapshots.clear();
  await fold(storage, reader, { stream: "s" }, sum(), true);
  assert.equal(storage.snapshots.get(JSON.stringify(["sum", "s"]))?.state, 6, "manual, forced");
});

Deno.test("fold() of a relation reads its streams by position and keeps a snapshot only while they stay the same", async () => {
  const storage = new FakeStorage();
  storage.relations.set("k", ["b", "a"]);
  const all = [record("a", 1), { ...record("b", 1), position: "0002" }, {
    ...record("a", 2),
    position: "0003",
  }];
  const reader = new FakeReader(all);
  const first = await fold(storage, reader, { relation: "k" }, sum(), true);
  assert.deepEqual(first, { state: 4, revision: 0, position: "0003", folded: 3 });
  assert.deepEqual(reader.queries, [{ streams: ["a", "b"], after: undefined, types: undefined }]);
  const saved = storage.snapshots.get(JSON.stringify(["sum", "k"]));
  assert.deepEqual(saved?.state, { streams: ["a", "b"], state: 4 });
  assert.equal(saved?.revision, null);

  reader.queries.length = 0;
  const again = await fold(storage, reader, { relation: "k" }, sum());
  assert.deepEqual(again, { state: 4, revision: 0, position: "0003", folded: 0 });
  assert.deepEqual(reader.queries, [{ streams: ["a", "b"], after: "0003", types: undefined }]);

  storage.relations.set("k", ["a"]);
  reader.queries.length = 0;
  const changed = await fold(storage, reader, { relation: "k" }, sum());
  assert.deepEqual(
    changed,
    { state: 3, revision: 0, position: "0003", folded: 2 },
    "the snapshot is ignored",
  );
  assert.deepEqual(reader.queries, [{ streams: ["a"], after: undefined, types: undefined }]);
});

Deno.test("fold() of a relation without streams has no state and reads nothing", async () => {
  const reader = new FakeReader([record("a", 1)]);
  const result = await fold(new FakeStorage(), reader, { relation: "none" }, sum());
  assert.deepEqual(result, { state: undefined, revision: 0, position: null, folded: 0 });
  assert.deepEqual(reader.queries, []);
});
