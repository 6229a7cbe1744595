/**
 * Adapter cases of the `EventLog` part, about reading: stream pages, log pages with an
 * exclusive `after` both ways and filters, lookups by id, counts and stats.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Adapter, LogPageQuery } from "../../contract/mod.ts";
import type { EventRecord } from "../../events/record.ts";
import type { Case } from "../_fixture.ts";
import { idsOf, insert, row, withAdapter } from "./_log.ts";

/**
 * Nine records over streams a, b, c in three transactions; `b` holds ticks only, the
 * others alternate `noted` and `tick`.
 */
async function nine(adapter: Adapter): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  for (let call = 1; call <= 3; call++) {
    out.push(
      ...await insert(adapter, [
        row("a", call, { type: call % 2 === 1 ? "noted" : "tick" }),
        row("b", call),
        row("c", call, { type: call % 2 === 0 ? "noted" : "tick" }),
      ]),
    );
  }
  return out;
}

/** Cases about reading pages, ids and counts. */
export const eventLogReadCases: readonly Case[] = [
  {
    name: "readStream pages a stream in revision order both ways, from a revision, by types, up to a limit",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        await insert(adapter, [
          ...[1, 2, 3, 4, 5].map((revision) => row("s", revision, { type: revision % 2 ? "noted" : "tick" })),
          row("t", 1),
        ]);
        const read = async (query: Partial<Parameters<Adapter["readStream"]>[1]>) =>
          (await adapter.readStream("s", { direction: "forward", limit: 100, ...query }))
            .map((record) => record.revision);
        assert.deepEqual(await read({}), [1, 2, 3, 4, 5]);
        assert.deepEqual(await read({ direction: "backward" }), [5, 4, 3, 2, 1]);
        assert.deepEqual(await read({ fromRevision: 2 }), [2, 3, 4, 5], "fromRevision is inclusive");
        assert.deepEqual(await read({ fromRevision: 4, direction: "backward" }), [4, 3, 2, 1]);
        assert.deepEqual(await read({ limit: 2 }), [1, 2]);
        assert.deepEqual(await read({ limit: 2, direction: "backward" }), [5, 4]);
        assert.deepEqual(await read({ types: ["tick"] }), [2, 4]);
        assert.deepEqual(await read({ types: ["noted"], fromRevision: 2, limit: 1 }), [3]);
        assert.deepEqual(await read({ types: ["noted"], direction: "backward", limit: 2 }), [5, 3]);
        assert.deepEqual(await read({ fromRevision: 9 }), []);
        assert.deepEqual(await adapter.readStream("none", { direction: "forward", limit: 10 }), []);
        const all = await adapter.readStream("s", { direction: "forward", limit: 100 });
        assert.ok(all.every((record) => record.stream === "s"), "only the stream asked for");
      }),
  },
  {
    name: "readLog reads after an exclusive position both ways, by types and streams, up to a limit",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const written = await nine(adapter);
        const ids = idsOf(written);
        const read = async (query: Partial<LogPageQuery>) =>
          idsOf(await adapter.readLog({ direction: "forward", limit: 100, ...query }));
        const where = (test: (record: EventRecord) => boolean) => idsOf(written.filter(test));
        assert.deepEqual(await read({}), ids, "in position order");
        assert.deepEqual(await read({ after: written[3].position }), ids.slice(4), "after is exclusive");
        assert.deepEqual(await read({ after: written[8].position }), []);
        assert.deepEqual(
          await read({ direction: "backward", after: written[5].position }),
          ids.slice(0, 5).reverse(),
          "after is exclusive backward too",
        );
        assert.deepEqual(await read({ direction: "backward", after: written[0].position }), []);
        assert.deepEqual(await read({ direction: "backward" }), [...ids].reverse());
        assert.deepEqual(await read({ limit: 4 }), ids.slice(0, 4));
        assert.deepEqual(await read({ direction: "backward", limit: 2 }), [ids[8], ids[7]]);
        assert.deepEqual(await read({ after: written[1].position, limit: 3 }), ids.slice(2, 5));
        assert.deepEqual(await read({ types: ["noted"] }), where((r) => r.type === "noted"));
        assert.deepEqual(await read({ streams: ["a", "c"] }), where((r) => r.stream !== "b"));
        assert.deepEqual(await read({ streams: ["missing"] }), []);
        assert.deepEqual(await read({ types: ["missing"] }), []);
        assert.deepEqual(
          await read({ types: ["tick"], streams: ["a", "b"], after: written[1].position, limit: 3 }),
          where((r) => r.type === "tick" && r.stream !== "c").filter((id) => ids.indexOf(id) > 1).slice(0, 3),
        );
        assert.deepEqual(
          await read({ direction: "backward", streams: ["c"], types: ["tick"] }),
          where((r) => r.type === "tick" && r.stream === "c").reverse(),
        );
        const settled = await adapter.readLog({ direction: "forward", limit: 100, settle: true });
        assert.deepEqual(settled, written, "a settling first page reads the same");
      }),
  },
  {
    name: "getByIds returns the stored records and leaves missing ids out",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const written = await nine(adapter);
        assert.deepEqual(await adapter.getByIds([]), []);
        assert.deepEqual(await adapter.getByIds(["missing"]), []);
        const found = await adapter.getByIds([written[4].id, "missing", written[1].id, written[7].id]);
        const byId = new Map(found.map((record) => [record.id, record]));
        assert.equal(found.length, 3, "one record per stored id");
        for (const i of [4, 1, 7]) assert.deepEqual(byId.get(written[i].id), written[i]);
      }),
  },
  {
    name: "countAfter counts the events after a position",
    async run(ctx) {
      await withAdapter(ctx, async (adapter) => {
        assert.equal(await adapter.countAfter(null), 0);
        const records = await insert(adapter, [1, 2, 3, 4, 5].map((n) => row("s", n)));
        assert.equal(await adapter.countAfter(null), 5);
        assert.equal(await adapter.countAfter(records[1].position), 3);
        assert.equal(await adapter.countAfter(records[4].position), 0);
      });
    },
  },
  {
    name: "stats counts events and streams and names the head position",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        assert.deepEqual(await adapter.stats(), { events: 0, streams: 0, head: null });
        const written = await nine(adapter);
        assert.deepEqual(await adapter.stats(), { events: 9, streams: 3, head: written[8].position });
        const [more] = await insert(adapter, [row("d", 1)]);
        assert.deepEqual(await adapter.stats(), { events: 10, streams: 4, head: more.position });
      }),
  },
];
