/**
 * Store cases about aggregates: loading, saving with expected revisions, atomic
 * multi-aggregate saves, relation loads and snapshots.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConcurrencyError } from "../../errors.ts";
import type { SnapshotPolicy } from "../../reducers/make_reducer.ts";
import { type Case, collect, type Rec, rejects } from "../_fixture.ts";
import { Counter, increment, streamTypes } from "./_counter.ts";

/** Cases about aggregates. */
export const aggregateCases: readonly Case[] = [
  {
    name: "aggregate.from saves with expected revision 0 and getByStream loads its state and revision",
    async run(ctx) {
      await using store = await ctx.store();
      const counter = store.aggregate.from(Counter, "c1");
      assert.equal(counter.revision, 0);
      await counter.increment(2).increment(3).save();
      assert.equal(counter.revision, 2);
      assert.equal(counter.pending.length, 0);
      const loaded = await store.aggregate.getByStream(Counter, "c1");
      assert.ok(loaded !== undefined);
      assert.equal(loaded.value, 5);
      assert.equal(loaded.revision, 2);
      await loaded.increment(1).save();
      assert.equal(loaded.revision, 3);
      assert.equal((await store.aggregate.getByStream(Counter, "c1"))?.value, 6);
      assert.equal(await store.aggregate.getByStream(Counter, "missing"), undefined);
      await rejects(
        () => store.aggregate.from(Counter, "c1").increment(1).save(),
        ConcurrencyError,
        (error) => assert.deepEqual([error.stream, error.expected, error.actual], ["c1", 0, 3]),
      );
      assert.equal((await store.stats()).events, 3);
    },
  },
  {
    name: "two loaded copies of an aggregate: the second save gets ConcurrencyError",
    async run(ctx) {
      await using store = await ctx.store();
      await store.aggregate.from(Counter, "c").increment(1).save();
      const a = await store.aggregate.getByStream(Counter, "c");
      const b = await store.aggregate.getByStream(Counter, "c");
      assert.ok(a !== undefined && b !== undefined);
      await a.increment(10).save();
      await rejects(
        () => b.increment(100).save(),
        ConcurrencyError,
        (error) => assert.deepEqual([error.stream, error.expected, error.actual], ["c", 1, 2]),
      );
      assert.equal((await store.aggregate.getByStream(Counter, "c"))?.value, 11);
      assert.equal((await store.stats()).events, 2);
    },
  },
  {
    name: "aggregate.save of several aggregates is atomic: one conflicting saves neither",
    async run(ctx) {
      await using store = await ctx.store();
      await store.aggregate.from(Counter, "y").increment(1).save();
      const x = store.aggregate.from(Counter, "x").increment(5);
      const y = await store.aggregate.getByStream(Counter, "y");
      assert.ok(y !== undefined);
      await store.pushEvent(increment(store, "y", 1, 1));
      y.increment(7);
      await rejects(() => store.aggregate.save(x, y), ConcurrencyError);
      assert.deepEqual(await streamTypes(store, "x"), [], "the other aggregate was not saved either");
      assert.equal((await store.aggregate.getByStream(Counter, "y"))?.value, 2);
      const x2 = store.aggregate.from(Counter, "x").increment(5);
      const y2 = await store.aggregate.getByStream(Counter, "y");
      assert.ok(y2 !== undefined);
      const records = await store.aggregate.save(x2, y2.increment(7));
      assert.deepEqual(records.map((record) => [record.stream, record.revision]), [["x", 1], ["y", 3]]);
      assert.deepEqual([x2.revision, y2.revision], [1, 3]);
    },
  },
  {
    name: "aggregate.getByRelation loads from every linked stream",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushManyEvents([increment(store, "a", 1, 0), increment(store, "b", 10, 0)]);
      await store.pushEvent(increment(store, "a", 100, 1));
      await store.relations.insertMany([{ key: "pair", stream: "a" }, { key: "pair", stream: "b" }]);
      await store.relations.insert("single", "b");
      assert.equal((await store.aggregate.getByRelation(Counter, "pair"))?.value, 111);
      const single = await store.aggregate.getByRelation(Counter, "single");
      assert.ok(single !== undefined);
      assert.equal(single.id, "b");
      assert.equal(single.value, 10);
      assert.equal(single.revision, 1);
      await single.increment(1).save();
      assert.deepEqual((await collect(store.readStream("b"))).map((record) => record.revision), [1, 2]);
      assert.equal(await store.aggregate.getByRelation(Counter, "nobody"), undefined);
    },
  },
  {
    name: "aggregate snapshots (static snapshot every N) fold only what came after",
    async run(ctx) {
      await using store = await ctx.store();
      let folded = 0;
      class Snapped extends Counter {
        static override readonly name: string = "snapped-counter";
        static readonly snapshot: SnapshotPolicy = { every: 2 };
        override with(record: Rec): void {
          // Records made by push() are provisional (no position yet); count loads only.
          if (record.position !== "") folded++;
          super.with(record);
        }
      }
      await store.aggregate.from(Snapped, "s").increment(1).increment(2).increment(3).save();
      const first = await store.aggregate.getByStream(Snapped, "s");
      assert.equal(first?.value, 6);
      assert.equal(folded, 3);
      const snapshot = await store.adapter.getSnapshot("snapped-counter", "s");
      assert.equal(snapshot?.revision, 3, "a snapshot was saved after folding 3 >= 2 events");
      await store.pushEvent(increment(store, "s", 4, 6));
      folded = 0;
      const second = await store.aggregate.getByStream(Snapped, "s");
      assert.equal(second?.value, 10);
      assert.equal(second?.revision, 4);
      assert.equal(folded, 1, "only the event after the snapshot was folded");
      await second?.increment(5).save();
      assert.equal((await store.aggregate.getByStream(Snapped, "s"))?.value, 15);
    },
  },
];
