/**
 * Conformance cases about partitions: partition reads that agree with `partitionOf`, and
 * partitioned subscriptions shared out among instances, each stream in revision order,
 * waited for across partitions, rebuilt whole and refused a new number of partitions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { partitionOf } from "../../contract/partitions.ts";
import { PartitionsChangedError } from "../../errors.ts";
import { type ProjectedRecord, Projector } from "../../projectors/projector.ts";
import type { Subscription } from "../../projectors/subscription.ts";
import type { SubscriptionOptions } from "../../projectors/subscription_options.ts";
import type { ReadAllOptions } from "../../stores/event_store_options.ts";
import { added, type Case, type Events, fail, type Rec, type TestStore } from "../_fixture.ts";
import { head, QUICK, until } from "./_subscription_helpers.ts";

/** Appends `perStream` item events to each of `streams` streams, interleaved, in batches. */
async function fill(store: TestStore, streams: number, perStream: number): Promise<void> {
  for (let n = 1; n <= perStream; n++) {
    await store.pushManyEvents(Array.from({ length: streams }, (_, s) => added(store, `order-${s}`, n)));
  }
}

/** Handled item events, by the instance that handled them. */
class Handled {
  readonly records: ProjectedRecord<Events, "item:added">[] = [];
  readonly by = new Map<string, number>();

  projector(instance: string): Projector<Events> {
    const projector = new Projector<Events>();
    projector.on("item:added", (record) => {
      this.records.push(record);
      this.by.set(instance, (this.by.get(instance) ?? 0) + 1);
    });
    return projector;
  }

  /** Checks that every one of `total` events was handled once, each stream in revision order. */
  check(total: number): void {
    const ids = new Set(this.records.map((record) => record.id));
    assert.equal(ids.size, total, `${ids.size} of ${total} events handled`);
    assert.equal(this.records.length, total, "an event was handled twice");
    const last = new Map<string, number>();
    for (const record of this.records) {
      const before = last.get(record.stream) ?? 0;
      if (record.revision !== before + 1) {
        fail(`stream ${record.stream}: revision ${record.revision} handled after ${before}`);
      }
      last.set(record.stream, record.revision);
    }
  }
}

const OPTIONS: SubscriptionOptions = { ...QUICK, partitions: 8 };

/** Every record `readAll(options)` yields. */
async function readAll(store: TestStore, options: ReadAllOptions): Promise<Rec[]> {
  const out: Rec[] = [];
  for await (const record of store.readAll(options)) out.push(record);
  return out;
}

/** The partitions an instance runs, from its `info()`. */
async function here(subscription: Subscription<Events>): Promise<number[]> {
  return ((await subscription.info()).partitions ?? []).filter((p) => p.here).map((p) => p.index);
}

/** Whether `a` and `b` together run every partition, both some (never one partition in both: its lease). */
async function shared(a: Subscription<Events>, b: Subscription<Events>): Promise<boolean> {
  const [mine, theirs] = [await here(a), await here(b)];
  assert.equal(
    mine.filter((index) => theirs.includes(index)).length,
    0,
    `a runs ${mine}, b runs ${theirs}: ${JSON.stringify((await a.info()).partitions?.map((p) => p.state))} ${
      JSON.stringify((await b.info()).partitions?.map((p) => p.state))
    }`,
  );
  return mine.length > 0 && theirs.length > 0 && mine.length + theirs.length === 8;
}

/** Cases about partition reads and partitioned subscriptions. */
export const partitionCases: readonly Case[] = [
  {
    name: "readAll with a partition reads exactly the streams partitionOf puts in it, in position order",
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 7 });
      await fill(store, 40, 3);
      const all = await store.getEvents();
      for (const count of [1, 3, 16]) {
        const seen: string[] = [];
        for (let index = 0; index < count; index++) {
          const part = await readAll(store, { partition: { index, count } });
          for (const record of part) {
            assert.equal(
              partitionOf(record.stream, count),
              index,
              `${record.stream} read in ${index}/${count}`,
            );
          }
          const positions = part.map((record) => record.position);
          assert.deepEqual(positions, [...positions].sort(), "a partition is read in position order");
          seen.push(...part.map((record) => record.id));
        }
        assert.deepEqual(new Set(seen), new Set(all.map((record) => record.id)), `the ${count} partitions`);
        assert.equal(seen.length, all.length);
      }
      const typed = await readAll(store, { partition: { index: 0, count: 2 }, types: ["tick"] });
      assert.equal(typed.length, 0, "a partition read keeps the type filter");
      for (const partition of [{ index: 2, count: 2 }, { index: -1, count: 2 }, { index: 0, count: 0 }]) {
        await assert.rejects(() => readAll(store, { partition }), RangeError, JSON.stringify(partition));
      }
    },
  },
  {
    name:
      "a partitioned subscription handles every event once, each stream in revision order, and info() shows its partitions",
    async run(ctx) {
      await using store = await ctx.store();
      await fill(store, 30, 4);
      const handled = new Handled();
      await using subscription = store.subscribe("orders", handled.projector("a"), OPTIONS);
      await subscription.waitFor(await head(store), { timeout: 20_000 });
      await fill(store, 30, 1); // live, after catch-up
      await subscription.waitFor(await head(store), { timeout: 20_000 });
      handled.check(150);
      const info = await subscription.info();
      assert.equal(info.partitions?.length, 8);
      assert.deepEqual(
        info.partitions.map((p) => p.name),
        Array.from({ length: 8 }, (_, i) => `orders#${i}/8`),
      );
      assert.ok(info.partitions.every((p) => p.here && p.position !== null && p.parked === 0));
      assert.equal(info.lag, 0);
      assert.equal(info.position, await head(store));
      const saved = new Set((await store.adapter.listCheckpoints()).map((checkpoint) => checkpoint.name));
      for (const partition of info.partitions) {
        assert.ok(saved.has(partition.name), `${partition.name} is saved`);
      }
    },
  },
  {
    name:
      "two instances of a partitioned subscription share its partitions, and one takes them all when the other stops",
    async run(ctx) {
      await using store = await ctx.store();
      await fill(store, 40, 3);
      const handled = new Handled();
      await using a = store.subscribe("orders", handled.projector("a"), OPTIONS);
      await using b = store.subscribe("orders", handled.projector("b"), OPTIONS);
      await until(() => shared(a, b), "the 8 are dealt out to both", 20_000);
      await a.waitFor(await head(store), { timeout: 20_000 });
      await fill(store, 40, 2);
      // Each waits for every partition, wherever it runs.
      await Promise.all([a.waitFor(await head(store), { timeout: 20_000 }), b.waitFor(await head(store))]);
      await b.stop();
      await until(async () => (await here(a)).length === 8, "a runs all 8", 20_000);
      await fill(store, 40, 1);
      await a.waitFor(await head(store), { timeout: 20_000 });
      handled.check(240);
      assert.ok((handled.by.get("b") ?? 0) > 0, "b handled some");
    },
  },
  {
    name:
      "instances of a partitioned subscription over two adapters on one storage share its partitions and lose nothing",
    needs: "reopen",
    async run(ctx) {
      const adapter = await ctx.adapter();
      await using store = await ctx.store({ adapter });
      await using other = await ctx.store({ adapter: await ctx.reopen!(adapter) });
      await fill(store, 40, 3);
      const handled = new Handled();
      await using a = store.subscribe("orders", handled.projector("a"), OPTIONS);
      await using b = other.subscribe("orders", handled.projector("b"), OPTIONS);
      await until(() => shared(a, b), "the 8 are dealt out to both", 20_000);
      await fill(store, 40, 2);
      await a.waitFor(await head(store), { timeout: 20_000 });
      await b.stop();
      await fill(other, 40, 1);
      await a.waitFor(await head(store), { timeout: 20_000 });
      handled.check(240);
      assert.ok(
        (handled.by.get("a") ?? 0) > 0 && (handled.by.get("b") ?? 0) > 0,
        JSON.stringify([...handled.by]),
      );
    },
  },
  {
    name:
      "a new number of partitions is refused with PartitionsChangedError, and rebuild() resets every partition with reset once",
    async run(ctx) {
      await using store = await ctx.store();
      await fill(store, 20, 2);
      const handled = new Handled();
      let resets = 0;
      const first = store.subscribe("orders", handled.projector("a"), {
        ...OPTIONS,
        reset: () => void resets++,
      });
      await first.waitFor(await head(store), { timeout: 20_000 });
      assert.equal(resets, 1, "reset runs once on the first start, not per partition");
      await first.stop();

      const projector = handled.projector("b");
      const changed = store.subscribe("orders", projector, { ...OPTIONS, partitions: 4, onError: () => {} });
      await until(() => changed.state === "failed", "a new count fails", 20_000);
      const info = await changed.info();
      assert.match(info.error ?? "", /checkpoints for 8 partitions, not 4: call rebuild\(\)/);
      await assert.rejects(() => changed.waitFor(""), TypeError);
      const unpartitioned = store.subscribe("orders", projector, { ...QUICK, onError: () => {} });
      await until(() => unpartitioned.state === "failed", "no partitions fails too", 20_000);
      assert.match((await unpartitioned.info()).error ?? "", /for 8 partitions, not unpartitioned/);
      assert.equal(handled.by.get("b"), undefined, "nothing was handled by the refused ones");

      handled.records.length = 0;
      const rebuilt = store.subscribe("orders", projector, {
        ...OPTIONS,
        partitions: 4,
        start: false,
        reset: () => void (resets++, handled.records.length = 0),
      });
      await rebuilt.rebuild();
      assert.equal(resets, 2);
      handled.check(40);
      const names = (await store.adapter.listCheckpoints()).map((checkpoint) => checkpoint.name)
        .filter((name) => name.startsWith("orders#")).sort();
      assert.deepEqual(names, ["orders#0/4", "orders#1/4", "orders#2/4", "orders#3/4"]);
      await rebuilt.stop();
      assert.ok(new PartitionsChangedError("x", 2, [1]).message.includes("no partitions"));
    },
  },
  {
    name:
      "rebuild() of running instances stops every partition everywhere, resets them all once, replays and goes on",
    async run(ctx) {
      await using store = await ctx.store();
      await fill(store, 30, 3);
      const handled = new Handled();
      let resets = 0;
      const clear = () => void (resets++, handled.records.length = 0, handled.by.clear());
      const options = { ...OPTIONS, reset: clear };
      await using a = store.subscribe("orders", handled.projector("a"), options);
      await using b = store.subscribe("orders", handled.projector("b"), options);
      await until(() => shared(a, b), "the 8 are dealt out to both", 20_000);
      await a.waitFor(await head(store), { timeout: 20_000 });
      handled.check(90);
      resets = 0;
      await b.rebuild();
      assert.equal(resets, 1, "reset ran once");
      handled.check(90);
      await fill(store, 30, 1);
      await a.waitFor(await head(store), { timeout: 20_000 });
      await until(() => shared(a, b), "both run partitions again", 20_000);
      handled.check(120);
      const saved = (await store.adapter.listCheckpoints()).map((checkpoint) => checkpoint.name);
      assert.ok(!saved.some((name) => name.includes("#reset")), `no marker is left: ${saved}`);
    },
  },
  {
    name: "a rebuild in the middle of a catch-up resets every partition, and nothing is counted twice",
    async run(ctx) {
      await using store = await ctx.store();
      await fill(store, 20, 10);
      const counts = new Map<string, number>();
      const projector = new Projector<Events>();
      projector.on("item:added", async (record) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        counts.set(record.stream, (counts.get(record.stream) ?? 0) + 1);
      });
      await using subscription = store.subscribe("orders", projector, {
        ...OPTIONS,
        partitions: 4,
        reset: () => counts.clear(),
      });
      await until(
        () => [...counts.values()].reduce((sum, n) => sum + n, 0) > 20,
        "it is catching up",
        20_000,
      );
      await subscription.rebuild();
      await subscription.waitFor(await head(store), { timeout: 20_000 });
      assert.deepEqual([...counts.values()], Array(20).fill(10), JSON.stringify([...counts]));
    },
  },
  {
    name:
      "an instance of another version resets every partition, and the running one of the old version stops",
    async run(ctx) {
      await using store = await ctx.store();
      await fill(store, 20, 2);
      const counts = new Map<string, number>();
      const projector = () => {
        const p = new Projector<Events>();
        p.on("item:added", (record) => void counts.set(record.stream, (counts.get(record.stream) ?? 0) + 1));
        return p;
      };
      const reset = () => counts.clear();
      await using old = store.subscribe("orders", projector(), {
        ...OPTIONS,
        version: 1,
        reset,
        onError: () => {},
      });
      await old.waitFor(await head(store), { timeout: 20_000 });
      await using next = store.subscribe("orders", projector(), { ...OPTIONS, version: 2, reset });
      await until(() => old.state === "failed", "the old version stops", 20_000);
      assert.match((await old.info()).error ?? "", /saved by version 2 of the subscription, not 1/);
      await fill(store, 20, 1);
      await next.waitFor(await head(store), { timeout: 20_000 });
      assert.deepEqual([...counts.values()], Array(20).fill(3), JSON.stringify([...counts]));
      assert.ok(
        (await store.adapter.listCheckpoints()).every((c) =>
          !c.name.startsWith("orders#") || c.version === 2
        ),
      );
    },
  },
  {
    name:
      "a reset marker left by an instance that died in a reset makes the next start reset again; a failed partition starts again",
    async run(ctx) {
      await using store = await ctx.store();
      await fill(store, 10, 2);
      let resets = 0;
      let broken = true;
      const seen = new Set<string>();
      const projector = new Projector<Events>();
      projector.on("item:added", (record) => {
        if (broken && record.stream === "order-3") throw new Error("not yet");
        seen.add(record.id);
      });
      const options = { ...OPTIONS, partitions: 4, reset: () => void (resets++, seen.clear()), attempts: 1 };
      const first = store.subscribe("orders", projector, {
        ...options,
        onFailure: "stop",
        onError: () => {},
      });
      await until(() => first.state === "failed", "a partition fails, and with it the subscription", 20_000);
      assert.match((await first.info()).error ?? "", /partition orders#\d\/4 failed/);
      broken = false;
      first.start(); // the failed partition starts again
      await first.waitFor(await head(store), { timeout: 20_000 });
      assert.equal(seen.size, 20);
      await first.stop();
      // As if an instance died between the marker and the end of its reset.
      await store.adapter.putCheckpoint("orders#reset/4", null, { position: null });
      resets = 0;
      await using second = store.subscribe("orders", projector, options);
      await second.waitFor(await head(store), { timeout: 20_000 });
      assert.equal(resets, 1, "the reset was done again");
      assert.equal(seen.size, 20);
      assert.equal(await store.adapter.getCheckpoint("orders#reset/4"), undefined);
    },
  },
  {
    name: "pause() and resume() of an instance also resume the partitions it was still waiting for",
    async run(ctx) {
      await using store = await ctx.store();
      const handled = new Handled();
      await using a = store.subscribe("orders", handled.projector("a"), OPTIONS);
      await until(() => (a as unknown as { running: number[] }).running.length === 8, "a runs all", 20_000);
      await using b = store.subscribe("orders", handled.projector("b"), OPTIONS);
      await b.pause();
      b.resume();
      await until(() => shared(a, b), "the 8 are dealt out to both", 20_000);
      await fill(store, 40, 1);
      await a.waitFor(await head(store), { timeout: 20_000 });
      await b.waitFor(await head(store), { timeout: 20_000 });
      handled.check(40);
    },
  },
  {
    name: "partitions that is not a whole number from 1 to 1024 is refused, as is state with partitions",
    async run(ctx) {
      await using store = await ctx.store();
      const projector = new Projector<Events>();
      for (const partitions of [0, -1, 1.5, 1025, Number.NaN, Infinity]) {
        assert.throws(() => store.subscribe("x", projector, { partitions }), RangeError, String(partitions));
      }
      for (const partitions of ["4", null, {}]) {
        assert.throws(() => store.subscribe("x", projector, { partitions } as never), TypeError);
      }
      assert.throws(
        () => store.subscribe("x", projector, { partitions: 2, state: { save: () => 1, restore: () => {} } }),
        /state and partitions do not go together/,
      );
      assert.equal((await store.adapter.listCheckpoints()).length, 0, "nothing was written");
    },
  },
];
