import assert from "node:assert/strict";
import { z } from "zod";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import { EventStore } from "../stores/event_store.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { Projector } from "../projectors/projector.ts";
import { Workflow } from "./workflow.ts";
import { delay } from "../async.ts";

const loose = z.object({ key: z.string(), n: z.number() });
const factory = (late: z.ZodType) =>
  new EventFactory([
    event.type("in").data(loose),
    event.type("late").data(late),
    event.type("out").data(z.object({ key: z.string(), n: z.number().min(0) })),
  ]);
const events = factory(loose);
type Events = typeof events;

function hand() {
  let now = Date.UTC(2026, 0, 1);
  return { clock: { now: () => new Date(now).toISOString() }, advance: (ms: number) => void (now += ms) };
}

/** A workflow whose `react` is the test's. */
function flow(react: Workflow<Events, number[], "in">["spec"]["react"], name = "w") {
  return new Workflow<Events, number[], "in">({
    name,
    types: ["in"],
    key: (record) => record.data.key,
    initial: () => [],
    evolve: (seen, record) => [...seen, record.data.n],
    react,
  });
}

function input(store: EventStore<Events>, stream: string, key: string, n: number) {
  return store.pushEvent(store.event({ type: "in", stream, data: { key, n } }));
}

Deno.test("an instance gets its inputs in log order, whatever streams they come on", async () => {
  await using store = new EventStore({ adapter: new MemoryAdapter(), events });
  await input(store, "x", "slow", 1);
  await input(store, "x", "k", 2);
  const last = await input(store, "y", "k", 3);
  await using run = store.runWorkflow(
    flow(async (_seen, record) => {
      if (record.data.key === "slow") await delay(30);
    }),
    { pollInterval: 5 },
  );
  await run.subscription.waitFor(last.position);
  assert.deepEqual((await run.instance("k"))?.state, [2, 3]);
});

Deno.test("timers: far-future ones are refused, fired ones of other types leave the instance, a failing one holds up no other", async () => {
  const { clock, advance } = hand();
  const adapter = new MemoryAdapter();
  await using store = new EventStore({ adapter, events, clock });
  await using run = store.runWorkflow(
    flow((_seen, record, ctx) => {
      if (record.data.n === 1) {
        ctx.schedule({ id: "far", after: 1e15, event: { type: "late", data: { key: "a", n: 1 } } });
      }
      if (record.data.n === 2) {
        ctx.schedule({
          id: "bad",
          after: 10,
          event: { type: "late", stream: "late", data: { key: "b", n: 1 } },
        });
        ctx.schedule({
          id: "good",
          after: 20,
          event: { type: "late", stream: "late", data: { key: "b", n: 200 } },
        });
      }
    }),
    { pollInterval: 5, timerInterval: 5, attempts: 1, onError: () => {} },
  );
  const far = await input(store, "a", "a", 1);
  await run.subscription.waitFor(far.position);
  assert.equal((await run.info()).subscription.parked, 1, "a timer past year 9999 is a RangeError");
  const set = await input(store, "b", "b", 2);
  await run.subscription.waitFor(set.position);
  await run.stop();

  // The same log read by code whose "late" events must have n >= 100: one timer cannot fire.
  advance(1000);
  const strict = factory(z.object({ key: z.string(), n: z.number().min(100) }));
  await using later = new EventStore({ adapter, events: strict, clock });
  await using again = later.runWorkflow(flow(() => {}) as never, {
    pollInterval: 5,
    timerInterval: 1_000_000,
  });
  await assert.rejects(again.fireTimers(), /Too small|100/);
  const lates = (await later.getEvents()).filter((record) => record.type === "late");
  assert.deepEqual(lates.map((record) => (record.data as { n: number }).n), [200], "the good one fired");
  // Its type is no input: the instance drops it on its next input all the same.
  const next = await later.pushEvent(later.event({ type: "in", stream: "b", data: { key: "b", n: 3 } }));
  await again.subscription.waitFor(next.position);
  assert.deepEqual((await again.instance("b"))?.timers.map((timer) => timer.id), ["bad"]);
});

Deno.test("compensations are checked when registered, and closing the store stops its runs", async () => {
  const { clock } = hand();
  const store = new EventStore({ adapter: new MemoryAdapter(), events, clock });
  const errors: unknown[] = [];
  const run = store.runWorkflow(
    flow((_seen, _record, ctx) => ctx.compensateWith({ type: "out", data: { key: "c", n: -1 } })),
    { pollInterval: 5, timerInterval: 5, attempts: 1, onError: (error) => void errors.push(error) },
  );
  const first = await input(store, "c", "c", 1);
  await run.subscription.waitFor(first.position);
  assert.equal((await run.info()).subscription.parked, 1);
  assert.equal(await run.instance("c"), undefined, "the parked input started nothing");
  errors.length = 0;
  await store.close();
  await delay(60);
  assert.deepEqual(errors, [], "no timer loop left running after close");
  await run.stop(); // idempotent
});

Deno.test("waitFor: a predicate that turns true while it is first checked is checked again", async () => {
  await using store = new EventStore({ adapter: new MemoryAdapter(), events });
  let seen = 0;
  const projector = new Projector<Events>();
  projector.all("in", () => void seen++);
  await using subscription = store.subscribe("seen", projector, { pollInterval: 5 });
  const pushed = input(store, "s", "s", 1);
  await subscription.waitFor(async () => {
    const now = seen === 1;
    await delay(50);
    return now;
  }, { timeout: 2000 });
  await pushed;
});
