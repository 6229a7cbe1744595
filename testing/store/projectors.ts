/**
 * Store cases about projectors driven by the store's after-commit hook: the once/on/all
 * table of fresh, hydrated and outdated events, and per-stream order with slow handlers.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Projector } from "../../projectors/projector.ts";
import { added, type Case, type Events, type TestStore, turn } from "../_fixture.ts";
import { renamed } from "./_foreign.ts";

function projectThrough(store: TestStore, projector: Projector<Events>): void {
  store.onEventsInserted(async (records, { hydrated }) => {
    await Promise.all(
      records.map((record) => projector.push(record, { hydrated, outdated: record.outdated })),
    );
  });
}

/** Cases about projectors fed by the store. */
export const projectorCases: readonly Case[] = [
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
