/**
 * Conformance cases about appending: atomic batches, expected revisions, racing writers,
 * contiguous revisions and idempotent ids.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConcurrencyError } from "../../errors.ts";
import type { ExpectedRevision } from "../../events/expected_revision.ts";
import { EventValidationError } from "../../errors.ts";
import {
  added,
  assertIncreasing,
  type Case,
  collect,
  contents,
  rejects,
  type TestStore,
  tick,
} from "../_fixture.ts";

async function revisions(store: TestStore, stream: string): Promise<number[]> {
  return (await collect(store.readStream(stream))).map((record) => record.revision);
}

function conflict(stream: string, expected: ExpectedRevision, actual: number) {
  return (error: ConcurrencyError): void => {
    assert.equal(error.stream, stream, "ConcurrencyError.stream");
    assert.equal(error.expected, expected, "ConcurrencyError.expected");
    assert.equal(error.actual, actual, "ConcurrencyError.actual");
  };
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Cases about appending. */
export const appendCases: readonly Case[] = [
  {
    name: "pushManyEvents persists nothing when an event in the middle is invalid",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushEvent(added(store, "earlier", 0));
      const before = await contents(store);
      await rejects(
        () =>
          store.pushManyEvents([
            added(store, "a", 1),
            { type: "item:added", stream: "b", data: { n: "two" } } as never,
            added(store, "c", 3),
          ]),
        EventValidationError,
        (error) => {
          assert.equal(error.type, "item:added");
          assert.ok(error.issues.some((issue) => issue.path === "data.n"), JSON.stringify(error.issues));
        },
      );
      assert.deepEqual(await contents(store), before);
      assert.equal((await store.stats()).events, 1);
      assert.deepEqual(await collect(store.readStream("a")), []);
    },
  },
  {
    name: "pushManyEvents commits a batch spanning streams together, in call order",
    async run(ctx) {
      await using store = await ctx.store();
      const batch = [added(store, "a", 1), added(store, "b", 2), added(store, "a", 3), tick(store, "c")];
      const records = await store.pushManyEvents(batch);
      assert.deepEqual(records.map((record) => record.id), batch.map((event) => event.id));
      assert.deepEqual(records.map((record) => [record.stream, record.revision]), [
        ["a", 1],
        ["b", 1],
        ["a", 2],
        ["c", 1],
      ]);
      assertIncreasing(records.map((record) => record.position), "positions of one batch");
      assert.deepEqual(await store.getEvents(), records);
      assert.deepEqual(await store.stats(), { events: 4, streams: 3, head: records[3].position });
    },
  },
  {
    name: "expectedRevision 0 appends to a new stream and rejects an existing one",
    async run(ctx) {
      await using store = await ctx.store();
      const first = await store.pushEvent(added(store, "s", 1), { expectedRevision: 0 });
      assert.equal(first.revision, 1);
      const before = await contents(store);
      await rejects(
        () => store.pushEvent(added(store, "s", 2), { expectedRevision: 0 }),
        ConcurrencyError,
        conflict("s", 0, 1),
      );
      assert.deepEqual(await contents(store), before);
    },
  },
  {
    name: "expectedRevision n appends only when the stream holds exactly n events",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushManyEvents([added(store, "s", 1), added(store, "s", 2)]);
      const third = await store.pushEvent(added(store, "s", 3), { expectedRevision: 2 });
      assert.equal(third.revision, 3);
      const before = await contents(store);
      await rejects(
        () => store.pushEvent(added(store, "s", 4), { expectedRevision: 2 }),
        ConcurrencyError,
        conflict("s", 2, 3),
      );
      await rejects(
        () => store.pushEvent(added(store, "s", 4), { expectedRevision: 7 }),
        ConcurrencyError,
        conflict("s", 7, 3),
      );
      await rejects(
        () => store.pushEvent(added(store, "new", 1), { expectedRevision: 1 }),
        ConcurrencyError,
        conflict("new", 1, 0),
      );
      assert.deepEqual(await contents(store), before);
    },
  },
  {
    name: 'expectedRevision "any" appends whatever the stream holds',
    async run(ctx) {
      await using store = await ctx.store();
      const first = await store.pushEvent(added(store, "s", 1), { expectedRevision: "any" });
      const second = await store.pushEvent(added(store, "s", 2), { expectedRevision: "any" });
      assert.deepEqual([first.revision, second.revision], [1, 2]);
    },
  },
  {
    name: 'expectedRevision "exists" rejects a missing stream and appends to an existing one',
    async run(ctx) {
      await using store = await ctx.store();
      await rejects(
        () => store.pushEvent(added(store, "s", 1), { expectedRevision: "exists" }),
        ConcurrencyError,
        conflict("s", "exists", 0),
      );
      assert.deepEqual(await contents(store), { stats: { events: 0, streams: 0, head: null }, records: [] });
      await store.pushEvent(added(store, "s", 1));
      const second = await store.pushEvent(added(store, "s", 2), { expectedRevision: "exists" });
      assert.equal(second.revision, 2);
    },
  },
  {
    name: "expectedRevision per stream guards each stream, and one mismatch writes nothing of the call",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushEvent(added(store, "a", 1));
      const ok = await store.pushManyEvents([added(store, "a", 2), added(store, "b", 1)], {
        expectedRevision: { a: 1, b: 0 },
      });
      assert.deepEqual(ok.map((record) => record.revision), [2, 1]);
      const before = await contents(store);
      await rejects(
        () =>
          store.pushManyEvents([added(store, "a", 3), added(store, "b", 2), added(store, "c", 1)], {
            expectedRevision: { a: 2, b: 0 },
          }),
        ConcurrencyError,
        conflict("b", 0, 1),
      );
      assert.deepEqual(await contents(store), before);
      // Streams without an entry in the record are not checked.
      const free = await store.pushManyEvents([added(store, "a", 3), added(store, "c", 1)], {
        expectedRevision: { a: 2 },
      });
      assert.deepEqual(free.map((record) => record.revision), [3, 1]);
    },
  },
  {
    name: "two writers racing on one stream with the same expected revision: exactly one wins",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushEvent(added(store, "s", 0));
      const writers = [1, 2, 3, 4].map((w) => [added(store, "s", w * 10), added(store, "s", w * 10 + 1)]);
      const outcomes = await Promise.allSettled(
        writers.map((batch) => store.pushManyEvents(batch, { expectedRevision: 1 })),
      );
      const won = outcomes.flatMap((outcome, i) => outcome.status === "fulfilled" ? [i] : []);
      assert.equal(won.length, 1, `exactly one writer must win, ${won.length} did`);
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome.status === "fulfilled") continue;
        assert.ok(
          outcome.reason instanceof ConcurrencyError,
          `a losing writer must get ConcurrencyError, got ${outcome.reason}`,
        );
        conflict("s", 1, 3)(outcome.reason);
        const stored = await store.adapter.getByIds(writers[i].map((event) => event.id));
        assert.deepEqual(stored, [], "nothing of a losing writer is stored");
      }
      const stream = await collect(store.readStream("s"));
      assert.deepEqual(stream.map((record) => record.revision), [1, 2, 3]);
      assert.deepEqual(stream.slice(1).map((record) => record.id), writers[won[0]].map((event) => event.id));
    },
  },
  {
    name: "concurrent appends to several streams keep revisions contiguous from 1",
    async run(ctx) {
      await using store = await ctx.store();
      const streams = ["s0", "s1", "s2", "s3", "s4"];
      const calls = Array.from({ length: 50 }, (_, i) => {
        const stream = streams[i % streams.length];
        const batch = i % 3 === 0
          ? [added(store, stream, i), tick(store, stream)]
          : [added(store, stream, i)];
        return store.pushManyEvents(batch, { expectedRevision: "any" });
      });
      const results = (await Promise.all(calls)).flat();
      const total = results.length;
      let counted = 0;
      for (const stream of streams) {
        const stored = await collect(store.readStream(stream));
        counted += stored.length;
        assert.deepEqual(stored.map((record) => record.revision), range(1, stored.length), stream);
        assertIncreasing(stored.map((record) => record.position), `positions of ${stream}`);
      }
      assert.equal(counted, total);
      const log = await store.getEvents();
      assert.equal(log.length, total);
      assertIncreasing(log.map((record) => record.position), "log positions");
      const byId = new Map(log.map((record) => [record.id, record]));
      for (const record of results) {
        assert.deepEqual(byId.get(record.id), record, "returned record is stored");
      }
      assert.deepEqual(await store.stats(), { events: total, streams: 5, head: log.at(-1)?.position });
    },
  },
  {
    name: "pushing the same event twice stores it once and returns the same record",
    async run(ctx) {
      await using store = await ctx.store();
      const pending = added(store, "s", 1);
      const first = await store.pushEvent(pending);
      const second = await store.pushEvent(pending);
      assert.deepEqual(second, first);
      assert.equal((await store.stats()).events, 1);
      const twice = await store.pushManyEvents(
        [added(store, "t", 1), added(store, "t", 2)].flatMap((e) => [e, e]),
      );
      assert.equal(twice.length, 2, "the same id twice in one call is stored once");
      assert.deepEqual(await revisions(store, "t"), [1, 2]);
    },
  },
  {
    name: "a call mixing a new and an existing id stores only the new one",
    async run(ctx) {
      await using store = await ctx.store();
      const existing = added(store, "s", 1);
      const old = await store.pushEvent(existing);
      const fresh = added(store, "s", 2);
      const records = await store.pushManyEvents([existing, fresh]);
      assert.deepEqual(records.map((record) => record.id), [old.id, fresh.id]);
      assert.deepEqual(records[0], old, "the existing id comes back as the stored record");
      assert.equal(records[1].revision, 2);
      assert.deepEqual(await revisions(store, "s"), [1, 2]);
      assert.equal((await store.stats()).events, 2);
    },
  },
  {
    name: "a retried call with an expected revision it already satisfied is a no-op, not a ConcurrencyError",
    async run(ctx) {
      await using store = await ctx.store();
      const batch = [added(store, "s", 1), added(store, "s", 2)];
      const first = await store.pushManyEvents(batch, { expectedRevision: 0 });
      const retried = await store.pushManyEvents(batch, { expectedRevision: 0 });
      assert.deepEqual(retried, first);
      const third = added(store, "s", 3);
      const next = await store.pushEvent(third, { expectedRevision: 2 });
      assert.deepEqual(await store.pushEvent(third, { expectedRevision: 2 }), next);
      assert.deepEqual(await revisions(store, "s"), [1, 2, 3]);
    },
  },
  {
    name: "two writers pushing the same id at once store it once",
    async run(ctx) {
      await using store = await ctx.store();
      const pending = [added(store, "s", 1), added(store, "s", 2)];
      const [a, b] = await Promise.all([store.pushManyEvents(pending), store.pushManyEvents(pending)]);
      assert.deepEqual(a, b);
      assert.deepEqual(await revisions(store, "s"), [1, 2]);
      assert.equal((await store.stats()).events, 2);
    },
  },
];
