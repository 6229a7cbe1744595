/**
 * Store cases about what runs around a commit: after-commit hooks (`onEventsInserted`)
 * and in-transaction listeners (`onEventsInserting`), which a commit-checked adapter
 * refuses at registration with a `TypeError`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isCommitChecked } from "../../contract/mod.ts";
import {
  added,
  assertIncreasing,
  asStored,
  type Case,
  contents,
  type Rec,
  rejects,
  type TestStore,
  tick,
  turn,
} from "../_fixture.ts";
import { foreign, idsOf } from "./_foreign.ts";

/** Checks that the store refuses an in-transaction listener (on a commit-checked adapter). */
function assertRefused(store: TestStore, listener: Parameters<TestStore["onEventsInserting"]>[0]): void {
  assert.throws(
    () => store.onEventsInserting(listener),
    (error: unknown) => {
      assert.ok(error instanceof TypeError, `expected a TypeError, got ${error}`);
      assert.match(error.message, /onEventsInserting/);
      return true;
    },
    "a commit-checked adapter refuses onEventsInserting at registration",
  );
}

/** Cases about after-commit hooks and in-transaction listeners. */
export const hookCases: readonly Case[] = [
  {
    name:
      "onEventsInserted runs after commit with the records in commit order, with batch and hydrated flags",
    async run(ctx) {
      await using store = await ctx.store();
      const calls: { ids: string[]; batch?: string; hydrated: boolean }[] = [];
      let running = 0;
      let overlapped = false;
      store.onEventsInserted(async (records, { batch, hydrated }) => {
        overlapped ||= ++running > 1;
        const stored = await store.adapter.getByIds(idsOf(records));
        assert.deepEqual(stored, records.map(asStored), "the records are committed when the listener runs");
        assertIncreasing(records.map((record) => record.position), "positions of one call");
        calls.push({ ids: idsOf(records), batch, hydrated });
        await turn();
        running--;
      });
      const first = await store.pushManyEvents([
        added(store, "a", 1),
        added(store, "b", 2),
        added(store, "a", 3),
      ], {
        batch: "b1",
      });
      assert.deepEqual(
        calls,
        [{ ids: idsOf(first), batch: "b1", hydrated: false }],
        "ran before the push resolved",
      );
      const second = await store.pushEvent(tick(store, "a"));
      const { imported } = await store.import([foreign("c", 1, 1)], { batch: "sync" });
      assert.deepEqual(calls.slice(1), [
        { ids: [second.id], batch: undefined, hydrated: false },
        { ids: idsOf(imported), batch: "sync", hydrated: true },
      ]);
      calls.length = 0;
      const concurrent = await Promise.all(
        Array.from({ length: 12 }, (_, i) => store.pushEvent(added(store, `s${i % 3}`, i))),
      );
      assert.equal(calls.length, 12);
      assert.deepEqual(
        calls.flatMap((call) => call.ids).sort(),
        idsOf(concurrent).sort(),
        "each record once",
      );
      assert.equal(overlapped, false, "listeners run one batch at a time");
    },
  },
  {
    name:
      "a listener that appends after an await gets its reply, its records reach listeners next, and a push from outside still waits for its own",
    async run(ctx) {
      await using store = await ctx.store();
      const seen: string[] = [];
      store.onEventsInserted(async (records) => {
        for (const record of records) {
          seen.push(`${record.type}@${record.stream}`);
          if (record.type !== "item:added") continue;
          // A process manager: it reads before it appends, so the append is past an await.
          await store.adapter.getByIds([record.id]);
          await turn();
          const reply = await store.pushEvent(tick(store, record.stream));
          assert.equal(reply.revision, record.revision + 1, "the reply comes while the listener runs");
        }
      });
      await store.pushEvent(added(store, "o1", 1));
      assert.deepEqual(seen, ["item:added@o1", "tick@o1"], "the listener's append reached listeners next");
      await store.pushEvent(added(store, "o2", 2));
      const outside = await store.pushEvent(tick(store, "o3"));
      assert.deepEqual(seen.slice(2), ["item:added@o2", "tick@o2", "tick@o3"]);
      assert.equal(outside.revision, 1);
    },
  },
  {
    name: "a throwing onEventsInserted listener loses nothing and reaches onError",
    async run(ctx) {
      await using store = await ctx.store();
      const reported: { error: unknown; ids: string[] }[] = [];
      store.onError((error, { records }) => void reported.push({ error, ids: idsOf(records) }));
      const boom = new Error("listener failed");
      const after: string[] = [];
      store.onEventsInserted(() => {
        throw boom;
      });
      store.onEventsInserted(() => Promise.reject(boom));
      store.onEventsInserted((records) => void after.push(...idsOf(records)));
      const records = await store.pushManyEvents([added(store, "s", 1), added(store, "s", 2)]);
      assert.deepEqual(reported, [{ error: boom, ids: idsOf(records) }, {
        error: boom,
        ids: idsOf(records),
      }]);
      assert.deepEqual(after, idsOf(records), "the other listeners still ran");
      assert.deepEqual(await store.getEvents(), records, "the events are stored");
      const next = await store.pushEvent(added(store, "s", 3), { expectedRevision: 2 });
      assert.equal(next.revision, 3, "the store goes on");
    },
  },
  {
    name: "unsubscribe stops an onEventsInserted listener, and emit false skips listeners",
    async run(ctx) {
      await using store = await ctx.store();
      const seen: string[] = [];
      const subscription = store.onEventsInserted((records) => void seen.push(...idsOf(records)));
      const first = await store.pushEvent(added(store, "s", 1));
      const quiet = await store.pushEvent(added(store, "s", 2), { emit: false });
      await store.import([foreign("s", 3, 3)], { emit: false });
      subscription.unsubscribe();
      subscription.unsubscribe();
      await store.pushEvent(added(store, "s", 4));
      assert.deepEqual(seen, [first.id]);
      assert.equal(quiet.revision, 2);
      assert.equal((await store.stats()).events, 4);
    },
  },
  {
    name: "an onEventsInserting listener that throws leaves no event and no relation behind",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushEvent(added(store, "s", 1));
      const before = await contents(store);
      const boom = new Error("email taken");
      if (isCommitChecked(store.adapter)) {
        assertRefused(store, () => {
          throw boom;
        });
        const records = await store.pushManyEvents([added(store, "s", 2)], {
          relations: [{ key: "k", stream: "s" }],
        });
        assert.equal(records[0].revision, 2, "the refused listener was not registered");
        assert.deepEqual(await store.relations.getByKey("k"), ["s"]);
        return;
      }
      const listener = store.onEventsInserting(() => {
        throw boom;
      });
      const error = await rejects(
        () =>
          store.pushManyEvents([added(store, "s", 2), added(store, "t", 1)], {
            relations: [{ key: "k", stream: "t" }],
          }),
        Error,
      );
      assert.ok(error === boom || error.cause === boom, `the listener's error comes back: ${error}`);
      await rejects(() => store.import([foreign("u", 1, 1)]), Error);
      assert.deepEqual(await contents(store), before);
      assert.deepEqual(await store.relations.getByKey("k"), []);
      listener.unsubscribe();
      const records = await store.pushManyEvents([added(store, "s", 2)], {
        relations: [{ key: "k", stream: "s" }],
      });
      assert.equal(records[0].revision, 2, "the rolled back revision is used by the next append");
      assert.deepEqual(await store.relations.getByKey("k"), ["s"]);
    },
  },
  {
    name: "an onEventsInserting listener sees the records and the transaction handle inside the append",
    async run(ctx) {
      await using store = await ctx.store();
      const calls: { records: Rec[]; batch?: string; hydrated: boolean; tx: boolean }[] = [];
      if (isCommitChecked(store.adapter)) {
        assertRefused(store, (records, { batch, hydrated, tx }) => {
          calls.push({ records, batch, hydrated, tx: tx !== undefined && tx !== null });
        });
        await store.pushManyEvents([added(store, "s", 1), tick(store, "t")], { batch: "b" });
        await store.import([foreign("s", 2, 2)]);
        assert.deepEqual(calls, [], "the refused listener never runs");
        assert.equal((await store.stats()).events, 3);
        return;
      }
      store.onEventsInserting((records, { batch, hydrated, tx }) => {
        calls.push({ records, batch, hydrated, tx: tx !== undefined && tx !== null });
      });
      const pushed = await store.pushManyEvents([added(store, "s", 1), tick(store, "t")], { batch: "b" });
      const { imported } = await store.import([foreign("s", 2, 2)]);
      assert.deepEqual(calls, [
        { records: pushed, batch: "b", hydrated: false, tx: true },
        { records: imported, batch: undefined, hydrated: true, tx: true },
      ]);
      await store.pushEvent(added(store, "s", 3));
      assert.equal(calls.length, 3);
      const existing = added(store, "x", 1);
      await store.pushEvent(existing);
      await store.pushEvent(existing);
      assert.equal(calls.length, 4, "a call that stores nothing new does not run the listener");
    },
  },
];
