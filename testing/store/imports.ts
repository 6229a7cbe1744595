/**
 * Store cases about `import`: ids and `created` kept, revisions assigned, existing ids
 * skipped, and the `outdated` rule across calls and within one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { makeReducer } from "../../reducers/make_reducer.ts";
import { assertIncreasing, at, type Case, collect, type Events } from "../_fixture.ts";
import { foreign, idsOf, renamed } from "./_foreign.ts";

/** Cases about imports. */
export const importCases: readonly Case[] = [
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
];
