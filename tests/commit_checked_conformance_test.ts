/**
 * The store conformance suite on a commit-checked adapter (conflicts found at commit,
 * positions known only after it), and the store's own behaviour on that model: expected
 * revisions and idempotent retries under real interleaving, and in-transaction listeners
 * refused.
 */
import assert from "node:assert/strict";
import { ConcurrencyError, event, EventFactory, EventStore, isRevisionConflictError } from "../mod.ts";
import { runConformance } from "../testing/mod.ts";
import { lifecycleCases } from "../testing/store/lifecycle.ts";
import { personalCases } from "../testing/store/personal.ts";
import { retentionCases } from "../testing/store/retention.ts";
import { CommitCheckedAdapter } from "./_commit_checked_adapter.ts";

runConformance({
  name: "commit-checked",
  open: () => new CommitCheckedAdapter(),
  // The test adapter has neither a stream lifecycle part nor keys (both optional in the contract).
  skip: Object.fromEntries([
    ...lifecycleCases.map((
      c,
    ) => [`store/lifecycle: ${c.name}`, "the test adapter has no stream lifecycle part"]),
    ...personalCases.map((c) => [`store/personal: ${c.name}`, "the test adapter holds no keys"]),
    ...retentionCases.map((c) => [`store/retention: ${c.name}`, "the test adapter has no stream metadata"]),
  ]),
  // A second adapter over the same committed state, as a second process would open.
  reopen: (adapter) => new CommitCheckedAdapter({ inner: (adapter as CommitCheckedAdapter).inner }),
});

const events = new EventFactory([event.type("tick")]);

/**
 * Holds the first `count` arrivals until all of them arrived, so their transactions have
 * all read before any commits; later arrivals (retries) pass at once.
 */
function meeting(count: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const all = new Promise<void>((resolve) => open = resolve);
  return () => {
    if (arrived >= count) return Promise.resolve();
    if (++arrived === count) open();
    return all;
  };
}

/** `count` stores over one adapter whose first `count` transactions commit only once all have read. */
function writers(count: number): { adapter: CommitCheckedAdapter; stores: EventStore<typeof events>[] } {
  const adapter = new CommitCheckedAdapter({ beforeCommit: meeting(count) });
  const stores = Array.from({ length: count }, () => new EventStore({ adapter, events }));
  return { adapter, stores };
}

async function closeAll(stores: readonly EventStore<typeof events>[]): Promise<void> {
  for (const store of stores) await store.close();
}

Deno.test("commit-checked: of two appends expecting a new stream, one lands and the other gets a ConcurrencyError", async () => {
  const { adapter, stores } = writers(2);
  try {
    const outcomes = await Promise.allSettled(
      stores.map((store) =>
        store.pushEvent(store.event({ type: "tick", stream: "s" }), { expectedRevision: 0 })
      ),
    );
    const won = outcomes.filter((outcome) => outcome.status === "fulfilled");
    const lost = outcomes.filter((outcome): outcome is PromiseRejectedResult =>
      outcome.status === "rejected"
    );
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.ok(lost[0].reason instanceof ConcurrencyError, String(lost[0].reason));
    assert.deepEqual([lost[0].reason.stream, lost[0].reason.expected, lost[0].reason.actual], ["s", 0, 1]);
    assert.equal(adapter.conflicts, 1, "the loser's commit met the winner's revision");
    assert.equal((await adapter.stats()).events, 1);
  } finally {
    await closeAll(stores);
  }
});

Deno.test("commit-checked: a retried push of the same id is a no-op, in turn or racing", async () => {
  const { adapter, stores } = writers(2);
  try {
    const pending = stores[0].event({ type: "tick", stream: "s" });
    const racing = await Promise.all(stores.map((store) => store.pushEvent(pending)));
    assert.ok(adapter.conflicts >= 1, "the second commit met the first");
    assert.deepEqual(racing.map((record) => record.id), [pending.id, pending.id]);
    const again = await stores[1].pushEvent(pending, { expectedRevision: 0 });
    assert.equal(again.id, pending.id);
    const stream = await stores[0].getEventsByStreams(["s"]);
    assert.deepEqual(stream.map((record) => [record.id, record.revision]), [[pending.id, 1]]);
  } finally {
    await closeAll(stores);
  }
});

Deno.test("commit-checked: appends with any revision under contention all land, with contiguous revisions", async () => {
  const count = 4;
  const { adapter, stores } = writers(count);
  try {
    const records = await Promise.all(
      stores.map((store) =>
        store.pushEvent(store.event({ type: "tick", stream: "s" }), { expectedRevision: "any" })
      ),
    );
    assert.ok(adapter.conflicts >= count - 1, `${adapter.conflicts} conflicts`);
    const stream = await stores[0].getEventsByStreams(["s"]);
    assert.deepEqual(stream.map((record) => record.revision), [1, 2, 3, 4]);
    assert.deepEqual(new Set(stream.map((record) => record.id)), new Set(records.map((record) => record.id)));
    const positions = stream.map((record) => record.position);
    assert.deepEqual([...positions].sort(), positions, "positions follow revisions");
  } finally {
    await closeAll(stores);
  }
});

Deno.test("commit-checked: positions are known only after the commit, and a conflict writes nothing", async () => {
  await using adapter = new CommitCheckedAdapter();
  const record = {
    id: "e1",
    stream: "s",
    type: "tick",
    data: null,
    meta: null,
    revision: 1,
    created: "2025-01-01T00:00:00.000Z",
    outdated: false,
  };
  let staged: Promise<unknown> | undefined;
  await adapter.transaction(async (tx) => {
    assert.deepEqual(await tx.revisions(["s"]), new Map([["s", 0]]));
    staged = tx.insert([record]);
    let settled = false;
    staged.then(() => settled = true, () => settled = true);
    await Promise.resolve();
    assert.equal(settled, false, "no position before the commit");
  });
  assert.equal(((await staged) as { position: string }[])[0].position, (await adapter.stats()).head);
  await assert.rejects(
    adapter.transaction(async (tx) => {
      await tx.revisions(["s"]);
      await adapter.inner.transaction((inner) => inner.insert([{ ...record, id: "e2", revision: 2 }]));
      await tx.updateRelations([{ op: "insert", key: "k", stream: "s" }]);
      staged = tx.insert([{ ...record, id: "e3", revision: 2 }]);
    }),
    (error) => isRevisionConflictError(error) && error.stream === "s",
  );
  await assert.rejects(staged!, (error) => isRevisionConflictError(error));
  assert.equal((await adapter.stats()).events, 2);
  assert.deepEqual(await adapter.getStreamsByKeys(["k"]), []);
});

Deno.test("commit-checked: a checkpoint that moved between the read and the commit fails it", async () => {
  await using adapter = new CommitCheckedAdapter();
  await assert.rejects(
    adapter.transaction(async (tx) => {
      assert.equal(await tx.putCheckpoint("c", null, { position: "1" }), true);
      assert.equal(await adapter.putCheckpoint("c", null, { position: "2" }), true);
    }),
    (error) => isRevisionConflictError(error) && error.stream === "$checkpoint:c",
  );
  assert.equal((await adapter.getCheckpoint("c"))?.position, "2");
});

Deno.test("commit-checked: onEventsInserting is refused with a TypeError", async () => {
  await using store = new EventStore({ adapter: new CommitCheckedAdapter(), events });
  assert.throws(() => store.onEventsInserting(() => {}), TypeError);
  await store.pushEvent(store.event({ type: "tick" }));
  assert.equal((await store.stats()).events, 1);
});
