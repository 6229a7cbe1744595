/**
 * `onFailure: "park-stream"`: a parked event holds the later events of its stream (they
 * are parked behind it, `attempts: 0`) while other streams flow, until `replayParked()`
 * applies the stream in order or `dropParked()` removes the event and lets the rest go on.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { SubscriptionStoppedError } from "../errors.ts";
import { event } from "../events/event.ts";
import { EventFactory, type EventRecordOf } from "../events/factory.ts";
import { EventStore } from "../stores/event_store.ts";
import { MemoryAdapter, type MemoryTransaction } from "../stores/memory/mod.ts";
import { Projector } from "./projector.ts";
import type { Subscription } from "./subscription.ts";
import type { SubscriptionOptions } from "./subscription_options.ts";

const events = new EventFactory([event.type("item").data(z.object({ n: z.number() }))]);
type Events = typeof events;
type Item = EventRecordOf<Events>;
const QUICK: SubscriptionOptions = {
  pollInterval: 10,
  leaseInterval: 10,
  leaseTtl: 100,
  backoff: 1,
  attempts: 2,
  onFailure: "park-stream",
  onError: () => {},
};

/** `p#1` for event 1 of stream p. */
const key = (record: Item): string => `${record.stream}#${record.data.n}`;

/** A store and a projector that records what it applied, failing for the keys in `broken`. */
function rig() {
  const store = new EventStore({ adapter: new MemoryAdapter(), events });
  const applied: string[] = [];
  const tried: string[] = [];
  const broken = new Set<string>();
  const projector = new Projector<Events>();
  projector.on("item", (record) => {
    tried.push(key(record));
    if (broken.has(key(record))) throw new Error(`cannot apply ${key(record)}`);
    applied.push(key(record));
  });
  const push = async (...items: [stream: string, n: number][]): Promise<Item[]> =>
    await store.pushManyEvents(
      items.map(([stream, n]) => store.event({ type: "item", stream, data: { n } })),
    );
  return { store, projector, applied, tried, broken, push };
}

async function caughtUp(subscription: Subscription<Events>, records: readonly Item[]): Promise<void> {
  await subscription.waitFor(records[records.length - 1].position, { timeout: 5000 });
}

Deno.test("park-stream: a parked event holds its stream until replayParked() applies it and the held ones in order", async (t) => {
  for (const sequential of [false, true]) {
    await t.step(sequential ? "sequential" : "stream by stream", async () => {
      const { store, projector, applied, broken, push } = rig();
      await using _store = store;
      broken.add("p#1");
      await using subscription = store.subscribe("ordered", projector, { ...QUICK, sequential });
      const first = await push(["p", 1], ["p", 2], ["q", 1]);
      await caughtUp(subscription, first);
      // Held across pages: p#3 comes in a later page than the parked p#1.
      const second = await push(["p", 3], ["q", 2]);
      await caughtUp(subscription, second);
      assert.deepEqual(applied, ["q#1", "q#2"], "q flows, nothing of p overtakes p#1");
      const parked = await subscription.parked();
      assert.deepEqual(parked.map((entry) => [entry.id, entry.attempts]), [
        [first[0].id, 2],
        [first[1].id, 0],
        [second[0].id, 0],
      ]);
      assert.match(parked[0].error, /cannot apply p#1/);
      assert.equal(parked[1].error, `held behind parked event ${first[0].id} of stream "p"`);
      assert.equal(parked[2].error, parked[1].error);
      assert.equal((await subscription.info()).parked, 3);
      assert.equal((await store.checkpoints.get("ordered"))?.position, second[1].position);

      broken.clear();
      const result = await subscription.replayParked();
      assert.deepEqual(result, { replayed: [first[0].id, first[1].id, second[0].id], failed: [] });
      assert.deepEqual(applied, ["q#1", "q#2", "p#1", "p#2", "p#3"]);
      assert.deepEqual(await subscription.parked(), []);
      const later = await push(["p", 4]);
      await caughtUp(subscription, later);
      assert.deepEqual(applied.at(-1), "p#4", "the released stream flows live again");
    });
  }
});

Deno.test("park-stream: a held stream stays held after a restart (the new instance loads it)", async () => {
  const { store, projector, applied, broken, push } = rig();
  await using _store = store;
  broken.add("p#1");
  const before = store.subscribe("restart", projector, QUICK);
  const first = await push(["p", 1], ["q", 1]);
  await caughtUp(before, first);
  await before.stop();
  const second = await push(["p", 2], ["q", 2]);
  await using after = store.subscribe("restart", projector, QUICK);
  await caughtUp(after, second);
  assert.deepEqual(applied, ["q#1", "q#2"]);
  assert.deepEqual((await after.parked()).map((entry) => [entry.id, entry.attempts]), [
    [first[0].id, 2],
    [second[0].id, 0],
  ]);
  broken.clear();
  assert.deepEqual((await after.replayParked()).replayed, [first[0].id, second[0].id]);
  assert.deepEqual(applied, ["q#1", "q#2", "p#1", "p#2"]);
});

Deno.test("park-stream: events parked before a crash are not parked again over their rows, nor delivered", async () => {
  const { store, projector, applied, push } = rig();
  await using _store = store;
  const records = await push(["p", 1], ["p", 2], ["q", 1]);
  // As a crash leaves it in at-least-once mode: p#1 parked, the checkpoint not yet past it.
  await store.adapter.parkEvent({
    name: "crashed",
    id: records[0].id,
    position: records[0].position,
    stream: "p",
    type: "item",
    hydrated: true,
    error: "Error: cannot apply p#1",
    attempts: 2,
    parked: new Date().toISOString(),
  });
  await using subscription = store.subscribe("crashed", projector, QUICK);
  await caughtUp(subscription, records);
  assert.deepEqual(applied, ["q#1"]);
  const parked = await subscription.parked();
  assert.deepEqual(parked.map((entry) => [entry.id, entry.attempts, entry.error]), [
    [records[0].id, 2, "Error: cannot apply p#1"],
    [records[1].id, 0, `held behind parked event ${records[0].id} of stream "p"`],
  ]);
  assert.equal(parked[1].hydrated, true, "history stays hydrated when held");
});

Deno.test("park-stream, transactional: held events are parked with the checkpoint, and everything applies once", async () => {
  const { store, projector, broken, push } = rig();
  await using _store = store;
  const committed: string[] = [];
  broken.add("p#1");
  await using subscription = store.subscribe("tx-ordered", projector, { ...QUICK, transactional: true });
  // What a handler applies becomes visible only when its transaction commits.
  projector.on(
    "item",
    (record) => (subscription.tx() as MemoryTransaction).onCommit(() => committed.push(key(record))),
  );
  const first = await push(["p", 1], ["p", 2], ["q", 1], ["p", 3]);
  await caughtUp(subscription, first);
  const second = await push(["p", 4], ["q", 2]);
  await caughtUp(subscription, second);
  assert.deepEqual(committed, ["q#1", "q#2"]);
  assert.deepEqual((await subscription.parked()).map((entry) => entry.attempts), [2, 0, 0, 0]);
  assert.equal((await store.checkpoints.get("tx-ordered"))?.position, second[1].position);
  broken.clear();
  const result = await subscription.replayParked();
  assert.deepEqual(result.replayed, [first[0].id, first[1].id, first[3].id, second[0].id]);
  const later = await push(["p", 5]);
  await caughtUp(subscription, later);
  assert.deepEqual(committed, ["q#1", "q#2", "p#1", "p#2", "p#3", "p#4", "p#5"], "exactly once, in order");
});

Deno.test("park-stream: a replay that fails again keeps the stream's order", async () => {
  const { store, projector, applied, tried, broken, push } = rig();
  await using _store = store;
  broken.add("p#1");
  await using subscription = store.subscribe("again", projector, QUICK);
  const records = await push(["p", 1], ["p", 2], ["p", 3], ["q", 1]);
  await caughtUp(subscription, records);
  const [p1, p2, p3] = records;

  tried.length = 0;
  const still = await subscription.replayParked();
  assert.deepEqual(still.replayed, []);
  assert.deepEqual(still.failed.map((entry) => [entry.id, entry.attempts]), [[p1.id, 3]]);
  assert.deepEqual(tried, ["p#1"], "nothing behind a failing event is tried");

  broken.clear();
  broken.add("p#2");
  const half = await subscription.replayParked();
  assert.deepEqual(half.replayed, [p1.id]);
  assert.deepEqual(half.failed.map((entry) => [entry.id, entry.attempts]), [[p2.id, 1]]);
  assert.match(half.failed[0].error, /cannot apply p#2/);
  assert.deepEqual((await subscription.parked()).map((entry) => entry.id), [p2.id, p3.id]);
  const [p4] = await push(["p", 4]);
  await subscription.waitFor(p4.position);
  assert.deepEqual(
    (await subscription.parked()).map((entry) => entry.id),
    [p2.id, p3.id, p4.id],
    "still held",
  );

  broken.clear();
  // Up to p#3: its stream from its first parked event, never p#3 alone.
  assert.deepEqual((await subscription.replayParked(p3.id)).replayed, [p2.id, p3.id]);
  assert.deepEqual((await subscription.parked()).map((entry) => entry.id), [p4.id]);
  assert.deepEqual((await subscription.replayParked()).replayed, [p4.id]);
  const [p5] = await push(["p", 5]);
  await subscription.waitFor(p5.position);
  assert.deepEqual(applied, ["q#1", "p#1", "p#2", "p#3", "p#4", "p#5"]);
});

Deno.test("park-stream: dropParked() removes the event and replays what it held, in order", async () => {
  const { store, projector, applied, broken, push } = rig();
  await using _store = store;
  broken.add("p#1");
  broken.add("p#3");
  await using subscription = store.subscribe("dropping", projector, QUICK);
  const records = await push(["p", 1], ["p", 2], ["p", 3], ["p", 4], ["q", 1]);
  await caughtUp(subscription, records);
  const [p1, p2, p3, p4] = records;

  const first = await subscription.dropParked(p1.id);
  assert.equal(first.dropped?.id, p1.id);
  assert.equal(first.dropped?.attempts, 2);
  assert.deepEqual(first.replayed, [p2.id]);
  assert.deepEqual(
    first.failed.map((entry) => [entry.id, entry.attempts]),
    [[p3.id, 1]],
    "stops at a new failure",
  );
  assert.deepEqual((await subscription.parked()).map((entry) => entry.id), [p3.id, p4.id]);

  // Dropping an event held behind an earlier parked one only removes it.
  const behind = await subscription.dropParked(p4.id);
  assert.deepEqual({ ...behind, dropped: behind.dropped?.id }, { dropped: p4.id, replayed: [], failed: [] });
  const [p5] = await push(["p", 5]);
  await subscription.waitFor(p5.position);
  assert.deepEqual((await subscription.parked()).map((entry) => entry.id), [p3.id, p5.id]);

  const last = await subscription.dropParked(p3.id);
  assert.deepEqual(last.replayed, [p5.id]);
  assert.deepEqual(await subscription.parked(), []);
  const [p6] = await push(["p", 6]);
  await subscription.waitFor(p6.position);
  assert.deepEqual(applied, ["q#1", "p#2", "p#5", "p#6"]);
});

Deno.test('dropParked() with onFailure "park" only removes the event', async () => {
  const { store, projector, applied, broken, push } = rig();
  await using _store = store;
  broken.add("p#1");
  await using subscription = store.subscribe("plain", projector, { ...QUICK, onFailure: "park" });
  const records = await push(["p", 1], ["p", 2]);
  await caughtUp(subscription, records);
  assert.deepEqual(applied, ["p#2"], "park lets later events of the stream overtake");
  broken.clear();
  const result = await subscription.dropParked(records[0].id);
  assert.deepEqual({ ...result, dropped: result.dropped?.id }, {
    dropped: records[0].id,
    replayed: [],
    failed: [],
  });
  assert.deepEqual(applied, ["p#2"]);
  assert.deepEqual(await subscription.parked(), []);
});

Deno.test("park-stream: bad input gets a TypeError, an id not parked a null drop", async () => {
  const { store, projector } = rig();
  await using _store = store;
  assert.throws(
    () => store.subscribe("bad", projector, { onFailure: "bogus" as "park" }),
    (error: unknown) =>
      error instanceof TypeError && /"park" or "stop" or "park-stream", got "bogus"/.test(error.message),
  );
  const subscription = store.subscribe("bad", projector, QUICK);
  await assert.rejects(() => subscription.dropParked(""), TypeError);
  await assert.rejects(() => subscription.dropParked(42 as unknown as string), TypeError);
  assert.deepEqual(await subscription.dropParked("no-such-event"), {
    dropped: null,
    replayed: [],
    failed: [],
  });
  await subscription.stop();
  await assert.rejects(() => subscription.dropParked("no-such-event"), SubscriptionStoppedError);
});
