/**
 * Conformance cases about failing handlers in subscriptions: retries with backoff,
 * parking and replaying, parking a stream in order (`"park-stream"`), stopping, and
 * transactional read models that roll back with the checkpoint.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SubscriptionStoppedError } from "../../errors.ts";
import { Projector } from "../../projectors/projector.ts";
import type { SubscriptionErrorContext } from "../../projectors/subscription_options.ts";
import { added, type Case, type Events, rejects, type TestStore } from "../_fixture.ts";
import { txTable } from "../_conformance_read_model.ts";
import { head, QUICK, reaches } from "./_subscription_helpers.ts";

async function numbered(store: TestStore, stream: string, from: number, to: number) {
  return await store.pushManyEvents(
    Array.from({ length: to - from + 1 }, (_, i) => added(store, stream, from + i)),
  );
}

/** Cases about retries, parking, stopping and transactions. */
export const subscriptionFailureCases: readonly Case[] = [
  {
    name: "a poison event is retried, parked, listed and replayed after a fix while the rest keeps flowing",
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 8 });
      let broken = true;
      let tries = 0;
      const handled: number[] = [];
      const reports: { action: string; attempt?: number }[] = [];
      const projector = new Projector<Events>();
      projector.on("item:added", (record) => {
        if (record.data.n === 13 && broken) {
          tries++;
          throw new Error("poison 13");
        }
        handled.push(record.data.n);
      });
      const onError = (_: unknown, { action, attempt }: SubscriptionErrorContext) =>
        void reports.push({ action, attempt });
      await using subscription = store.subscribe("poison", projector, { ...QUICK, attempts: 3, onError });
      const records = await numbered(store, "p", 1, 30);
      await subscription.waitFor(await head(store), { timeout: 10_000 });
      assert.equal(tries, 3);
      assert.deepEqual(handled, Array.from({ length: 30 }, (_, i) => i + 1).filter((n) => n !== 13));
      assert.deepEqual(reports, [
        { action: "retry", attempt: 1 },
        { action: "retry", attempt: 2 },
        { action: "park", attempt: 3 },
      ]);
      const poison = records[12];
      const parked = await subscription.parked();
      assert.equal(parked.length, 1);
      assert.deepEqual(
        { ...parked[0], parked: undefined, hydrated: undefined },
        {
          name: "poison",
          id: poison.id,
          position: poison.position,
          stream: "p",
          type: "item:added",
          error: "Error: poison 13",
          attempts: 3,
          parked: undefined,
          hydrated: undefined,
        },
      );
      assert.ok(!Number.isNaN(Date.parse(parked[0].parked)));
      assert.deepEqual(await store.adapter.listParked("poison"), parked);
      assert.equal((await subscription.info()).parked, 1);
      assert.equal((await store.checkpoints.get("poison"))?.position, await head(store));

      // Replaying while still broken keeps it parked, with the new attempt counted.
      const again = await subscription.replayParked();
      assert.deepEqual(again.replayed, []);
      assert.equal(again.failed[0].attempts, 4);
      broken = false;
      const fixed = await subscription.replayParked(poison.id);
      assert.deepEqual(fixed, { replayed: [poison.id], failed: [] });
      assert.equal(handled.at(-1), 13);
      assert.deepEqual(await subscription.parked(), []);
      assert.equal((await subscription.info()).parked, 0);
    },
  },
  {
    name:
      'onFailure "stop" fails the subscription with the checkpoint before the failing event; a restart retries it',
    async run(ctx) {
      await using store = await ctx.store();
      let broken = true;
      const handled: number[] = [];
      const projector = new Projector<Events>();
      projector.on("item:added", (record) => {
        if (record.data.n === 5 && broken) throw new Error("cannot handle 5");
        handled.push(record.data.n);
      });
      const subscription = store.subscribe("stopper", projector, {
        ...QUICK,
        attempts: 2,
        onFailure: "stop",
        onError: () => {},
      });
      const records = await numbered(store, "s", 1, 10);
      await rejects(() => subscription.waitFor(records[9].position), SubscriptionStoppedError, (error) => {
        assert.equal(error.state, "failed");
        assert.match(String((error.cause as Error).message), /cannot handle 5/);
      });
      const info = await subscription.info();
      assert.equal(info.state, "failed");
      assert.match(info.error ?? "", /cannot handle 5/);
      assert.equal(info.position, records[3].position);
      assert.equal((await store.checkpoints.get("stopper"))?.position, records[3].position);
      assert.deepEqual(handled, [1, 2, 3, 4]);
      assert.deepEqual(await subscription.parked(), []);
      broken = false;
      subscription.start();
      await subscription.waitFor(records[9].position);
      await subscription.stop();
      assert.deepEqual(handled, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    },
  },
  {
    name:
      "transactional: a handler that writes through the transaction and throws leaves neither its write nor a checkpoint move",
    async run(ctx) {
      await using store = await ctx.store();
      const table = await txTable(store.adapter, `cf_model_${crypto.randomUUID().slice(0, 8)}`);
      let broken = true;
      const projector = new Projector<Events>();
      const subscription = store.subscribe("tx", projector, {
        ...QUICK,
        transactional: true,
        attempts: 2,
        onFailure: "stop",
        onError: () => {},
      });
      projector.on("item:added", async (record) => {
        await table.add(subscription.tx(), `${record.stream}:${record.data.n}`, 1);
        if (record.data.n === 3 && broken) throw new Error("after writing");
      });
      assert.throws(() => subscription.tx(), TypeError, "tx() outside a handler");
      const records = await numbered(store, "s", 1, 5);
      await rejects(() => subscription.waitFor(records[4].position), SubscriptionStoppedError);
      assert.deepEqual(await table.read(), new Map([["s:1", 1], ["s:2", 1]]));
      assert.equal((await store.checkpoints.get("tx"))?.position, records[1].position);
      broken = false;
      subscription.start();
      await subscription.waitFor(records[4].position);
      await subscription.stop();
      assert.deepEqual(
        await table.read(),
        new Map([1, 2, 3, 4, 5].map((n) => [`s:${n}`, 1])),
        "exactly once",
      );
      assert.equal((await store.checkpoints.get("tx"))?.position, records[4].position);
    },
  },
  {
    name: "transactional: a parked event's write is rolled back, the others commit once with the checkpoint",
    async run(ctx) {
      await using store = await ctx.store();
      const table = await txTable(store.adapter, `cf_model_${crypto.randomUUID().slice(0, 8)}`);
      const projector = new Projector<Events>();
      await using subscription = store.subscribe("tx-park", projector, {
        ...QUICK,
        transactional: true,
        attempts: 2,
        onError: () => {},
        reset: () => table.clear(subscription.tx()),
      });
      projector.on("item:added", async (record) => {
        await table.add(subscription.tx(), `${record.stream}:${record.data.n}`, 1);
        if (record.data.n === 3) throw new Error("never 3");
      });
      await reaches(subscription, "live");
      const records = [...await numbered(store, "s", 1, 5), ...await numbered(store, "t", 1, 2)];
      await subscription.waitFor(records[6].position);
      assert.deepEqual(
        await table.read(),
        new Map(["s:1", "s:2", "s:4", "s:5", "t:1", "t:2"].map((key) => [key, 1])),
      );
      assert.deepEqual((await subscription.parked()).map((event) => event.id), [records[2].id]);
      assert.equal((await store.checkpoints.get("tx-park"))?.position, records[6].position);
      await subscription.rebuild();
      assert.deepEqual(
        await table.read(),
        new Map(["s:1", "s:2", "s:4", "s:5", "t:1", "t:2"].map((key) => [key, 1])),
        "a rebuild in a transaction resets and replays the read model",
      );
      assert.deepEqual((await subscription.parked()).map((event) => event.id), [records[2].id]);
    },
  },
  {
    name:
      'onFailure "park-stream" holds a parked event\'s stream (also after a restart) until it is replayed in order or dropped',
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 4 });
      const broken = new Set(["p:1"]);
      const applied: string[] = [];
      const projector = new Projector<Events>();
      projector.on("item:added", (record) => {
        const key = `${record.stream}:${record.data.n}`;
        if (broken.has(key)) throw new Error(`cannot apply ${key}`);
        applied.push(key);
      });
      const options = { ...QUICK, attempts: 2, onFailure: "park-stream", onError: () => {} } as const;
      const first = store.subscribe("ordered", projector, options);
      const [p1, p2, q1] = await store.pushManyEvents([
        added(store, "p", 1),
        added(store, "p", 2),
        added(store, "q", 1),
      ]);
      await first.waitFor(q1.position, { timeout: 10_000 });
      await first.stop();
      const [p3, , p4] = await store.pushManyEvents([
        added(store, "p", 3),
        added(store, "q", 2),
        added(store, "p", 4),
      ]);
      await using subscription = store.subscribe("ordered", projector, options);
      await subscription.waitFor(p4.position, { timeout: 10_000 });
      assert.deepEqual(applied, ["q:1", "q:2"], "other streams flow, nothing of p overtakes p:1");
      const parked = await subscription.parked();
      assert.deepEqual(parked.map((event) => [event.id, event.attempts]), [
        [p1.id, 2],
        [p2.id, 0],
        [p3.id, 0],
        [p4.id, 0],
      ]);
      assert.match(parked[3].error, new RegExp(`held behind parked event ${p1.id}`));
      assert.equal((await store.checkpoints.get("ordered"))?.position, p4.position);

      broken.add("p:3");
      broken.delete("p:1");
      const replay = await subscription.replayParked();
      assert.deepEqual(replay.replayed, [p1.id, p2.id]);
      assert.deepEqual(replay.failed.map((event) => [event.id, event.attempts]), [[p3.id, 1]]);
      assert.deepEqual((await subscription.parked()).map((event) => event.id), [p3.id, p4.id]);
      const drop = await subscription.dropParked(p3.id);
      assert.deepEqual([drop.dropped?.id, drop.replayed, drop.failed], [p3.id, [p4.id], []]);
      assert.deepEqual(await subscription.dropParked(p3.id), { dropped: null, replayed: [], failed: [] });
      const [p5] = await store.pushManyEvents([added(store, "p", 5)]);
      await subscription.waitFor(p5.position, { timeout: 10_000 });
      assert.deepEqual(applied, ["q:1", "q:2", "p:1", "p:2", "p:4", "p:5"]);
      assert.deepEqual(await subscription.parked(), []);
    },
  },
  {
    name:
      'transactional, onFailure "park-stream": held events are parked with the checkpoint, each event applies once',
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 4 });
      const table = await txTable(store.adapter, `cf_model_${crypto.randomUUID().slice(0, 8)}`);
      let broken = true;
      const projector = new Projector<Events>();
      await using subscription = store.subscribe("tx-ordered", projector, {
        ...QUICK,
        transactional: true,
        attempts: 2,
        onFailure: "park-stream",
        onError: () => {},
      });
      projector.on("item:added", async (record) => {
        await table.add(subscription.tx(), `${record.stream}:${record.data.n}`, 1);
        if (record.stream === "p" && record.data.n === 1 && broken) throw new Error("not yet");
      });
      const records = [...await numbered(store, "p", 1, 3), ...await numbered(store, "q", 1, 2)];
      const [later] = await numbered(store, "p", 4, 4);
      await subscription.waitFor(later.position, { timeout: 10_000 });
      assert.deepEqual(await table.read(), new Map([["q:1", 1], ["q:2", 1]]));
      assert.deepEqual((await subscription.parked()).map((event) => event.attempts), [2, 0, 0, 0]);
      assert.equal((await store.checkpoints.get("tx-ordered"))?.position, later.position);
      broken = false;
      const replay = await subscription.replayParked();
      assert.deepEqual(replay.replayed, [records[0].id, records[1].id, records[2].id, later.id]);
      const [last] = await numbered(store, "p", 5, 5);
      await subscription.waitFor(last.position, { timeout: 10_000 });
      assert.deepEqual(
        await table.read(),
        new Map(["p:1", "p:2", "p:3", "p:4", "p:5", "q:1", "q:2"].map((key) => [key, 1])),
        "exactly once",
      );
    },
  },
];
