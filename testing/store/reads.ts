/**
 * Conformance cases about reading: stream and log order in both directions, filters,
 * cursors, the position guarantee for readers, round trips and paging through many
 * events.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Adapter, LogPageQuery, StreamPageQuery } from "../../contract/mod.ts";
import {
  added,
  assertIncreasing,
  asStored,
  at,
  type Case,
  collect,
  fail,
  type Rec,
  rejects,
  type TestStore,
  tick,
  turn,
} from "../_fixture.ts";

const revisionsOf = (records: readonly Rec[]): number[] => records.map((record) => record.revision);
const idsOf = (records: readonly Rec[]): string[] => records.map((record) => record.id);

/** Seven events on "s" (added/tick alternating) interleaved with four on "t". */
async function twoStreams(store: TestStore): Promise<void> {
  const batch = [];
  for (let i = 1; i <= 7; i++) {
    batch.push(i % 2 === 1 ? added(store, "s", i) : tick(store, "s"));
    if (i % 2 === 0) batch.push(added(store, "t", i));
  }
  batch.push(tick(store, "t"));
  await store.pushManyEvents(batch.slice(0, 5));
  await store.pushManyEvents(batch.slice(5));
}

/** Nine events over streams a, b, c and two types, in three calls. */
async function threeStreams(store: TestStore): Promise<Rec[]> {
  const out: Rec[] = [];
  for (let call = 0; call < 3; call++) {
    out.push(
      ...await store.pushManyEvents([
        added(store, "a", call),
        tick(store, "b"),
        call % 2 === 0 ? tick(store, "c") : added(store, "c", call),
      ]),
    );
  }
  return out;
}

/** Cases about reading. */
export const readCases: readonly Case[] = [
  {
    name: "readStream reads forward and backward, from a revision, with a limit and types",
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 2 });
      await twoStreams(store);
      const read = async (options: Parameters<TestStore["readStream"]>[1]) =>
        revisionsOf(await collect(store.readStream("s", options)));
      assert.deepEqual(await read({}), [1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(await read({ direction: "backward" }), [7, 6, 5, 4, 3, 2, 1]);
      assert.deepEqual(await read({ fromRevision: 3 }), [3, 4, 5, 6, 7]);
      assert.deepEqual(await read({ fromRevision: 5, direction: "backward" }), [5, 4, 3, 2, 1]);
      assert.deepEqual(await read({ limit: 3 }), [1, 2, 3]);
      assert.deepEqual(await read({ limit: 3, direction: "backward" }), [7, 6, 5]);
      assert.deepEqual(await read({ fromRevision: 2, limit: 3 }), [2, 3, 4]);
      assert.deepEqual(await read({ types: ["tick"] }), [2, 4, 6]);
      assert.deepEqual(await read({ types: ["item:added"], direction: "backward" }), [7, 5, 3, 1]);
      assert.deepEqual(await read({ types: ["item:added"], fromRevision: 2, limit: 2 }), [3, 5]);
      assert.deepEqual(await read({ types: ["item:added"], direction: "backward", limit: 3 }), [7, 5, 3]);
      assert.deepEqual(await read({ limit: 0 }), []);
      assert.deepEqual(await read({ fromRevision: 8 }), []);
      assert.deepEqual(revisionsOf(await collect(store.readStream("missing"))), []);
      const all = await collect(store.readStream("s"));
      assert.ok(all.every((record) => record.stream === "s"));
      assertIncreasing(all.map((record) => record.position), "positions in revision order");
    },
  },
  {
    name: "readStream from revision 0 reads from the first event (or rejects it as a RangeError)",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushManyEvents([added(store, "s", 1), added(store, "s", 2)]);
      let revisions: number[] | undefined;
      try {
        revisions = revisionsOf(await collect(store.readStream("s", { fromRevision: 0 })));
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
      }
      if (revisions !== undefined) {
        assert.deepEqual(revisions, [1, 2], "fromRevision 0 silently skipped events");
      }
    },
  },
  {
    name:
      "readAll reads in position order after a cursor, by streams and types, with a limit, and backward reverses",
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 2 });
      const written = await threeStreams(store);
      const read = async (options: Parameters<TestStore["readAll"]>[0]) =>
        idsOf(await collect(store.readAll(options)));
      const all = await collect(store.readAll());
      assert.deepEqual(all, written, "readAll returns what was written, in write order");
      assertIncreasing(all.map((record) => record.position), "log positions");
      assert.ok(all.every((record) => typeof record.position === "string"));
      const ids = idsOf(all);
      const where = (test: (record: Rec) => boolean) => all.filter(test).map((record) => record.id);
      assert.deepEqual(await read({ after: all[3].position }), ids.slice(4));
      assert.deepEqual(await read({ after: all[8].position }), []);
      assert.deepEqual(await read({ streams: ["a", "c"] }), where((r) => r.stream !== "b"));
      assert.deepEqual(await read({ streams: ["missing"] }), []);
      assert.deepEqual(await read({ streams: [] }), []);
      assert.deepEqual(await read({ types: ["tick"] }), where((r) => r.type === "tick"));
      assert.deepEqual(
        await read({ types: ["tick"], streams: ["c"] }),
        where((r) => r.type === "tick" && r.stream === "c"),
      );
      assert.deepEqual(await read({ limit: 4 }), ids.slice(0, 4));
      assert.deepEqual(await read({ limit: 0 }), []);
      assert.deepEqual(await read({ after: all[1].position, limit: 3 }), ids.slice(2, 5));
      assert.deepEqual(await read({ direction: "backward" }), [...ids].reverse());
      assert.deepEqual(await read({ direction: "backward", limit: 3 }), ids.slice(6).reverse());
      assert.deepEqual(
        await read({ direction: "backward", after: all[5].position }),
        ids.slice(0, 5).reverse(),
      );
      assert.deepEqual(await read({ direction: "backward", after: all[0].position }), []);
      assert.deepEqual(
        await read({ direction: "backward", streams: ["a", "b"], types: ["item:added"], limit: 2 }),
        where((r) => r.stream === "a").reverse().slice(0, 2),
      );
      const backward = await collect(store.readAll({ direction: "backward" }));
      assert.deepEqual(backward, [...all].reverse(), "backward reads return the same records");
    },
  },
  {
    name: "getEvents, getEventsByStreams and getEventsByRelations return arrays in position order",
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 2 });
      const all = await threeStreams(store);
      await store.relations.insertMany([{ key: "k", stream: "a" }, { key: "k", stream: "c" }]);
      const ids = idsOf(all);
      const where = (test: (record: Rec) => boolean) => all.filter(test).map((record) => record.id);
      assert.deepEqual(await store.getEvents(), all);
      assert.deepEqual(idsOf(await store.getEvents({ cursor: all[2].position, limit: 2 })), ids.slice(3, 5));
      assert.deepEqual(idsOf(await store.getEvents({ direction: "backward", limit: 2 })), [ids[8], ids[7]]);
      assert.deepEqual(
        idsOf(await store.getEvents({ types: ["item:added"] })),
        where((r) => r.type === "item:added"),
      );
      assert.deepEqual(
        idsOf(await store.getEventsByStreams(["b", "missing"])),
        where((r) => r.stream === "b"),
      );
      assert.deepEqual(
        idsOf(await store.getEventsByStreams(["a", "b"], { direction: "backward", types: ["tick"] })),
        where((r) => r.stream === "b" && r.type === "tick").reverse(),
      );
      assert.deepEqual(idsOf(await store.getEventsByRelations(["k"])), where((r) => r.stream !== "b"));
      assert.deepEqual(
        idsOf(await store.getEventsByRelations(["k"], { limit: 2, cursor: all[0].position })),
        where((r) => r.stream !== "b").slice(1, 3),
      );
      assert.deepEqual(await store.getEventsByRelations(["nothing"]), []);
    },
  },
  {
    name: "a reader that has seen position p never later receives a position below p",
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 5 });
      const streams = ["r0", "r1", "r2", "r3"];
      const writers = Promise.all(
        Array.from(
          { length: 40 },
          (_, i) =>
            store.pushManyEvents([added(store, streams[i % 4], i), tick(store, streams[(i + 1) % 4])], {
              expectedRevision: "any",
            }),
        ),
      );
      let done = false;
      writers.then(() => done = true, () => done = true);
      const seen = new Set<string>();
      let cursor: string | undefined;
      for (let round = 0;; round++) {
        const last = done;
        for await (const record of store.readAll({ after: cursor })) {
          if (cursor !== undefined && !(cursor < record.position)) {
            fail(`Reader at ${cursor} received ${record.position} (round ${round})`);
          }
          if (seen.has(record.id)) fail(`Reader received ${record.id} twice`);
          seen.add(record.id);
          cursor = record.position;
        }
        if (last) break;
        await turn();
      }
      await writers;
      assert.equal(seen.size, 80, "the reader received every event");
    },
  },
  {
    name: "a stored record reads back as pushEvent returned it, with data, meta and created unchanged",
    async run(ctx) {
      await using store = await ctx.store();
      const noted = store.event({
        type: "noted",
        stream: "n",
        data: 'hello \u{1F600} "quoted"',
        meta: { by: "ada" },
        created: at(42),
      });
      const pushed = await store.pushManyEvents([
        noted,
        tick(store, "n"),
        store.event({ type: "user:created", stream: "u", data: { name: "Ada", email: "ada@example.com" } }),
      ]);
      const [first, second, third] = pushed;
      assert.equal(first.id, noted.id);
      assert.equal(first.created, at(42));
      assert.equal(first.data, noted.data);
      assert.deepEqual(first.meta, { by: "ada" });
      assert.equal(second.data, null);
      assert.equal(second.meta, null);
      assert.deepEqual(third.data, { name: "Ada", email: "ada@example.com" });
      for (const record of pushed) {
        assert.equal(record.outdated, false);
        assert.equal(typeof record.recorded, "string");
        assert.ok(!Number.isNaN(Date.parse(record.recorded)), `recorded is a time: ${record.recorded}`);
      }
      assert.deepEqual(await store.getEvents(), pushed);
      assert.deepEqual(await collect(store.readStream("n")), pushed.slice(0, 2));
      assert.deepEqual(
        await store.adapter.getByIds([third.id, "missing", first.id]),
        [third, first].map(asStored),
      );
    },
  },
  {
    name: "readAll and readStream page through 100k events in order, never asking for more than a page",
    async run(ctx) {
      const pageSize = 500;
      const pages: { method: string; limit: number; size: number }[] = [];
      const adapter = await ctx.adapter();
      const recording = new Proxy(adapter, {
        get(target, property) {
          const value = Reflect.get(target, property, target);
          if (typeof value !== "function") return value;
          if (property !== "readLog" && property !== "readStream") return value.bind(target);
          return async (...args: unknown[]) => {
            const query = args.at(-1) as LogPageQuery | StreamPageQuery;
            const page = await value.apply(target, args);
            pages.push({ method: property, limit: query.limit, size: page.length });
            return page;
          };
        },
      }) as Adapter;
      await using store = await ctx.store({ adapter: recording, pageSize });
      const total = Math.max(1, Math.round(100_000 * ctx.scale));
      const batchSize = 1000;
      for (let from = 0; from < total; from += batchSize) {
        const batch = [];
        for (let n = from; n < Math.min(total, from + batchSize); n++) batch.push(added(store, "big", n));
        await store.pushManyEvents(batch, { expectedRevision: from });
      }
      let count = 0;
      let last = "";
      for await (const record of store.readAll()) {
        if (!(last < record.position)) fail(`Position ${record.position} came after ${last}`);
        if (record.type !== "item:added" || record.data.n !== count) {
          fail(`Event #${count} of the log arrived out of order: ${JSON.stringify(record.data)}`);
        }
        last = record.position;
        count++;
      }
      assert.equal(count, total, "readAll delivered every event once");
      let revision = 0;
      for await (const record of store.readStream("big")) {
        if (record.revision !== ++revision) fail(`Revision ${record.revision} came as #${revision}`);
      }
      assert.equal(revision, total, "readStream delivered every event once");
      let backward = total;
      for await (const record of store.readStream("big", { direction: "backward" })) {
        if (record.revision !== backward--) fail(`Revision ${record.revision} out of order backward`);
      }
      assert.equal(backward, 0, "readStream backward delivered every event once");
      const logPages = pages.filter((page) => page.method === "readLog");
      assert.ok(logPages.length >= total / pageSize, `readAll used ${logPages.length} pages`);
      for (const page of pages) {
        if (page.limit > pageSize || page.size > page.limit) {
          fail(`${page.method} page of ${page.size} (limit ${page.limit}) exceeds the page size ${pageSize}`);
        }
      }
    },
  },
  {
    name: "read options are checked before reading",
    async run(ctx) {
      await using store = await ctx.store();
      await store.pushEvent(added(store, "s", 1));
      await rejects(() => collect(store.readAll({ limit: 1.5 })), RangeError);
      await rejects(() => collect(store.readStream("s", { fromRevision: -1 })), RangeError);
      await rejects(() => collect(store.readAll({ after: 5 as never })), TypeError);
      await rejects(() => collect(store.readStream("")), TypeError);
    },
  },
];
