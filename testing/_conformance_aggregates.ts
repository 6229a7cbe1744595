/**
 * Conformance cases about aggregates (loading, saving with expected revisions, atomic
 * multi-aggregate saves, snapshots) and command handling under contention.
 *
 * @module
 */

import assert from "node:assert/strict";
import { reject } from "../aggregates/handle.ts";
import { AggregateRoot } from "../aggregates/aggregate_root.ts";
import { ConcurrencyError } from "../errors.ts";
import { makeReducer, type SnapshotPolicy } from "../reducers/make_reducer.ts";
import {
  type Case,
  collect,
  type Events,
  type Rec,
  rejects,
  type TestStore,
  tick,
} from "./_conformance_fixture.ts";

/** A counter aggregate: `value` is the sum of its increments. */
class Counter extends AggregateRoot<Events> {
  static override readonly name: string = "counter";
  value = 0;

  with(record: Rec): void {
    if (record.type === "counter:incremented") this.value += record.data.by;
  }

  increment(by = 1): this {
    return this.push({ type: "counter:incremented", data: { by, before: this.value } });
  }
}

const total = makeReducer<Events, number>(
  (sum, record) => record.type === "counter:incremented" ? sum + record.data.by : sum,
  0,
);

function increment(store: TestStore, stream: string, by: number, before: number) {
  return store.event({ type: "counter:incremented", stream, data: { by, before } });
}

async function streamTypes(store: TestStore, stream: string): Promise<string[]> {
  return (await collect(store.readStream(stream))).map((record) => record.type);
}

/** Cases about aggregates and commands. */
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
  {
    name: "handle: 8 concurrent commands on one stream all succeed through retries, without a lost update",
    async run(ctx) {
      await using store = await ctx.store();
      const results = await Promise.all(
        Array.from(
          { length: 8 },
          () =>
            store.handle(
              "c",
              total,
              (sum = 0) => [{ type: "counter:incremented", data: { by: 1, before: sum } }],
            ),
        ),
      );
      assert.ok(results.every((result) => result.ok), "every command succeeded");
      assert.deepEqual(results.map((result) => result.revision).sort((a, b) => a - b), [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
      ]);
      assert.equal(await store.reduce({ name: "total", stream: "c", reducer: total }), 8);
      const stream = await collect(store.readStream("c"));
      assert.deepEqual(stream.map((record) => record.revision), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.deepEqual(
        stream.map((record) => record.type === "counter:incremented" ? record.data.before : -1),
        [0, 1, 2, 3, 4, 5, 6, 7],
        "each command decided on the state left by the one before",
      );
    },
  },
  {
    name: "handle returns a rejection as { ok: false, rejection } and writes nothing",
    async run(ctx) {
      await using store = await ctx.store();
      const decide = (sum = 0) =>
        sum >= 1
          ? reject({ code: "limit" as const, sum })
          : [{ type: "counter:incremented" as const, data: { by: 1, before: sum } }];
      const first = await store.handle("c", total, decide);
      assert.equal(first.ok, true);
      const before = await store.getEvents();
      const second = await store.handle("c", total, decide);
      assert.deepEqual(second, { ok: false, rejection: { code: "limit", sum: 1 }, revision: 1 });
      assert.deepEqual(await store.getEvents(), before);
    },
  },
  {
    name: "handle works with an aggregate class as the source",
    async run(ctx) {
      await using store = await ctx.store();
      const first = await store.handle("agg", Counter, (counter) => {
        counter.increment(2);
      });
      assert.ok(first.ok);
      assert.deepEqual([first.records.length, first.revision], [1, 1]);
      const second = await store.handle(
        "agg",
        Counter,
        (counter) => counter.value >= 2 ? reject("full") : [{ type: "tick" }],
      );
      assert.deepEqual(second, { ok: false, rejection: "full", revision: 1 });
      const third = await store.handle("agg", Counter, (counter, { revision }) => {
        assert.equal(revision, 1);
        return [{ type: "counter:incremented", data: { by: 3, before: counter.value } }];
      });
      assert.ok(third.ok);
      assert.equal(third.revision, 2);
      assert.equal((await store.aggregate.getByStream(Counter, "agg"))?.value, 5);
    },
  },
  {
    name: "handle with an intent guards other streams and commits its relations with the events",
    async run(ctx) {
      await using store = await ctx.store();
      const register = (name: string, email: string) => () => ({
        events: [
          { type: "user:created" as const, data: { name, email } },
          { type: "noted" as const, stream: `email:${email}`, data: name, meta: { by: "register" } },
        ],
        expectedRevision: { [`email:${email}`]: 0 },
        relations: [{ key: "users", stream: `email:${email}` }],
      });
      const first = await store.handle("u1", total, register("Ada", "ada@example.com"));
      assert.ok(first.ok);
      assert.deepEqual(first.records.map((record) => [record.stream, record.revision]), [
        ["u1", 1],
        ["email:ada@example.com", 1],
      ]);
      assert.deepEqual(await store.relations.getByKey("users"), ["email:ada@example.com"]);
      const before = await store.getEvents();
      await rejects(
        () => store.handle("u2", total, register("Eve", "ada@example.com"), { attempts: 2 }),
        ConcurrencyError,
        (error) => assert.equal(error.stream, "email:ada@example.com"),
      );
      assert.deepEqual(await store.getEvents(), before, "nothing of the losing command is stored");
    },
  },
  {
    name: "handle throws ConcurrencyError when its attempts are exhausted",
    async run(ctx) {
      await using store = await ctx.store();
      for (const attempts of [1, 3]) {
        const stream = `c${attempts}`;
        let decided = 0;
        await rejects(
          () =>
            store.handle(stream, total, async (sum = 0) => {
              decided++;
              // Another writer appends between load and append, every time.
              await store.pushEvent(tick(store, stream));
              return [{ type: "counter:incremented", data: { by: 1, before: sum } }];
            }, { attempts }),
          ConcurrencyError,
          (error) => assert.equal(error.stream, stream),
        );
        assert.equal(decided, attempts);
        assert.deepEqual(
          await streamTypes(store, stream),
          Array(attempts).fill("tick"),
          "no command event stored",
        );
      }
    },
  },
];
