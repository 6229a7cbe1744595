/**
 * Adapter cases of the `SubscriptionStorage` part: checkpoints by compare-and-set (alone
 * and in a transaction), parked events, and leases.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ParkedEvent } from "../../contract/mod.ts";
import { type Case, turn } from "../_fixture.ts";
import { insert, rows, withAdapter, withSecond } from "./_log.ts";

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

/** Cases about checkpoints, parked events and leases. */
export const subscriptionStorageCases: readonly Case[] = [
  {
    name: "putCheckpoint sets only from the expected position, and of racing setters exactly one wins",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const [p1, p2, p3] = (await insert(adapter, rows("s", 1, 3))).map((record) => record.position);
        assert.equal(await adapter.getCheckpoint("c"), undefined);
        assert.equal(
          await adapter.putCheckpoint("c", p1, { position: p2 }),
          false,
          "no checkpoint is not p1",
        );
        assert.equal(await adapter.getCheckpoint("c"), undefined, "a refused set creates nothing");
        assert.equal(await adapter.putCheckpoint("c", null, { position: p1 }), true, "set from none");
        assert.equal(await adapter.putCheckpoint("c", null, { position: p2 }), false, "null is not p1");
        assert.equal(
          await adapter.putCheckpoint("c", p3, { position: p2 }),
          false,
          "a wrong expected position",
        );
        assert.equal((await adapter.getCheckpoint("c"))?.position, p1);
        assert.equal(await adapter.putCheckpoint("c", p1, { position: null, version: 2 }), true);
        assert.equal(
          await adapter.putCheckpoint("c", null, { position: p2 }),
          true,
          "a null position counts as none",
        );
        const racing = await Promise.all(
          [p1, p2, p3].map((position) => adapter.putCheckpoint("race", null, { position })),
        );
        assert.equal(racing.filter(Boolean).length, 1, "one of several racing setters wins");
        const won = [p1, p2, p3][racing.indexOf(true)];
        assert.equal((await adapter.getCheckpoint("race"))?.position, won, "the winner's position is kept");
      }),
  },
  {
    name: "checkpoints keep state and version as put, list by name, and deleteCheckpoint removes one",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const [p1, p2] = (await insert(adapter, rows("s", 1, 2))).map((record) => record.position);
        assert.deepEqual(await adapter.listCheckpoints(), []);
        const state = { model: [["a", 1]], label: "é" };
        assert.equal(await adapter.putCheckpoint("mailer", null, { position: p1, state, version: 3 }), true);
        assert.equal(await adapter.putCheckpoint("audit", null, { position: p2 }), true);
        const mailer = await adapter.getCheckpoint("mailer");
        assert.deepEqual([mailer?.name, mailer?.position, mailer?.state, mailer?.version], [
          "mailer",
          p1,
          state,
          3,
        ]);
        assert.ok(!Number.isNaN(Date.parse(mailer?.updated ?? "")), "updated is a time");
        const listed = await adapter.listCheckpoints();
        assert.deepEqual(listed.map((c) => [c.name, c.position]), [["audit", p2], ["mailer", p1]], "by name");
        assert.deepEqual(listed[1].state, state);
        await adapter.deleteCheckpoint("mailer");
        await adapter.deleteCheckpoint("mailer");
        await adapter.deleteCheckpoint("never-saved");
        assert.equal(await adapter.getCheckpoint("mailer"), undefined);
        assert.deepEqual((await adapter.listCheckpoints()).map((c) => c.name), ["audit"]);
        assert.equal(
          await adapter.putCheckpoint("mailer", null, { position: p2 }),
          true,
          "deleted starts from none",
        );
      }),
  },
  {
    name: "a checkpoint saved in a transaction commits with it and not without it",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const [a, b] = await insert(adapter, rows("s", 1, 2));
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
      }),
  },
  {
    name: "parked events are stored per subscription, replaced when parked again, and removed one by one",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const [x, y, z] = await insert(adapter, rows("s", 1, 3));
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
      }),
  },
  {
    name: "a lease is held by one owner at a time and free again once released",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
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
      }),
  },
];

/** Cases about two adapters over the same storage (they need `reopen`). */
export const sharedSubscriptionStorageCases: readonly Case[] = [
  {
    name: "through two adapters over the same storage, racing putCheckpoint calls: exactly one wins",
    needs: "reopen",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const [p1, p2] = (await insert(adapter, rows("s", 1, 2))).map((record) => record.position);
        await withSecond(ctx, adapter, async (other) => {
          for (let round = 0; round < 5; round++) {
            const name = `race-${round}`;
            const racing = await Promise.all([
              adapter.putCheckpoint(name, null, { position: p1 }),
              other.putCheckpoint(name, null, { position: p2 }),
              adapter.putCheckpoint(name, null, { position: p2 }),
              other.putCheckpoint(name, null, { position: p1 }),
            ]);
            assert.equal(racing.filter(Boolean).length, 1, `round ${round}: one setter wins`);
            assert.deepEqual(await other.getCheckpoint(name), await adapter.getCheckpoint(name));
          }
        });
      }),
  },
  {
    name: "a lease taken through one adapter is refused through another over the same storage until released",
    needs: "reopen",
    run: (ctx) =>
      withAdapter(ctx, (adapter) =>
        withSecond(ctx, adapter, async (other) => {
          const held = await adapter.acquireLease("projection", "one", 60_000);
          assert.ok(held, "a free lease is taken");
          assert.equal(await other.acquireLease("projection", "two", 60_000), undefined, "held elsewhere");
          assert.equal(await held.renew(), true);
          await held.release();
          const taken = await other.acquireLease("projection", "two", 60_000);
          assert.ok(taken, "released, it is free through the other adapter");
          assert.equal(await adapter.acquireLease("projection", "one", 60_000), undefined);
          await taken.release();
        })),
  },
  {
    name: "heldLeases, where the adapter has it, names the leases held through any adapter, and takes none",
    needs: "reopen",
    run: (ctx) =>
      withAdapter(ctx, (adapter) =>
        withSecond(ctx, adapter, async (other) => {
          if (adapter.heldLeases === undefined) return;
          const names = ["a", "b", "c", "d"];
          assert.deepEqual(await adapter.heldLeases(names), []);
          const a = await adapter.acquireLease("a", "one", 60_000);
          const c = await other.acquireLease("c", "two", 60_000);
          assert.ok(a && c);
          assert.deepEqual(await adapter.heldLeases(names), ["a", "c"]);
          assert.deepEqual(await other.heldLeases!(["c", "a", "x"]), ["c", "a"], "in the order given");
          assert.deepEqual(await adapter.heldLeases([]), []);
          const b = await other.acquireLease("b", "two", 60_000);
          assert.ok(b, "asking took no lease");
          await a.release();
          assert.deepEqual(await other.heldLeases!(names), ["b", "c"]);
          await b.release();
          await c.release();
          assert.deepEqual(await adapter.heldLeases(names), []);
        })),
  },
];
