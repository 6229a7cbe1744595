/**
 * Conformance cases about retention: `setStreamMetadata` (`maxCount`, `maxAge` told by an
 * injected clock) hides events from reads of the stream at once, reads of the whole log
 * keep them until `scavenge` removes them, folds agree with truncation, and a scavenge
 * stopped by its signal and run again loses nothing it should keep.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TruncatedStreamError } from "../../errors.ts";
import type { Clock } from "../../events/clock.ts";
import { makeReducer } from "../../reducers/make_reducer.ts";
import {
  added,
  at,
  type Case,
  collect,
  contents,
  type Events,
  rejects,
  type TestStore,
} from "../_fixture.ts";
import { Counter } from "./_counter.ts";
import { AggregateRepository } from "../../aggregates/aggregate_repository.ts";

const sum = makeReducer<Events, number>(
  (total, record) => record.type === "item:added" ? total + record.data.n : total,
  0,
);

/** A clock the case moves by hand. */
function handClock(seconds = 0): Clock & { set(seconds: number): void } {
  let now = at(seconds);
  return { now: () => now, set: (to) => void (now = at(to)) };
}

async function items(store: TestStore, stream: string, from: number, count: number): Promise<void> {
  await store.pushManyEvents(Array.from({ length: count }, (_, i) => added(store, stream, from + i)));
}

async function revisions(iterable: AsyncIterable<{ revision: number }>): Promise<number[]> {
  return (await collect(iterable)).map((record) => record.revision);
}

async function logOf(store: TestStore, stream: string): Promise<number[]> {
  return (await store.getEvents()).filter((record) => record.stream === stream).map((r) => r.revision);
}

/** Cases about retention rules and scavenging. */
export const retentionCases: readonly Case[] = [
  {
    name:
      "maxCount hides older events from reads of the stream at once; the log keeps them until scavenge removes them",
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 2 });
      await store.pushManyEvents(
        Array.from({ length: 7 }, (_, i) => added(store, "s", i + 1)),
        { relations: [{ key: "team", stream: "s" }] },
      );
      await items(store, "other", 1, 2);
      assert.deepEqual(await store.getStreamMetadata("s"), {});
      await store.setStreamMetadata("s", { maxCount: 3 });
      assert.deepEqual(await store.getStreamMetadata("s"), { maxCount: 3 });
      assert.deepEqual((await store.streamStatus("s"))?.metadata, { maxCount: 3 });

      assert.deepEqual(await revisions(store.readStream("s")), [5, 6, 7]);
      assert.deepEqual(await revisions(store.readStream("s", { direction: "backward" })), [7, 6, 5]);
      assert.deepEqual(await revisions(store.readStream("s", { fromRevision: 2, limit: 2 })), [5, 6]);
      assert.deepEqual((await store.getEventsByStreams(["s", "other"])).map((r) => [r.stream, r.revision]), [
        ["s", 5],
        ["s", 6],
        ["s", 7],
        ["other", 1],
        ["other", 2],
      ]);
      assert.deepEqual((await store.getEventsByRelations(["team"])).map((r) => r.revision), [5, 6, 7]);
      assert.deepEqual(await revisions(store.readAll({ streams: ["s"] })), [5, 6, 7]);
      assert.deepEqual(await logOf(store, "s"), [1, 2, 3, 4, 5, 6, 7], "the whole log shows every event");

      // The rule follows the stream's head: an append hides one more.
      await items(store, "s", 8, 1);
      assert.deepEqual(await revisions(store.readStream("s")), [6, 7, 8]);

      const before = (await store.stats()).events;
      const result = await store.scavenge();
      assert.deepEqual(result, { streams: 1, truncated: 1, removed: 5, transactions: 1, complete: true });
      assert.equal((await store.stats()).events, before - 5);
      assert.deepEqual(await logOf(store, "s"), [6, 7, 8]);
      assert.deepEqual(await revisions(store.readStream("s")), [6, 7, 8], "reads show the same as before");
      assert.deepEqual(await store.scavenge(), {
        streams: 1,
        truncated: 0,
        removed: 0,
        transactions: 0,
        complete: true,
      });
      assert.equal((await store.pushEvent(added(store, "s", 9))).revision, 9, "revisions go on");
      assert.deepEqual(await revisions(store.readStream("other")), [1, 2], "other streams keep everything");
    },
  },
  {
    name: "maxAge hides events older than the age by the store's clock, and more of them as the clock moves",
    async run(ctx) {
      const clock = handClock(0);
      await using store = await ctx.store({ clock });
      for (const second of [0, 10, 20, 30]) {
        clock.set(second);
        await store.pushEvent(added(store, "s", second));
      }
      clock.set(35);
      await store.setStreamMetadata("s", { maxAge: 20_000 });
      assert.deepEqual(await revisions(store.readStream("s")), [3, 4], "created at 20 s and 30 s");
      clock.set(45);
      assert.deepEqual(await revisions(store.readStream("s")), [4]);
      assert.deepEqual(await revisions(store.readStream("s", { direction: "backward" })), [4]);
      assert.deepEqual(await logOf(store, "s"), [1, 2, 3, 4]);
      assert.deepEqual(await store.scavenge(), {
        streams: 1,
        truncated: 1,
        removed: 3,
        transactions: 1,
        complete: true,
      });
      assert.deepEqual(await logOf(store, "s"), [4]);
      clock.set(100);
      assert.deepEqual(await revisions(store.readStream("s")), [], "every event expired");
      assert.equal((await store.scavenge()).removed, 1);
      assert.deepEqual(await logOf(store, "s"), []);
      assert.equal((await store.pushEvent(added(store, "s", 100))).revision, 5);
      assert.deepEqual(await revisions(store.readStream("s")), [5]);

      // Both rules at once: an event shows only when both keep it.
      await store.setStreamMetadata("s", { maxAge: 60_000, maxCount: 1 });
      await store.pushEvent(added(store, "s", 101));
      assert.deepEqual(await revisions(store.readStream("s")), [6]);
      await store.setStreamMetadata("s", {});
      assert.deepEqual(await store.getStreamMetadata("s"), {}, "{} removes the rules");
      assert.deepEqual(await revisions(store.readStream("s")), [5, 6]);
    },
  },
  {
    name:
      "maxAge hides the oldest run of expired events: an older event after a younger one stays, and reads, scavenge and folds agree",
    async run(ctx) {
      const clock = handClock(1000);
      await using store = await ctx.store({ clock });
      await store.pushManyEvents([
        store.event({ type: "item:added", stream: "s", data: { n: 1 }, created: at(0) }),
        store.event({ type: "item:added", stream: "s", data: { n: 2 }, created: at(1000) }),
        store.event({ type: "item:added", stream: "s", data: { n: 4 }, created: at(0) }),
        store.event({ type: "item:added", stream: "s", data: { n: 8 }, created: at(1000) }),
      ]);
      await store.setStreamMetadata("s", { maxAge: 500_000 });
      assert.deepEqual(await revisions(store.readStream("s")), [2, 3, 4]);
      assert.deepEqual(await revisions(store.readStream("s", { direction: "backward" })), [4, 3, 2]);
      await rejects(() => store.reduce({ name: "none", stream: "s", reducer: sum }), TruncatedStreamError);
      assert.deepEqual(await store.scavenge(), {
        streams: 1,
        truncated: 1,
        removed: 1,
        transactions: 1,
        complete: true,
      });
      assert.deepEqual(await logOf(store, "s"), [2, 3, 4], "scavenge removed exactly what reads hid");
      assert.deepEqual(await revisions(store.readStream("s")), [2, 3, 4]);
    },
  },
  {
    name: "a fold of a stream whose rules hide events needs a snapshot past them, as after a truncation",
    async run(ctx) {
      const clock = handClock(0);
      await using store = await ctx.store({ clock });
      await items(store, "s", 1, 4);
      await store.fold({ name: "saved", stream: "s", reducer: sum }, true); // at revision 4
      await items(store, "s", 5, 2);
      await store.setStreamMetadata("s", { maxCount: 2 });
      assert.equal(
        await store.reduce({ name: "saved", stream: "s", reducer: sum }),
        21,
        "the snapshot covers it",
      );
      await rejects(
        () => store.reduce({ name: "none", stream: "s", reducer: sum }),
        TruncatedStreamError,
        (error) => {
          assert.equal(error.retained, true);
          assert.equal(error.truncatedBefore, 5);
          assert.match(error.message, /retention rules hide/);
          assert.match(error.message, /snapshot "none" at revision 4 or later/);
        },
      );
      // After scavenge the fold fails the same way: reads and removal agree.
      await store.scavenge();
      await rejects(() => store.reduce({ name: "none", stream: "s", reducer: sum }), TruncatedStreamError);
      assert.equal(await store.reduce({ name: "saved", stream: "s", reducer: sum }), 21);

      // By age: the fold misses the expired events, and says so.
      await store.aggregate.from(Counter, "c").increment(1).save();
      clock.set(100);
      await (await store.aggregate.getByStream(Counter, "c"))!.increment(2).save();
      await store.setStreamMetadata("c", { maxAge: 50_000 });
      await rejects(() => store.aggregate.getByStream(Counter, "c"), TruncatedStreamError, (error) => {
        assert.equal(error.retained, true);
        assert.equal(error.truncatedBefore, 2);
      });
      const own = new AggregateRepository(store); // made by hand: no reader of the store's own
      await rejects(() => own.getByStream(Counter, "c"), TruncatedStreamError);
      await store.setStreamMetadata("c", {});
      assert.equal((await store.aggregate.getByStream(Counter, "c"))?.value, 3);
      await store.truncateStream("c", { before: 2 });
      await rejects(() => own.getByStream(Counter, "c"), TruncatedStreamError, (error) => {
        assert.equal(error.retained, false);
      });
    },
  },
  {
    name:
      "scavenge works in bounded transactions; stopped by its signal and run again it loses nothing it should keep",
    async run(ctx) {
      await using store = await ctx.store();
      for (const stream of ["a", "b", "c"]) await items(store, stream, 1, 7);
      await store.setStreamMetadata("a", { maxCount: 2 });
      await store.setStreamMetadata("c", { maxCount: 1 });
      const shown = async () => ({
        a: await revisions(store.readStream("a")),
        b: await revisions(store.readStream("b")),
        c: await revisions(store.readStream("c")),
      });
      const expected = await shown();
      assert.deepEqual(expected, { a: [6, 7], b: [1, 2, 3, 4, 5, 6, 7], c: [7] });

      const stop = new AbortController();
      const seen: number[] = [];
      const first = await store.scavenge({
        batchSize: 2,
        signal: stop.signal,
        onProgress: (progress) => {
          seen.push(progress.removed);
          if (progress.transactions === 2) stop.abort();
        },
      });
      assert.deepEqual(first, { streams: 1, truncated: 0, removed: 4, transactions: 2, complete: false });
      assert.deepEqual(seen, [2, 4]);
      assert.deepEqual(await logOf(store, "a"), [5, 6, 7], "only what the rules hide went");
      assert.deepEqual(await shown(), expected);

      const rest = await store.scavenge({ batchSize: 2 });
      assert.equal(rest.complete, true);
      assert.equal(rest.removed, 1 + 6);
      assert.equal(rest.transactions, 1 + 3, "a: one more; c: six events in three");
      assert.deepEqual(await shown(), expected);
      assert.deepEqual(await logOf(store, "a"), [6, 7]);
      assert.deepEqual(await logOf(store, "b"), [1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(await logOf(store, "c"), [7]);

      const aborted = new AbortController();
      aborted.abort();
      assert.deepEqual(await store.scavenge({ signal: aborted.signal }), {
        streams: 0,
        truncated: 0,
        removed: 0,
        transactions: 0,
        complete: false,
      });
    },
  },
  {
    name: "metadata survives a delete, may be set before the first event, and is stored as given",
    async run(ctx) {
      await using store = await ctx.store();
      await store.setStreamMetadata("later", { maxCount: 2 });
      assert.deepEqual(await store.streamStatus("later"), {
        revision: 0,
        deletedAt: 0,
        tombstoned: false,
        truncatedBefore: 1,
        metadata: { maxCount: 2 },
      });
      assert.equal((await store.stats()).streams, 0, "a stream with only metadata holds no events");
      await items(store, "later", 1, 3);
      assert.deepEqual(await revisions(store.readStream("later")), [2, 3]);
      await store.deleteStream("later");
      await items(store, "later", 4, 3);
      assert.deepEqual(await store.getStreamMetadata("later"), { maxCount: 2 });
      assert.deepEqual(await revisions(store.readStream("later")), [5, 6]);
      await store.setStreamMetadata("later", { maxAge: 3_600_000 });
      assert.deepEqual(await store.getStreamMetadata("later"), { maxAge: 3_600_000 }, "replaced, not merged");
      await store.setStreamMetadata("big", { maxCount: 2 ** 31 - 1, maxAge: Number.MAX_SAFE_INTEGER });
      assert.deepEqual(await store.getStreamMetadata("big"), {
        maxCount: 2 ** 31 - 1,
        maxAge: Number.MAX_SAFE_INTEGER,
      });
      await store.setStreamMetadata("big", {});
      assert.equal(
        await store.streamStatus("big"),
        undefined,
        "a stream never written, its rules gone, is unknown",
      );
    },
  },
  {
    name: "bad metadata and scavenge options are typed errors and change nothing",
    async run(ctx) {
      await using store = await ctx.store();
      await items(store, "s", 1, 3);
      await store.setStreamMetadata("s", { maxCount: 5 });
      const before = await contents(store);
      for (const bad of [null, [], "maxCount", 5]) {
        await rejects(() => store.setStreamMetadata("s", bad as never), TypeError);
      }
      await rejects(() => store.setStreamMetadata("s", { max_count: 1 } as never), TypeError, (error) => {
        assert.match(error.message, /"max_count"/);
      });
      for (const bad of [0, -1, 1.5, Number.NaN, "10", Infinity]) {
        await rejects(() => store.setStreamMetadata("s", { maxCount: bad as number }), RangeError);
        await rejects(() => store.setStreamMetadata("s", { maxAge: bad as number }), RangeError);
      }
      await rejects(() => store.setStreamMetadata("s", { maxCount: 2 ** 31 }), RangeError);
      await rejects(() => store.setStreamMetadata("s", { maxAge: 2 ** 53 }), RangeError);
      await rejects(() => store.setStreamMetadata("$streams", { maxCount: 1 }), TypeError);
      await rejects(() => store.setStreamMetadata("", { maxCount: 1 }), TypeError);
      await rejects(() => store.scavenge({ batchSize: 0 }), RangeError);
      await rejects(() => store.scavenge({ signal: "stop" as never }), TypeError);
      await rejects(() => store.scavenge(null as never), TypeError);
      await rejects(() => store.truncateStream("s", { before: 5 }), RangeError, (error) => {
        assert.match(error.message, /at most 4/);
      });
      assert.deepEqual(await store.getStreamMetadata("s"), { maxCount: 5 });
      assert.deepEqual(await contents(store), before);

      await using odd = await ctx.store({ clock: { now: () => "tick-0001" } });
      await rejects(() => odd.setStreamMetadata("s", { maxAge: 1000 }), TypeError, (error) => {
        assert.match(error.message, /clock/);
      });
      await odd.setStreamMetadata("s", { maxCount: 1 });
    },
  },
];
