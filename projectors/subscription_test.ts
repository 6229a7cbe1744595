import assert from "node:assert/strict";
import { backoffDelay, jitteredDelay } from "../async.ts";
import { SubscriptionStoppedError } from "../errors.ts";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import type { EventRecord } from "../events/record.ts";
import type { Adapter } from "../contract/mod.ts";
import { EventStore } from "../stores/event_store.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { Projector } from "./projector.ts";
import type { SubscriptionErrorContext, SubscriptionOptions } from "./subscription_options.ts";

const events = new EventFactory([event.type("tick"), event.type("noted")]);
type Events = typeof events;
const QUICK: SubscriptionOptions = { pollInterval: 20, leaseInterval: 20, leaseTtl: 100, backoff: 1 };

function store(adapter: Adapter = new MemoryAdapter()): EventStore<Events> {
  return new EventStore({ adapter, events });
}

async function tick(target: EventStore<Events>, stream = "s"): Promise<EventRecord> {
  return await target.pushEvent(target.event({ type: "tick", stream }));
}

Deno.test("subscribe() rejects a bad name, projector or option with a TypeError or RangeError", async () => {
  await using events = store();
  const projector = new Projector<Events>();
  assert.throws(() => events.subscribe("", projector), TypeError);
  assert.throws(() => events.subscribe("x", undefined as unknown as Projector<Events>), TypeError);
  assert.throws(() => events.subscribe("x", projector, { attempts: 0 }), RangeError);
  assert.throws(() => events.subscribe("x", projector, { backoff: -1 }), RangeError);
  assert.throws(() => events.subscribe("x", projector, { onFailure: "retry" as "stop" }), /"park" or "stop"/);
  assert.throws(() => events.subscribe("x", projector, { resumeAs: "live" as "fresh" }), TypeError);
  assert.throws(
    () => events.subscribe("x", projector, { leaseInterval: 500, leaseTtl: 1000 }),
    /more than twice/,
  );
  assert.throws(() => events.subscribe("x", projector, { state: { save: () => 1 } as never }), TypeError);
  assert.throws(
    () =>
      events.subscribe("x", projector, {
        transactional: true,
        state: { save: () => 1, restore: () => {} },
      }),
    /do not go together/,
  );
  await events.close();
  assert.throws(() => events.subscribe("x", projector), /closed/);
});

Deno.test("closing the store stops its subscriptions and rejects their waiters", async () => {
  const target = store();
  const projector = new Projector<Events>();
  const subscription = target.subscribe("closing", projector, QUICK);
  await subscription.waitFor((await tick(target)).position);
  const paused = subscription.pause();
  await paused;
  const later = await tick(target);
  const waiting = subscription.waitFor(later.position, { timeout: 10_000 });
  await target.close();
  await assert.rejects(waiting, SubscriptionStoppedError);
  assert.equal(subscription.state, "stopped");
});

Deno.test("start: false leaves it stopped; rebuild() starts it; start() after stop() goes on from the checkpoint", async () => {
  await using target = store();
  let ticks = 0;
  const projector = new Projector<Events>();
  projector.on("tick", () => void ticks++);
  await tick(target);
  await using subscription = target.subscribe("lifecycle", projector, { ...QUICK, start: false });
  assert.equal(subscription.state, "stopped");
  await assert.rejects(subscription.replayParked(), SubscriptionStoppedError);
  await assert.rejects(subscription.waitFor("0000000000000001"), SubscriptionStoppedError);
  await subscription.rebuild();
  assert.equal(ticks, 1);
  await subscription.stop();
  await subscription.stop();
  await tick(target);
  subscription.start();
  subscription.start();
  await subscription.waitFor((await tick(target)).position);
  assert.equal(ticks, 3);
});

Deno.test("backoffDelay() doubles from the base up to the cap", () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, 30, 200)), [30, 60, 120, 200, 200]);
  assert.equal(backoffDelay(10_000, 100, 30_000), 30_000, "no overflow for a long run of retries");
});

Deno.test("the recovery delay (jitteredDelay) doubles from the base up to the cap, shortened by up to half at random", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => jitteredDelay(n, 50, 400, 0)), [
    50,
    100,
    200,
    400,
    400,
    400,
  ]);
  assert.deepEqual([1, 2, 3, 4].map((n) => jitteredDelay(n, 50, 400, 0.999999)), [25, 50, 100, 200]);
  assert.equal(jitteredDelay(3, 50, 400, 0.5), 150);
  assert.equal(jitteredDelay(10_000, 50, 30_000, 0), 30_000, "no overflow for a long outage");
  assert.equal(jitteredDelay(1, 50, 400, 7), 25, "random is clamped to [0, 1]");
});

Deno.test("retries wait with a doubling backoff, each told to onError with its delay", async () => {
  await using target = store();
  let tries = 0;
  const retries: { attempt?: number; delay?: number }[] = [];
  const actions: SubscriptionErrorContext["action"][] = [];
  const projector = new Projector<Events>();
  projector.on("tick", () => {
    tries++;
    throw new Error("no");
  });
  await using subscription = target.subscribe("backoff", projector, {
    ...QUICK,
    attempts: 3,
    backoff: 30,
    maxBackoff: 45,
    onError: (_, { action, attempt, delay }) => {
      actions.push(action);
      if (action === "retry") retries.push({ attempt, delay });
    },
  });
  await subscription.waitFor((await tick(target)).position);
  assert.equal(tries, 3);
  assert.deepEqual(actions, ["retry", "retry", "park"]);
  // The waits are the pure backoff (no jitter for a handler's retries), capped at maxBackoff.
  assert.deepEqual(retries, [
    { attempt: 1, delay: backoffDelay(1, 30, 45) },
    { attempt: 2, delay: backoffDelay(2, 30, 45) },
  ]);
  assert.deepEqual(retries.map(({ delay }) => delay), [30, 45]);
});

Deno.test("a checkpoint reset from outside makes the subscription reload it and start over", async () => {
  await using target = store();
  let ticks = 0;
  const reports: SubscriptionErrorContext["action"][] = [];
  const projector = new Projector<Events>();
  projector.on("tick", () => void ticks++);
  await using subscription = target.subscribe("reset-outside", projector, {
    ...QUICK,
    onError: (_, { action }) => void reports.push(action),
  });
  await subscription.waitFor((await tick(target)).position);
  await target.checkpoints.reset("reset-outside");
  await subscription.waitFor((await tick(target)).position);
  assert.deepEqual(reports, ["recover"]);
  // The second tick is handled, its checkpoint save finds the reset, and both are handled again.
  assert.equal(ticks, 4);
});

Deno.test("a store error while reading is reported and recovered from", async () => {
  const memory = new MemoryAdapter();
  let failures = 2;
  const flaky = new Proxy(memory, {
    get(adapter, key) {
      if (key === "readLog") {
        return (...args: Parameters<Adapter["readLog"]>) => {
          if (failures-- > 0) return Promise.reject(new Error("connection reset"));
          return adapter.readLog(...args);
        };
      }
      const value = Reflect.get(adapter, key);
      return typeof value === "function" ? value.bind(adapter) : value;
    },
  }) as Adapter;
  await using target = store(flaky);
  const errors: string[] = [];
  const projector = new Projector<Events>();
  await using subscription = target.subscribe("flaky", projector, {
    ...QUICK,
    onError: (error, { action }) => void errors.push(`${action}: ${(error as Error).message}`),
  });
  await subscription.waitFor((await tick(target)).position);
  assert.deepEqual(errors.slice(0, 2), ["recover: connection reset", "recover: connection reset"]);
  assert.equal((await subscription.info()).error, undefined, "a handled page clears the error");
});

Deno.test("imported events read live are hydrated: an outdated one reaches all only, a newer one on and all", async () => {
  await using target = store();
  const seen: string[] = [];
  const projector = new Projector<Events>();
  projector.once("noted", (record) => void seen.push(`once ${record.created}`));
  projector.on("noted", (record) => void seen.push(`on ${record.created}`));
  projector.all("noted", (record) => void seen.push(`all ${record.created}`));
  await using subscription = target.subscribe("imports", projector, QUICK);
  const newer = "2024-01-02T00:00:00.000Z";
  const older = "2024-01-01T00:00:00.000Z";
  await target.pushEvent(target.event({ type: "noted", stream: "n", created: newer }));
  const { imported } = await target.import([{
    id: crypto.randomUUID(),
    stream: "n",
    type: "noted",
    data: null,
    meta: null,
    revision: 1,
    position: "elsewhere",
    created: older,
    recorded: older,
    outdated: false,
  }]);
  assert.equal(imported[0].outdated, true);
  await subscription.waitFor(imported[0].position);
  assert.deepEqual(seen, [`once ${newer}`, `on ${newer}`, `all ${newer}`, `all ${older}`]);
  const newest = "2024-01-03T00:00:00.000Z";
  const later = await target.import([target.event({ type: "noted", stream: "n", created: newest })]);
  assert.equal(later.imported[0].imported, true);
  await subscription.waitFor(later.imported[0].position);
  assert.deepEqual(
    seen.slice(4),
    [`on ${newest}`, `all ${newest}`],
    "an import read live is hydrated: no once",
  );
});
