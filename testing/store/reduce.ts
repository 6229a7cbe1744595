/**
 * Store cases about `reduce` and `fold`: snapshot policies, versions, fresh initial
 * states, type filters and relation folds.
 *
 * @module
 */

import assert from "node:assert/strict";
import { makeReducer, type Reducer, type SnapshotPolicy } from "../../reducers/make_reducer.ts";
import { added, type Case, type Events, type TestStore, tick } from "../_fixture.ts";

/** A reducer summing `item:added` values that counts how many records it folded. */
function countingSum(options: { version?: number; snapshot?: SnapshotPolicy; times?: number } = {}) {
  const counter = { folds: 0 };
  const reducer = makeReducer<Events, { sum: number; seen: number[] }>(
    (state, record) => {
      counter.folds++;
      if (record.type === "item:added") {
        state.sum += record.data.n * (options.times ?? 1);
        state.seen.push(record.data.n);
      }
      return state;
    },
    { sum: 0, seen: [] },
    { version: options.version, snapshot: options.snapshot },
  );
  return { reducer, counter };
}

async function addAll(store: TestStore, stream: string, values: readonly number[]): Promise<void> {
  await store.pushManyEvents(values.map((n) => added(store, stream, n)));
}

/** Cases about reducing streams and relations, with snapshots. */
export const reduceCases: readonly Case[] = [
  {
    name: "reduce with a snapshot every N events folds only the events after the snapshot",
    async run(ctx) {
      await using store = await ctx.store();
      const { reducer, counter } = countingSum({ snapshot: { every: 3 } });
      await addAll(store, "s", [1, 2, 3, 4, 5]);
      assert.deepEqual(await store.reduce({ name: "sum", stream: "s", reducer }), {
        sum: 15,
        seen: [1, 2, 3, 4, 5],
      });
      assert.equal(counter.folds, 5);
      const snapshot = await store.adapter.getSnapshot("sum", "s");
      assert.equal(snapshot?.revision, 5, "a snapshot was saved at revision 5");
      assert.equal(snapshot?.version, 1);
      assert.deepEqual(snapshot?.state, { sum: 15, seen: [1, 2, 3, 4, 5] });
      await addAll(store, "s", [6, 7]);
      counter.folds = 0;
      const later = await store.fold({ name: "sum", stream: "s", reducer });
      assert.deepEqual(later.state, { sum: 28, seen: [1, 2, 3, 4, 5, 6, 7] });
      assert.equal(counter.folds, 2, "only the two events after the snapshot were folded");
      assert.equal(later.folded, 2);
      assert.equal(later.revision, 7);
      assert.equal((await store.adapter.getSnapshot("sum", "s"))?.revision, 5, "2 < every: no new snapshot");
      counter.folds = 0;
      assert.deepEqual(await store.reduce({ name: "sum", stream: "s", reducer }), later.state);
      assert.equal(counter.folds, 2);
    },
  },
  {
    name: "a reducer version change ignores the old snapshot and rebuilds the state from events",
    async run(ctx) {
      await using store = await ctx.store();
      const v1 = countingSum({ snapshot: { every: 1 } });
      await addAll(store, "s", [1, 2, 3]);
      assert.equal((await store.reduce({ name: "sum", stream: "s", reducer: v1.reducer }))?.sum, 6);
      assert.equal((await store.adapter.getSnapshot("sum", "s"))?.version, 1);
      const v2 = countingSum({ version: 2, snapshot: { every: 1 }, times: 10 });
      assert.deepEqual(await store.reduce({ name: "sum", stream: "s", reducer: v2.reducer }), {
        sum: 60,
        seen: [1, 2, 3],
      });
      assert.equal(v2.counter.folds, 3, "every event was folded again");
      const snapshot = await store.adapter.getSnapshot("sum", "s");
      assert.equal(snapshot?.version, 2);
      assert.equal(snapshot?.revision, 3);
    },
  },
  {
    name: "createSnapshot saves the state now and deleteSnapshot removes it",
    async run(ctx) {
      await using store = await ctx.store();
      const { reducer, counter } = countingSum();
      await addAll(store, "s", [1, 2]);
      await store.reduce({ name: "sum", stream: "s", reducer });
      assert.equal(
        await store.adapter.getSnapshot("sum", "s"),
        undefined,
        "manual policy saves nothing by itself",
      );
      assert.deepEqual(await store.createSnapshot({ name: "sum", stream: "s", reducer }), {
        sum: 3,
        seen: [1, 2],
      });
      assert.equal((await store.adapter.getSnapshot("sum", "s"))?.revision, 2);
      counter.folds = 0;
      assert.equal((await store.reduce({ name: "sum", stream: "s", reducer }))?.sum, 3);
      assert.equal(counter.folds, 0, "the snapshot covers every event");
      await store.deleteSnapshot("sum", "s");
      assert.equal(await store.adapter.getSnapshot("sum", "s"), undefined);
      assert.equal((await store.reduce({ name: "sum", stream: "s", reducer }))?.sum, 3);
      assert.equal(counter.folds, 2);
      assert.equal(await store.createSnapshot({ name: "sum", stream: "empty", reducer }), undefined);
      assert.equal(await store.adapter.getSnapshot("sum", "empty"), undefined);
    },
  },
  {
    name: "reduce on a stream without events returns undefined",
    async run(ctx) {
      await using store = await ctx.store();
      const { reducer, counter } = countingSum({ snapshot: { every: 1 } });
      await addAll(store, "other", [1]);
      assert.equal(await store.reduce({ name: "sum", stream: "empty", reducer }), undefined);
      assert.equal(counter.folds, 0);
      assert.equal(await store.adapter.getSnapshot("sum", "empty"), undefined);
    },
  },
  {
    name: "reduce starts every fold from a fresh initial state",
    async run(ctx) {
      await using store = await ctx.store();
      const { reducer } = countingSum();
      const fromFunction: Reducer<Events, string[]> = makeReducer<Events, string[]>((list, record) => {
        list.push(record.id);
        return list;
      }, () => []);
      await addAll(store, "a", [1, 2]);
      await addAll(store, "b", [3]);
      for (let round = 0; round < 2; round++) {
        assert.deepEqual(await store.reduce({ name: "sum", stream: "a", reducer }), { sum: 3, seen: [1, 2] });
        assert.deepEqual(await store.reduce({ name: "sum", stream: "b", reducer }), { sum: 3, seen: [3] });
        assert.equal((await store.reduce({ name: "ids", stream: "a", reducer: fromFunction }))?.length, 2);
      }
      assert.deepEqual(reducer.initial(), { sum: 0, seen: [] }, "the initial state was never mutated");
    },
  },
  {
    name: "reduce with filter.types folds only those types",
    async run(ctx) {
      await using store = await ctx.store();
      const { reducer, counter } = countingSum();
      await store.pushManyEvents([
        added(store, "s", 1),
        tick(store, "s"),
        added(store, "s", 2),
        tick(store, "s"),
      ]);
      const state = await store.reduce({
        name: "sum",
        stream: "s",
        reducer,
        filter: { types: ["item:added"] },
      });
      assert.deepEqual(state, { sum: 3, seen: [1, 2] });
      assert.equal(counter.folds, 2);
    },
  },
  {
    name: "reduce over a relation folds its streams in position order and snapshots them",
    async run(ctx) {
      await using store = await ctx.store();
      const { reducer, counter } = countingSum({ snapshot: { every: 2 } });
      await store.relations.insertMany([{ key: "team", stream: "a" }, { key: "team", stream: "b" }]);
      await store.pushManyEvents([added(store, "a", 1), added(store, "b", 2), added(store, "c", 100)]);
      await store.pushManyEvents([added(store, "b", 3), added(store, "a", 4)]);
      assert.deepEqual(await store.reduce({ name: "team-sum", relation: "team", reducer }), {
        sum: 10,
        seen: [1, 2, 3, 4],
      });
      assert.equal(counter.folds, 4);
      await store.pushEvent(added(store, "a", 5));
      counter.folds = 0;
      assert.deepEqual((await store.reduce({ name: "team-sum", relation: "team", reducer }))?.seen, [
        1,
        2,
        3,
        4,
        5,
      ]);
      assert.equal(counter.folds, 1, "only the event after the relation snapshot was folded");
      await store.relations.insert("team", "c");
      counter.folds = 0;
      assert.equal((await store.reduce({ name: "team-sum", relation: "team", reducer }))?.sum, 115);
      assert.equal(counter.folds, 6, "a relation that links other streams now is folded again");
      assert.equal(await store.reduce({ name: "team-sum", relation: "nobody", reducer }), undefined);
    },
  },
];
