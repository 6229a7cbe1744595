/**
 * Conformance cases about what happens around a commit: after-commit hooks,
 * in-transaction listeners, imports (hydrated and outdated) and projectors driven by the
 * store.
 *
 * @module
 */

import assert from "node:assert/strict";
import { uuidv7 } from "../events/id.ts";
import type { EventRecord } from "../events/record.ts";
import { Projector } from "../projectors/projector.ts";
import { makeReducer } from "../reducers/make_reducer.ts";
import {
  added,
  assertIncreasing,
  at,
  type Case,
  collect,
  contents,
  type Events,
  type Rec,
  rejects,
  type TestStore,
  tick,
  turn,
} from "./_conformance_fixture.ts";

const idsOf = (records: readonly { id: string }[]): string[] => records.map((record) => record.id);

function renamed(store: TestStore, stream: string, name: string, seconds: number) {
  return store.event({ type: "user:renamed", stream, data: { name }, created: at(seconds) });
}

/** A record as another store would hand it over: with that store's revision and position. */
function foreign(stream: string, n: number, seconds: number): EventRecord {
  return {
    id: uuidv7(),
    stream,
    type: "item:added",
    data: { n },
    meta: null,
    revision: 42,
    position: "elsewhere-0042",
    created: at(seconds),
    recorded: at(seconds + 1),
    outdated: false,
  };
}

function projectThrough(store: TestStore, projector: Projector<Events>): void {
  store.onEventsInserted(async (records, { hydrated }) => {
    await Promise.all(
      records.map((record) => projector.push(record, { hydrated, outdated: record.outdated })),
    );
  });
}

/** Cases about hooks, in-transaction listeners, imports and projectors. */
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
        assert.deepEqual(stored, records, "the records are committed when the listener runs");
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
  {
    name: "import keeps ids and created, appends at the next revision and skips existing ids",
    async run(ctx) {
      await using store = await ctx.store();
      const local = await store.pushEvent(
        store.event({ type: "item:added", stream: "s", data: { n: 0 }, created: at(50) }),
      );
      const a = foreign("s", 1, 10);
      const b = foreign("t", 2, 11);
      const first = await store.import([a, b]);
      assert.deepEqual(first.skipped, []);
      assert.deepEqual(idsOf(first.imported), [a.id, b.id]);
      assert.deepEqual(first.imported.map((r) => [r.stream, r.revision, r.created]), [["s", 2, at(10)], [
        "t",
        1,
        at(11),
      ]]);
      assert.ok(first.imported.every((r) => r.position !== "elsewhere-0042"), "the store assigns positions");
      assertIncreasing([local.position, ...first.imported.map((r) => r.position)], "positions");
      const c = foreign("t", 3, 12);
      const second = await store.import([a, { ...local }, c]);
      assert.deepEqual(second.skipped.sort(), [a.id, local.id].sort());
      assert.deepEqual(idsOf(second.imported), [c.id]);
      assert.equal(second.imported[0].revision, 2);
      const stored = await store.getEvents();
      assert.deepEqual(idsOf(stored), [local.id, a.id, b.id, c.id]);
      assert.deepEqual(stored.map((r) => r.data), [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
      assert.deepEqual(
        stored.map((r) => r.imported === true),
        [false, true, true, true],
        "imported is stored",
      );
      const pending = store.event({ type: "tick", stream: "p", created: at(1) });
      const { imported } = await store.import([pending]);
      assert.deepEqual([imported[0].id, imported[0].created, imported[0].revision], [pending.id, at(1), 1]);
    },
  },
  {
    name:
      "import marks an event outdated when its stream holds a newer event of its type, and stores the flag",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushEvent(renamed(store, "u", "B", 20));
      const older = await store.import([renamed(store, "u", "A", 10)]);
      const newer = await store.import([renamed(store, "u", "C", 30)]);
      const otherType = await store.import([
        store.event({
          type: "user:created",
          stream: "u",
          data: { name: "Z", email: "z@example.com" },
          created: at(5),
        }),
      ]);
      const otherStream = await store.import([renamed(store, "v", "A", 1)]);
      const between = await store.import([renamed(store, "u", "B2", 25)]);
      assert.deepEqual(
        [older, newer, otherType, otherStream, between].map((result) => result.imported[0].outdated),
        [true, false, false, false, true],
      );
      const flags = [false, true, false, false, true];
      assert.deepEqual((await collect(store.readStream("u"))).map((r) => r.outdated), flags);
      assert.deepEqual(
        (await store.getEventsByStreams(["u"], { direction: "backward" })).map((r) => r.outdated),
        [...flags].reverse(),
      );
      const latest = makeReducer<Events, string>(
        (name, record) => record.type === "user:renamed" && !record.outdated ? record.data.name : name,
        "",
      );
      assert.equal(await store.reduce({ name: "latest", stream: "u", reducer: latest }), "C");
      const loud = await store.pushEvent(renamed(store, "u", "D", 1));
      assert.equal(loud.outdated, false, "a push is never outdated, whatever its created time");
    },
  },
  {
    name: "import applies the outdated rule within one batch",
    async run(ctx) {
      await using store = await ctx.store();
      const { imported } = await store.import([
        renamed(store, "w", "second", 20),
        renamed(store, "w", "first", 10),
        renamed(store, "w", "third", 30),
        store.event({ type: "tick", stream: "w", created: at(5) }),
        renamed(store, "x", "elsewhere", 1),
      ]);
      assert.deepEqual(imported.map((r) => r.outdated), [false, true, false, false, false]);
      assert.deepEqual(imported.map((r) => r.revision), [1, 2, 3, 4, 1]);
      const inOrder = await store.import([renamed(store, "y", "a", 10), renamed(store, "y", "b", 20)]);
      assert.deepEqual(inOrder.imported.map((r) => r.outdated), [false, false]);
      assert.deepEqual((await collect(store.readStream("w"))).map((r) => r.outdated), [
        false,
        true,
        false,
        false,
      ]);
    },
  },
  {
    name: "a projector driven by the store runs once, on and all per the fresh, hydrated and outdated table",
    async run(ctx) {
      await using store = await ctx.store();
      const projector = new Projector<Events>();
      const seen: string[] = [];
      const succeeded: string[] = [];
      projector.once("user:renamed", (record) => void seen.push(`once:${record.data.name}`), {
        onSuccess: ({ record }) => void succeeded.push(record.data.name),
      });
      projector.on("user:renamed", (record) => void seen.push(`on:${record.data.name}`));
      projector.all("user:renamed", (record) => void seen.push(`all:${record.data.name}`));
      projectThrough(store, projector);
      await store.pushEvent(renamed(store, "u", "fresh", 20));
      assert.deepEqual(seen.splice(0), ["once:fresh", "on:fresh", "all:fresh"]);
      await store.import([renamed(store, "u", "hydrated", 30)]);
      assert.deepEqual(seen.splice(0), ["on:hydrated", "all:hydrated"]);
      await store.import([renamed(store, "u", "outdated", 10)]);
      assert.deepEqual(seen.splice(0), ["all:outdated"]);
      assert.deepEqual(succeeded, ["fresh"]);
      // Replaying the stored records gives every handler the flags the live run had.
      const replayed: string[] = [];
      const replay = new Projector<Events>();
      replay.on("user:renamed", (record) => void replayed.push(record.data.name));
      for (const record of await store.getEvents()) await replay.push(record, { hydrated: true });
      assert.deepEqual(replayed, ["fresh", "hydrated"]);
    },
  },
  {
    name: "a projector driven by the store handles each stream in order with slow async handlers",
    async run(ctx) {
      await using store = await ctx.store();
      const projector = new Projector<Events>();
      const handled = new Map<string, number[]>();
      const active = new Map<string, number>();
      let overlapped = false;
      projector.on("item:added", async (record) => {
        const now = (active.get(record.stream) ?? 0) + 1;
        active.set(record.stream, now);
        overlapped ||= now > 1;
        // Earlier records take longer, so handling out of order would show.
        await turn(Math.max(0, 6 - record.revision));
        handled.set(record.stream, [...(handled.get(record.stream) ?? []), record.revision]);
        active.set(record.stream, now - 1);
      });
      const queued: Promise<void>[] = [];
      store.onEventsInserted((records, { hydrated }) => {
        for (const record of records) {
          queued.push(projector.push(record, { hydrated, outdated: record.outdated }));
        }
      });
      await Promise.all(Array.from({ length: 12 }, (_, i) => store.pushEvent(added(store, `p${i % 3}`, i))));
      await store.pushManyEvents([added(store, "p0", 100), added(store, "p1", 101), added(store, "p0", 102)]);
      await Promise.all(queued);
      assert.equal(overlapped, false, "one record of a stream at a time");
      for (const [stream, count] of [["p0", 6], ["p1", 5], ["p2", 4]] as const) {
        assert.deepEqual(handled.get(stream), Array.from({ length: count }, (_, i) => i + 1), stream);
      }
    },
  },
];
