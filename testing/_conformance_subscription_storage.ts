/**
 * Conformance cases about what a store keeps for subscriptions: checkpoints saved in a
 * transaction, parked events, leases and lag counts.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ParkedEvent } from "../contract/mod.ts";
import { added, type Case, turn } from "./_conformance_fixture.ts";

function parking(name: string, id: string, position: string, attempts = 1): ParkedEvent {
  return {
    name,
    id,
    position,
    stream: "s",
    type: "item:added",
    hydrated: false,
    error: `Error: ${id}`,
    attempts,
    parked: "2024-01-01T00:00:00.000Z",
  };
}

/** Cases about checkpoints in transactions, parked events, leases and lag. */
export const subscriptionStorageCases: readonly Case[] = [
  {
    name: "a checkpoint saved in a transaction commits with it and not without it",
    async run(ctx) {
      await using store = await ctx.store();
      const adapter = store.adapter;
      const [a, b] = await store.pushManyEvents([added(store, "s", 1), added(store, "s", 2)]);
      await assert.rejects(
        adapter.transaction(async (tx) => {
          assert.equal(await tx.putCheckpoint("c", null, { position: a.position }), true);
          throw new Error("roll back");
        }),
        /roll back/,
      );
      assert.equal(await adapter.getCheckpoint("c"), undefined);
      await adapter.transaction(async (tx) => {
        assert.equal(await tx.putCheckpoint("c", null, { position: a.position, version: 3 }), true);
        assert.equal(await tx.putCheckpoint("c", "0", { position: b.position }), false, "wrong expected");
      });
      const saved = await adapter.getCheckpoint("c");
      assert.equal(saved?.position, a.position);
      assert.equal(saved?.version, 3);
      await adapter.transaction(async (tx) => {
        assert.equal(await tx.putCheckpoint("c", a.position, { position: null, state: { n: [1] } }), true);
      });
      assert.deepEqual((await adapter.getCheckpoint("c"))?.state, { n: [1] });
      assert.equal((await adapter.getCheckpoint("c"))?.position, null);
    },
  },
  {
    name: "parked events are stored per subscription, replaced when parked again, and removed one by one",
    async run(ctx) {
      await using store = await ctx.store();
      const adapter = store.adapter;
      const [x, y, z] = await store.pushManyEvents([1, 2, 3].map((n) => added(store, "s", n)));
      await adapter.parkEvent(parking("b", z.id, z.position));
      await adapter.parkEvent(parking("a", y.id, y.position));
      await adapter.parkEvent(parking("a", x.id, x.position));
      await adapter.parkEvent({ ...parking("a", y.id, y.position, 4), hydrated: true });
      assert.deepEqual(await adapter.listParked("a"), [
        parking("a", x.id, x.position),
        { ...parking("a", y.id, y.position, 4), hydrated: true },
      ]);
      assert.deepEqual((await adapter.listParked()).map((event) => [event.name, event.id]), [
        ["a", x.id],
        ["a", y.id],
        ["b", z.id],
      ]);
      await assert.rejects(
        adapter.transaction(async (tx) => {
          await tx.parkEvent(parking("c", x.id, x.position));
          assert.equal(await tx.unparkEvent("a", x.id), true);
          throw new Error("roll back");
        }),
        /roll back/,
      );
      assert.deepEqual(await adapter.listParked("c"), []);
      assert.equal((await adapter.listParked("a")).length, 2);
      assert.equal(await adapter.unparkEvent("a", x.id), true);
      assert.equal(await adapter.unparkEvent("a", x.id), false);
      await adapter.transaction(async (tx) => void await tx.unparkEvent("b", z.id));
      assert.deepEqual((await adapter.listParked()).map((event) => event.id), [y.id]);
    },
  },
  {
    name: "a lease is held by one owner at a time and free again once released",
    async run(ctx) {
      await using store = await ctx.store();
      const adapter = store.adapter;
      const first = await adapter.acquireLease("projection", "one", 60_000);
      assert.ok(first, "a free lease is taken");
      assert.equal(
        await adapter.acquireLease("projection", "two", 60_000),
        undefined,
        "held by another owner",
      );
      const other = await adapter.acquireLease("other-projection", "two", 60_000);
      assert.ok(other, "leases of other names are apart");
      assert.equal(await first.renew(), true);
      await first.release();
      await first.release();
      const second = await adapter.acquireLease("projection", "two", 60_000);
      assert.ok(second, "a released lease is free");
      assert.equal(await first.renew(), false, "the first owner lost it");
      await second.release();
      await other.release();
      if (adapter.kind === "sqlite") {
        // SQLite cannot see a holder die: an unrenewed lease expires after its ttl.
        const short = await adapter.acquireLease("expiring", "one", 30);
        assert.ok(short);
        await turn(60);
        const taker = await adapter.acquireLease("expiring", "two", 60_000);
        assert.ok(taker, "an expired lease is taken over");
        assert.equal(await short.renew(), false);
        await taker.release();
      }
    },
  },
  {
    name: "countAfter counts the events after a position",
    async run(ctx) {
      await using store = await ctx.store();
      assert.equal(await store.adapter.countAfter(null), 0);
      const records = await store.pushManyEvents([1, 2, 3, 4, 5].map((n) => added(store, "s", n)));
      assert.equal(await store.adapter.countAfter(null), 5);
      assert.equal(await store.adapter.countAfter(records[1].position), 3);
      assert.equal(await store.adapter.countAfter(records[4].position), 0);
    },
  },
];
