/**
 * Conformance cases about durable subscriptions: catch-up then live without a gap or a
 * duplicate, checkpoints and restarts, read-your-writes, rebuilds, saved state and one
 * active instance per name.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SubscriptionStoppedError, TimeoutError } from "../../errors.ts";
import { type ProjectedRecord, Projector } from "../../projectors/projector.ts";
import type { SubscriptionOptions } from "../../projectors/subscription_options.ts";
import { added, type Case, type Events, fail, rejects, type TestStore, turn } from "../_fixture.ts";
import { head, QUICK, reaches, until } from "./_subscription_helpers.ts";

/** Pushes `count` item events to `stream`, numbered on from `from`, in batches. */
async function fill(
  store: TestStore,
  stream: string,
  from: number,
  count: number,
  batch = 1000,
): Promise<void> {
  for (let done = 0; done < count; done += batch) {
    const size = Math.min(batch, count - done);
    await store.pushManyEvents(Array.from({ length: size }, (_, i) => added(store, stream, from + done + i)));
  }
}

interface Seen {
  readonly record: ProjectedRecord<Events, "item:added">;
  fresh: boolean;
}

/** A projector that records every item event it sees and which of them were fresh. */
function recorder(slow = false): { projector: Projector<Events>; seen: Seen[]; fresh: Set<string> } {
  const projector = new Projector<Events>();
  const seen: Seen[] = [];
  const fresh = new Set<string>();
  projector.on("item:added", async (record) => {
    seen.push({ record, fresh: false });
    // A slower catch-up overlaps with more appends.
    if (slow && record.data.n % 50 === 0) await turn(1);
  });
  projector.once("item:added", (record) => void fresh.add(record.id));
  return { projector, seen, fresh };
}

function assertStreamsInOrder(seen: readonly Seen[]): void {
  const last = new Map<string, number>();
  for (const { record } of seen) {
    const before = last.get(record.stream) ?? 0;
    if (record.revision !== before + 1) {
      fail(`stream ${record.stream}: revision ${record.revision} handled after ${before}`);
    }
    last.set(record.stream, record.revision);
  }
}

/** Cases about delivery, checkpoints, waiting, rebuilds, saved state and leases. */
export const subscriptionCases: readonly Case[] = [
  {
    name:
      "a subscription reads only the types its projector handles, and its checkpoint moves past what it skipped",
    async run(ctx) {
      const inner = await ctx.adapter();
      const asked: (readonly string[] | undefined)[] = [];
      // The same adapter, noting the types each log read asks for.
      const adapter = new Proxy(inner, {
        get(target, key, receiver) {
          if (key === "readLog") {
            return (query: Parameters<typeof inner.readLog>[0]) => {
              if (query.direction === "forward") asked.push(query.types);
              return target.readLog(query);
            };
          }
          const value = Reflect.get(target, key, receiver);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      await using store = await ctx.store({ adapter });
      for (let i = 0; i < 30; i++) await store.pushEvent(store.event({ type: "tick", stream: `t${i % 3}` }));
      const renamed = await store.pushEvent(
        store.event({ type: "user:renamed", stream: "u1", data: { name: "Ada" } }),
      );
      const last = await store.pushEvent(store.event({ type: "tick", stream: "t0" }));
      const names: string[] = [];
      const projector = new Projector<Events>();
      projector.on("user:renamed", (record) => void names.push(record.data.name));
      await using subscription = store.subscribe("renames", projector, QUICK);
      await subscription.waitFor(last.position); // a position of an event no handler takes
      assert.deepEqual(names, ["Ada"]);
      assert.ok(asked.some((types) => types?.join() === "user:renamed"), "read with the projector's types");
      assert.ok(!asked.some((types) => types === undefined), "never the whole log");
      assert.equal(
        (await store.checkpoints.get("renames"))?.position,
        last.position,
        "past the skipped ticks",
      );
      assert.ok(renamed.position < last.position);
    },
  },
  {
    name: "events appended during the catch-up are fresh, though the catch-up reads them",
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 50 });
      await fill(store, "old", 1, 500);
      const { projector, seen, fresh } = recorder(true);
      await using subscription = store.subscribe("late", projector, QUICK);
      // Appended while the history is still being caught up with.
      await until(() => seen.length > 0, "the catch-up has begun");
      const late = await store.pushEvent(added(store, "new", 1));
      assert.ok(seen.length < 500, "the append came during the catch-up");
      await subscription.waitFor(late.position, { timeout: 20_000 });
      assert.equal(seen.length, 501);
      assert.deepEqual([...fresh], [late.id], "only the event appended during the catch-up is fresh");
    },
  },
  {
    name:
      "a subscription catches up hydrated, then goes live without a gap or a duplicate while writers append",
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 100 });
      const before = Math.max(300, Math.round(3000 * ctx.scale));
      for (let w = 0; w < 3; w++) await fill(store, `w${w}`, 1, before / 3, 100);
      const history = new Set((await store.getEvents()).map((record) => record.id));
      const { projector, seen, fresh } = recorder(true);
      let writing = true;
      const afterLive: string[] = [];
      let live = false;
      const writers = [0, 1, 2].map(async (w) => {
        for (let n = before / 3 + 1; writing; n += 3) {
          const records = await store.pushManyEvents([0, 1, 2].map((i) => added(store, `w${w}`, n + i)));
          if (live) afterLive.push(...records.map((record) => record.id));
          await turn();
        }
      });
      await using subscription = store.subscribe("catch-up", projector, QUICK);
      await reaches(subscription, "live");
      live = true;
      await until(() => afterLive.length >= 30, "writers appended while live");
      writing = false;
      await Promise.all(writers);
      const last = await head(store);
      await subscription.waitFor(last, { timeout: 20_000 });
      const all = await store.getEvents();
      for (const item of seen) item.fresh = fresh.has(item.record.id);
      assert.equal(seen.length, all.length, "every event handled exactly once");
      assert.deepEqual(new Set(seen.map((item) => item.record.id)), new Set(all.map((record) => record.id)));
      assertStreamsInOrder(seen);
      for (const item of seen) {
        if (history.has(item.record.id) && item.fresh) {
          fail(`${item.record.id} of the history was delivered fresh`);
        }
      }
      for (const id of afterLive) {
        assert.ok(fresh.has(id), `${id}, appended while live, was delivered hydrated`);
      }
      assert.equal((await store.checkpoints.get("catch-up"))?.position, last);
    },
  },
  {
    name: "a subscription saves its checkpoint after each page, and a restart goes on from it",
    async run(ctx) {
      await using store = await ctx.store({ pageSize: 10 });
      await fill(store, "s", 1, 35);
      const first = recorder();
      const one = store.subscribe("resume", first.projector, QUICK);
      await one.waitFor(await head(store));
      await one.stop();
      assert.equal((await store.checkpoints.get("resume"))?.position, await head(store));
      assert.equal((await one.info()).state, "stopped");
      await fill(store, "s", 36, 15);
      const second = recorder();
      const two = store.subscribe("resume", second.projector, QUICK);
      await two.waitFor(await head(store));
      await two.stop();
      assert.deepEqual(
        second.seen.map((item) => item.record.data.n),
        Array.from({ length: 15 }, (_, i) => 36 + i),
      );
      assert.equal(second.fresh.size, 0, "events behind the checkpoint are delivered hydrated");
      await fill(store, "s", 51, 5);
      const third = recorder();
      await using three = store.subscribe("resume", third.projector, { ...QUICK, resumeAs: "fresh" });
      await three.waitFor(await head(store));
      assert.deepEqual(third.seen.map((item) => item.record.data.n), [51, 52, 53, 54, 55]);
      assert.equal(third.fresh.size, 5, 'resumeAs "fresh" delivers events missed while stopped as fresh');
    },
  },
  {
    name: "waitFor resolves after the handler ran (also for an event no handler takes) and times out cleanly",
    async run(ctx) {
      await using store = await ctx.store();
      const model = new Map<string, number>();
      const projector = new Projector<Events>();
      projector.on("item:added", async (record) => {
        await turn(5);
        model.set(record.stream, record.data.n);
      });
      const subscription = store.subscribe("read-your-writes", projector, QUICK);
      const record = await store.pushEvent(added(store, "a", 1));
      await subscription.waitFor(record.position, { timeout: 10_000 });
      assert.equal(model.get("a"), 1, "the handler ran before waitFor resolved");
      const tick = await store.pushEvent(store.event({ type: "tick", stream: "t" }));
      await subscription.waitFor(tick.position, { timeout: 10_000 });
      await subscription.pause();
      assert.equal((await subscription.info()).state, "paused");
      const later = await store.pushEvent(added(store, "a", 2));
      const started = Date.now();
      await rejects(() => subscription.waitFor(later.position, { timeout: 50 }), TimeoutError, (error) => {
        assert.equal(error.ms, 50);
        assert.match(error.message, /read-your-writes/);
      });
      assert.ok(Date.now() - started >= 45, "waitFor waited for its timeout");
      const info = await subscription.info();
      assert.equal(info.lag, 1);
      assert.equal(info.position, tick.position);
      subscription.resume();
      await subscription.waitFor(later.position, { timeout: 10_000 });
      assert.equal(model.get("a"), 2);
      await subscription.waitFor(record.position, { timeout: 0 });
      await subscription.stop();
      const after = await store.pushEvent(added(store, "a", 3));
      await rejects(() => subscription.waitFor(after.position), SubscriptionStoppedError);
      await rejects(() => subscription.waitFor(42 as unknown as string), TypeError);
    },
  },
  {
    name: "a rebuild of a 100k-event read model calls no once handler and equals the live-built one",
    async run(ctx) {
      await using store = await ctx.store();
      const total = Math.max(1000, Math.round(100_000 * ctx.scale));
      const model = new Map<string, { count: number; sum: number }>();
      let onces = 0;
      let resets = 0;
      const projector = new Projector<Events>();
      projector.on("item:added", (record) => {
        const entry = model.get(record.stream) ?? { count: 0, sum: 0 };
        model.set(record.stream, { count: entry.count + 1, sum: entry.sum + record.data.n });
      });
      projector.once("item:added", () => void onces++);
      await using subscription = store.subscribe("rebuild", projector, {
        ...QUICK,
        reset: () => {
          resets++;
          model.clear();
        },
      });
      await reaches(subscription, "live");
      const batch = 1000;
      for (let done = 0; done < total; done += batch) {
        const size = Math.min(batch, total - done);
        await store.pushManyEvents(
          Array.from({ length: size }, (_, i) => added(store, `s${(done + i) % 97}`, done + i)),
        );
      }
      await subscription.waitFor(await head(store), { timeout: 120_000 });
      const expected = new Map<string, { count: number; sum: number }>();
      for (let i = 0; i < total; i++) {
        const entry = expected.get(`s${i % 97}`) ?? { count: 0, sum: 0 };
        expected.set(`s${i % 97}`, { count: entry.count + 1, sum: entry.sum + i });
      }
      assert.deepEqual(model, expected, "the live-built read model");
      assert.equal(onces, total, "live events are fresh");
      const liveBuilt = structuredClone(model);
      await subscription.rebuild();
      assert.equal(resets, 2, "once for the start from no checkpoint, once for the rebuild");
      assert.equal(onces, total, "no once handler ran during the rebuild");
      assert.deepEqual(model, liveBuilt);
      assert.equal((await subscription.info()).state, "live");
      assert.equal((await store.checkpoints.get("rebuild"))?.position, await head(store));
    },
  },
  {
    name: "a saved state is restored on start, and a changed version rebuilds",
    async run(ctx) {
      await using store = await ctx.store();
      const model = new Map<string, number>();
      let resets = 0;
      let deliveries = 0;
      const projector = new Projector<Events>();
      projector.on("item:added", (record) => {
        deliveries++;
        model.set(record.stream, (model.get(record.stream) ?? 0) + record.data.n);
      });
      const options = (version: number): SubscriptionOptions => ({
        ...QUICK,
        version,
        reset: () => {
          resets++;
          model.clear();
        },
        state: {
          save: () => [...model],
          restore: (saved) => {
            model.clear();
            for (const [key, n] of saved as [string, number][]) model.set(key, n);
          },
        },
      });
      await fill(store, "a", 1, 10);
      await store.pushEvent(added(store, "b", 100));
      const one = store.subscribe("stateful", projector, options(1));
      await one.waitFor(await head(store));
      await one.stop();
      const saved = await store.checkpoints.get("stateful");
      assert.deepEqual(saved?.state, [["a", 55], ["b", 100]]);
      assert.equal(saved?.version, 1);
      model.clear(); // as in a new process
      deliveries = 0;
      const two = store.subscribe("stateful", projector, options(1));
      await reaches(two, "live");
      assert.deepEqual([...model], [["a", 55], ["b", 100]], "restored from the checkpoint");
      assert.equal(deliveries, 0, "nothing delivered again");
      await store.pushEvent(added(store, "a", 1000));
      await two.waitFor(await head(store));
      await two.stop();
      assert.equal(model.get("a"), 1055);
      assert.equal(resets, 1, "only the first start, from no checkpoint, reset the read model");
      deliveries = 0;
      await using three = store.subscribe("stateful", projector, options(2));
      await three.waitFor(await head(store));
      assert.equal(resets, 2, "a new version rebuilds");
      assert.equal(deliveries, 12);
      assert.deepEqual([...model].sort(), [["a", 1055], ["b", 100]]);
      assert.equal((await store.checkpoints.get("stateful"))?.version, 2);
    },
  },
  {
    name:
      "one instance per name handles events; a second waits for the lease and takes over from the checkpoint",
    async run(ctx) {
      await using store = await ctx.store();
      const first = recorder();
      const second = recorder();
      const one = store.subscribe("single", first.projector, QUICK);
      await reaches(one, "live");
      await using two = store.subscribe("single", second.projector, QUICK);
      await reaches(two, "waiting-for-lease");
      await fill(store, "s", 1, 10);
      await one.waitFor(await head(store));
      await two.waitFor(await head(store), { timeout: 10_000 }); // read off the active instance's checkpoint
      assert.equal(first.seen.length, 10);
      assert.equal(second.seen.length, 0, "the waiting instance handled nothing");
      assert.equal((await two.info()).position, await head(store));
      await one.stop();
      await reaches(two, "live");
      await fill(store, "s", 11, 5);
      await two.waitFor(await head(store));
      assert.deepEqual(second.seen.map((item) => item.record.data.n), [11, 12, 13, 14, 15]);
      assert.equal(first.seen.length, 10);
    },
  },
];
