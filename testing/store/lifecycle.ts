/**
 * Conformance cases about the stream lifecycle: `deleteStream` (with and without a
 * tombstone, guarded by an expected revision), the `"$stream:deleted"` record seen by
 * hooks, projectors and subscriptions, revisions never reused, and `truncateStream`
 * with folds that need a snapshot.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConcurrencyError, StreamDeletedError, TruncatedStreamError } from "../../errors.ts";
import { STREAM_DELETED, type StreamDeletedRecord, SYSTEM_STREAM } from "../../events/system.ts";
import { Projector } from "../../projectors/projector.ts";
import { makeReducer } from "../../reducers/make_reducer.ts";
import { added, type Case, collect, contents, type Events, rejects, type TestStore } from "../_fixture.ts";
import { head, QUICK } from "./_subscription_helpers.ts";

const sum = makeReducer<Events, number>(
  (total, record) => record.type === "item:added" ? total + record.data.n : total,
  0,
);

async function items(store: TestStore, stream: string, from: number, count: number): Promise<void> {
  await store.pushManyEvents(Array.from({ length: count }, (_, i) => added(store, stream, from + i)));
}

/** A projector that counts `"$stream:deleted"` records by deleted stream. */
function deletions(): { projector: Projector<Events>; seen: string[] } {
  const projector = new Projector<Events>();
  const seen: string[] = [];
  projector.on(STREAM_DELETED, (record: StreamDeletedRecord) => void seen.push(record.data.stream));
  return { projector, seen };
}

/** Cases about deleting and truncating streams. */
export const lifecycleCases: readonly Case[] = [
  {
    name:
      "deleteStream removes events, snapshots and relations, appends $stream:deleted, and revisions go on after it",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushManyEvents([added(store, "a", 1), added(store, "a", 2), added(store, "a", 3)], {
        relations: [{ key: "team", stream: "a" }],
      });
      await items(store, "b", 10, 2);
      await store.fold({ name: "sum", stream: "a", reducer: sum }, true);
      assert.ok(await store.adapter.getSnapshot("sum", "a"));
      const inserted: string[] = [];
      store.onEventsInserted((records) => void inserted.push(...records.map((r) => r.type)));

      const deleted = await store.deleteStream("a");
      assert.equal(deleted.type, STREAM_DELETED);
      assert.equal(deleted.stream, SYSTEM_STREAM);
      assert.deepEqual(deleted.data, { stream: "a", revision: 3, tombstone: false });
      assert.deepEqual(inserted, [STREAM_DELETED], "hooks see the record");
      assert.deepEqual(await collect(store.readStream("a")), []);
      assert.equal(await store.adapter.getSnapshot("sum", "a"), undefined, "snapshots removed");
      assert.deepEqual(await store.adapter.getStreamsByKeys(["team"]), [], "relations removed");
      assert.equal(await store.reduce({ name: "sum", stream: "a", reducer: sum }), undefined);
      const log = await store.getEvents();
      assert.deepEqual(log.map((r) => [r.stream, r.type]), [
        ["b", "item:added"],
        ["b", "item:added"],
        [SYSTEM_STREAM, STREAM_DELETED],
      ]);
      assert.deepEqual(log.at(-1), deleted, "the record reads back as returned");
      const stats = await store.stats();
      assert.equal(stats.events, 3);
      assert.equal(stats.streams, 2, "b and $streams");

      const again = await store.pushEvent(added(store, "a", 4));
      assert.equal(again.revision, 4, "revisions are never reused");
      assert.deepEqual((await collect(store.readStream("a"))).map((r) => r.revision), [4]);
      assert.equal(await store.reduce({ name: "sum", stream: "a", reducer: sum }), 4, "folds start anew");
      assert.deepEqual(await store.streamStatus("a"), {
        revision: 4,
        deletedAt: 3,
        tombstoned: false,
        truncatedBefore: 1,
      });
      assert.equal(await store.streamStatus("never"), undefined);
    },
  },
  {
    name:
      "a tombstoned stream refuses every later append with StreamDeletedError, also inside a multi-stream push",
    async run(ctx) {
      await using store = await ctx.store();
      await items(store, "t", 1, 2);
      const deleted = await store.deleteStream("t", { tombstone: true, expectedRevision: 2 });
      assert.deepEqual(deleted.data, { stream: "t", revision: 2, tombstone: true });
      const before = await contents(store);
      await rejects(() => store.pushEvent(added(store, "t", 3)), StreamDeletedError, (error) => {
        assert.equal(error.stream, "t");
      });
      await rejects(
        () => store.pushManyEvents([added(store, "other", 1), added(store, "t", 3), added(store, "x", 1)]),
        StreamDeletedError,
      );
      await rejects(() => store.import([{ ...added(store, "t", 9) }]), StreamDeletedError);
      await rejects(() => store.deleteStream("t"), StreamDeletedError);
      assert.deepEqual(await contents(store), before, "nothing of those calls was stored");
      assert.equal((await store.streamStatus("t"))?.tombstoned, true);
      assert.equal((await store.pushEvent(added(store, "other", 1))).revision, 1, "other streams go on");
    },
  },
  {
    name:
      "deleteStream with an expectedRevision that does not hold is a ConcurrencyError and removes nothing",
    async run(ctx) {
      await using store = await ctx.store();
      await items(store, "g", 1, 3);
      const before = await contents(store);
      await rejects(() => store.deleteStream("g", { expectedRevision: 2 }), ConcurrencyError, (error) => {
        assert.equal(error.stream, "g");
        assert.equal(error.actual, 3);
      });
      await rejects(() => store.deleteStream("missing", { expectedRevision: "exists" }), ConcurrencyError);
      assert.deepEqual(await contents(store), before);
      await store.deleteStream("g", { expectedRevision: 3 });
      assert.deepEqual(await collect(store.readStream("g")), []);
    },
  },
  {
    name: "deleteStream and truncateStream refuse bad input with a typed error and change nothing",
    async run(ctx) {
      await using store = await ctx.store();
      await items(store, "s", 1, 3);
      const before = await contents(store);
      await rejects(() => store.deleteStream("" as string), TypeError);
      await rejects(() => store.deleteStream(42 as unknown as string), TypeError);
      await rejects(() => store.deleteStream("s", { tombstone: "yes" as unknown as boolean }), TypeError);
      await rejects(() => store.deleteStream("s", { expectedRevision: -1 }), RangeError);
      await rejects(() => store.deleteStream("s", null as never), TypeError);
      for (const before of [0, 1.5, -2, Number.NaN]) {
        await rejects(() => store.truncateStream("s", { before }), RangeError);
      }
      await rejects(() => store.truncateStream("s", { before: "2" as unknown as number }), RangeError);
      await rejects(() => store.truncateStream("s", undefined as never), TypeError);
      await rejects(() => store.deleteStream(SYSTEM_STREAM, { tombstone: true }), TypeError);
      await rejects(() => store.truncateStream(SYSTEM_STREAM, { before: 2 }), TypeError);
      await rejects(() => store.pushEvent(added(store, SYSTEM_STREAM, 1)), TypeError);
      assert.deepEqual(await contents(store), before);
      assert.deepEqual(await store.truncateStream("never", { before: 100 }), { removed: 0 });
      assert.equal(
        await store.streamStatus("never"),
        undefined,
        "truncating a stream never written changes nothing",
      );
      assert.equal((await store.pushEvent(added(store, "never", 1))).revision, 1);
      await items(store, "gone", 1, 3);
      await store.deleteStream("gone");
      assert.deepEqual(
        await store.truncateStream("gone", { before: 2 }),
        { removed: 0 },
        "nothing left to remove",
      );
      assert.equal((await store.pushEvent(added(store, "gone", 4))).revision, 4);
    },
  },
  {
    name: "a live subscription and one catching up later both see $stream:deleted once, in log order",
    async run(ctx) {
      await using store = await ctx.store();
      await items(store, "x", 1, 3);
      const live = deletions();
      await using subscription = store.subscribe("live-deletes", live.projector, QUICK);
      await subscription.waitFor(await head(store));
      const deleted = await store.deleteStream("x");
      await items(store, "y", 1, 2);
      await subscription.waitFor(await head(store));
      assert.deepEqual(live.seen, ["x"]);

      const late = deletions();
      await using catchingUp = store.subscribe("late-deletes", late.projector, QUICK);
      await catchingUp.waitFor(await head(store));
      assert.deepEqual(late.seen, ["x"]);
      const order = await store.getEvents();
      assert.equal(
        order.findIndex((r) => r.id === deleted.id),
        0,
        "the removed events are gone from the log",
      );
    },
  },
  {
    name:
      "truncateStream removes revisions below `before`; a fold then needs a snapshot at before - 1 or later",
    async run(ctx) {
      await using store = await ctx.store();
      await items(store, "s", 1, 5);
      await store.fold({ name: "early", stream: "s", reducer: sum }, true); // at revision 5
      assert.deepEqual(await store.truncateStream("s", { before: 4 }), { removed: 3 });
      assert.deepEqual((await collect(store.readStream("s"))).map((r) => r.revision), [4, 5]);
      assert.deepEqual(
        (await store.truncateStream("s", { before: 2 })).removed,
        0,
        "nothing below 4 is left",
      );
      assert.equal((await store.stats()).events, 2);
      assert.equal((await store.stats()).streams, 1, "a truncated stream with events is still a stream");
      assert.equal(
        await store.reduce({ name: "early", stream: "s", reducer: sum }),
        15,
        "the snapshot covers it",
      );
      await rejects(
        () => store.reduce({ name: "none", stream: "s", reducer: sum }),
        TruncatedStreamError,
        (error) => {
          assert.equal(error.snapshot, "none");
          assert.equal(error.truncatedBefore, 4);
          assert.match(error.message, /snapshot "none" at revision 3 or later/);
        },
      );
      assert.equal((await store.pushEvent(added(store, "s", 6))).revision, 6);
      assert.equal(await store.reduce({ name: "early", stream: "s", reducer: sum }), 21);
      assert.equal((await store.streamStatus("s"))?.truncatedBefore, 4);
      // Truncating everything, then deleting: the stream starts anew and folds from there.
      assert.deepEqual(await store.truncateStream("s", { before: 7 }), { removed: 3 });
      await rejects(() => store.reduce({ name: "none", stream: "s", reducer: sum }), TruncatedStreamError);
      await store.deleteStream("s");
      await items(store, "s", 100, 1);
      assert.equal(await store.reduce({ name: "none", stream: "s", reducer: sum }), 100);
    },
  },
  {
    name: "positions are never handed out again after deleting or truncating the newest events of the log",
    async run(ctx) {
      await using store = await ctx.store();
      await items(store, "s", 1, 3);
      const truncated = await head(store);
      assert.deepEqual(await store.truncateStream("s", { before: 4 }), { removed: 3 });
      const next = await store.pushEvent(added(store, "t", 1));
      assert.ok(next.position > truncated, `after a truncation: ${next.position} > ${truncated}`);
      const deletedHead = await head(store);
      const deleted = await store.deleteStream("t");
      assert.ok(deleted.position > deletedHead, `after a delete: ${deleted.position} > ${deletedHead}`);
      const later = await store.pushEvent(added(store, "u", 1));
      assert.ok(later.position > deleted.position);
      assert.deepEqual((await store.getEvents()).map((r) => r.id), [deleted.id, later.id]);
      // A truncation of the newest events, then a delete of the ones before them.
      await items(store, "a", 1, 3);
      await items(store, "b", 1, 2);
      const seen = await head(store);
      await store.truncateStream("b", { before: 3 });
      const second = await store.deleteStream("a");
      assert.ok(second.position > seen, `truncate then delete: ${second.position} > ${seen}`);
    },
  },
];
