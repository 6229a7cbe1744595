/**
 * Conformance cases about workflows: the order flow end to end with a hand clock,
 * durable timers (cancelled ones never fire, past ones fire at once, each fires once
 * across stores and processes), exactly-once effects when inputs are handled again,
 * correlation and causation, failing reactions, and `waitFor` with a predicate.
 *
 * @module
 */

import assert from "node:assert/strict";
import { causationOf, correlationOf } from "../../events/correlation.ts";
import type { EventRecord } from "../../events/record.ts";
import { WORKFLOW_TYPES } from "../../events/system.ts";
import { EventStore } from "../../stores/event_store.ts";
import { SubscriptionStoppedError } from "../../errors.ts";
import type { Adapter } from "../../contract/mod.ts";
import type { Clock } from "../../events/clock.ts";
import type { WorkflowRunOptions } from "../../workflows/workflow_run.ts";
import { makeReducer } from "../../reducers/make_reducer.ts";
import { Projector } from "../../projectors/projector.ts";
import { Workflow } from "../../workflows/workflow.ts";
import { type Case, rejects } from "../_fixture.ts";
import { QUICK, until } from "./_subscription_helpers.ts";
import { handClock, orderEvents, orderWorkflow, PAYMENT_TIMEOUT } from "./_orders.ts";

const FAST: WorkflowRunOptions = { ...QUICK, timerInterval: 10 };

function storeOver(adapter: Adapter, clock?: Clock): EventStore<typeof orderEvents> {
  return new EventStore({ adapter, events: orderEvents, clock });
}

async function place(store: EventStore<typeof orderEvents>, orderId: string): Promise<EventRecord> {
  return await store.pushEvent(
    store.event({ type: "order:placed", stream: `order-${orderId}`, data: { orderId, amount: 10 } }),
  );
}

async function pay(store: EventStore<typeof orderEvents>, orderId: string): Promise<EventRecord> {
  return await store.pushEvent(
    store.event({ type: "payment:succeeded", stream: `payment-${orderId}`, data: { orderId } }),
  );
}

/** The user events of the log (not the workflow's own records), as `type stream`. */
async function effects(store: EventStore<typeof orderEvents>): Promise<string[]> {
  return (await store.getEvents()).filter((record) => !record.type.startsWith("$")).map((record) =>
    `${record.type} ${record.stream}`
  );
}

/** Cases about workflows and timers. */
export const workflowCases: readonly Case[] = [
  {
    name:
      "the order flow end to end with a hand clock: paid orders ship and complete, unpaid ones time out and are compensated",
    async run(ctx) {
      const clock = handClock();
      await using store = storeOver(await ctx.adapter(), clock);
      await using run = store.runWorkflow(orderWorkflow(), FAST);
      const placed = await place(store, "o1");
      await place(store, "o2");
      await until(
        async () => (await run.instance("o2"))?.timers.length === 1,
        "both orders wait for payment",
      );
      assert.deepEqual(await run.instance("o1"), {
        key: "o1",
        status: "running",
        state: { amount: 10, paid: false },
        timers: [{ id: "payment", at: new Date(Date.parse(placed.created) + PAYMENT_TIMEOUT).toISOString() }],
        inputs: 1,
      });
      const paid = await pay(store, "o1");
      await run.subscription.waitFor(paid.position);
      assert.equal((await run.instance("o1"))?.status, "completed");
      clock.advance(PAYMENT_TIMEOUT - 1);
      assert.equal(await run.fireTimers(), 0, "not due yet");
      clock.advance(1);
      await run.subscription.waitFor(async () => (await run.instance("o2"))?.status === "compensated", {
        timeout: 20_000,
      });
      const o2 = await run.instance("o2");
      assert.deepEqual([o2?.reason, o2?.timers, o2?.inputs], ["no payment within 5 minutes", [], 2]);
      assert.deepEqual((await effects(store)).sort(), [
        "order:placed order-o1",
        "order:placed order-o2",
        "payment:refund-requested payment-o2",
        "payment:requested payment-o1",
        "payment:requested payment-o2",
        "payment:succeeded payment-o1",
        "payment:timed-out order-o2",
        "shipment:requested shipment-o1",
      ]);
      // Correlation: the whole flow of o2 carries the id of the order that started it.
      const log = await store.getEvents();
      const o2placed = log.find((record) => record.type === "order:placed" && record.stream === "order-o2")!;
      const flow = log.filter((record) => correlationOf(record.meta) === o2placed.id).map((record) =>
        record.type
      );
      assert.deepEqual(flow, ["payment:requested", "payment:timed-out", "payment:refund-requested"]);
      const timedOut = log.find((record) => record.type === "payment:timed-out")!;
      const refund = log.find((record) => record.type === "payment:refund-requested")!;
      assert.equal(causationOf(timedOut.meta), o2placed.id, "the timer's setter");
      assert.equal(causationOf(refund.meta), timedOut.id);
      assert.deepEqual((await run.instances({ status: "completed" })).map((instance) => instance.key), [
        "o1",
      ]);
      assert.equal((await run.instances()).length, 2);
      const info = await run.info();
      assert.deepEqual(info.timers, { pending: 0, due: 0, fired: 1 });
      assert.equal(info.subscription.parked, 0);
    },
  },
  {
    name: "a timer cancelled before it fires never fires; a timer set in the past fires at once",
    async run(ctx) {
      const clock = handClock();
      await using store = storeOver(await ctx.adapter(), clock);
      await using run = store.runWorkflow(orderWorkflow(), FAST);
      await place(store, "paid");
      const paid = await pay(store, "paid");
      await run.subscription.waitFor(paid.position);
      clock.advance(10 * PAYMENT_TIMEOUT);
      assert.equal(await run.fireTimers(), 0);
      await new Promise((resolve) => setTimeout(resolve, 50)); // a few rounds of the timer loop
      assert.equal((await store.getEvents()).filter((r) => r.type === "payment:timed-out").length, 0);

      // Placed with a `created` two hours ago: the timer was due before it was set.
      const past = new EventStore({ adapter: store.adapter, events: orderEvents });
      const now = Date.parse(clock.now());
      await past.pushEvent(past.event({
        type: "order:placed",
        stream: "order-late",
        data: { orderId: "late", amount: 1 },
        created: new Date(now - 2 * 3_600_000).toISOString(),
      }));
      const lateFlow = orderWorkflow("late-orders");
      await using late = store.runWorkflow(lateFlow, {
        ...FAST,
        clock: { now: () => new Date(now - 2 * 3_600_000).toISOString() },
      });
      await until(async () => (await late.instance("late"))?.timers.length === 1, "the late order waits");
      await late.stop();
      // Another run, at the real time: the timer is past due and fires at once.
      await using later = store.runWorkflow(lateFlow, { ...FAST, clock });
      await later.subscription.waitFor(async () => (await later.instance("late"))?.status === "compensated", {
        timeout: 20_000,
      });
    },
  },
  {
    name: "inputs handled again (checkpoint reset, two runs at once) produce nothing twice",
    async run(ctx) {
      const clock = handClock();
      const adapter = await ctx.adapter();
      await using store = storeOver(adapter, clock);
      await using second = storeOver(adapter, clock);
      const flow = orderWorkflow();
      const runs = [store.runWorkflow(flow, FAST), second.runWorkflow(flow, FAST)];
      for (let i = 0; i < 5; i++) await place(store, `o${i}`);
      await pay(store, "o0");
      await pay(second, "o1");
      await until(async () => (await runs[0].instances({ status: "completed" })).length === 2, "two paid");
      await until(async () => (await runs[0].instances()).length === 5, "five orders");
      clock.advance(PAYMENT_TIMEOUT);
      await until(
        async () => (await runs[1].instances({ status: "compensated" })).length === 3,
        "three compensated",
      );
      for (const run of runs) await run.stop();
      const before = await store.getEvents();
      const counts = (records: EventRecord[]) => {
        const by = new Map<string, number>();
        for (const record of records) by.set(record.type, (by.get(record.type) ?? 0) + 1);
        return [...by].sort();
      };
      assert.deepEqual(counts(before.filter((record) => !record.type.startsWith("$"))), [
        ["order:placed", 5],
        ["payment:refund-requested", 3],
        ["payment:requested", 5],
        ["payment:succeeded", 2],
        ["payment:timed-out", 3],
        ["shipment:requested", 2],
      ]);
      // Everything handled again from the start of the log: nothing new is written.
      await store.checkpoints.delete("$workflow:orders");
      await using again = store.runWorkflow(flow, FAST);
      await again.subscription.waitFor(before.at(-1)!.position, { timeout: 20_000 });
      assert.equal(await again.fireTimers(), 0);
      assert.deepEqual(
        (await store.getEvents()).map((record) => record.id),
        before.map((record) => record.id),
      );
    },
  },
  {
    name:
      "a reaction that throws is retried, then parked, and its instance keeps its state; inputs of no instance are ignored",
    async run(ctx) {
      await using store = storeOver(await ctx.adapter(), handClock());
      let failures = 0;
      const flow = orderWorkflow("fragile", (type) => {
        if (type === "payment:succeeded") {
          failures++;
          throw new Error("payment service down");
        }
      });
      await using run = store.runWorkflow(flow, { ...FAST, attempts: 3, onError: () => {} });
      await place(store, "f1");
      await store.pushEvent(store.event({ type: "order:noted", stream: "notes", data: {} })); // key undefined
      const paid = await pay(store, "f1");
      await run.subscription.waitFor(paid.position, { timeout: 20_000 });
      assert.equal(failures, 3);
      assert.equal((await run.info()).subscription.parked, 1);
      const f1 = await run.instance("f1");
      assert.deepEqual([f1?.status, f1?.state, f1?.inputs], ["running", { amount: 10, paid: false }, 1]);
      assert.deepEqual((await effects(store)).sort(), [
        "order:noted notes",
        "order:placed order-f1",
        "payment:requested payment-f1",
        "payment:succeeded payment-f1",
      ]);
      assert.equal((await run.instances()).length, 1, "the note started no instance");
    },
  },
  {
    name:
      "a workflow under a new name is a new workflow: it reads the log from its start into instances of its own",
    async run(ctx) {
      await using store = storeOver(await ctx.adapter(), handClock());
      {
        await using first = store.runWorkflow(orderWorkflow("orders-v1"), FAST);
        const placed = await place(store, "n1");
        await first.subscription.waitFor(placed.position);
      }
      await using renamed = store.runWorkflow(orderWorkflow("orders-v2"), FAST);
      await until(
        async () => (await renamed.instance("n1")) !== undefined,
        "the new workflow took the order",
      );
      assert.equal((await store.getEvents()).filter((r) => r.type === "payment:requested").length, 2);
      const streams = new Set((await store.getEvents()).map((record) => record.stream));
      assert.ok(streams.has("$workflow:orders-v1:n1") && streams.has("$workflow:orders-v2:n1"));
    },
  },
  {
    name: "each timer fires once and each output appears once with a run in each of two connections",
    needs: "reopen",
    async run(ctx) {
      const clock = handClock();
      const adapter = await ctx.adapter();
      const other = await ctx.reopen!(adapter);
      try {
        await using a = storeOver(adapter, clock);
        await using b = storeOver(other, clock);
        const flow = orderWorkflow();
        await using runA = a.runWorkflow(flow, FAST);
        await using runB = b.runWorkflow(flow, FAST);
        for (let i = 0; i < 6; i++) await place(i % 2 === 0 ? a : b, `x${i}`);
        await until(async () => (await runA.info()).timers.pending === 6, "six timers set");
        clock.advance(PAYMENT_TIMEOUT);
        // Both loops fire, and both are asked to fire at once too.
        await Promise.all([runA.fireTimers(), runB.fireTimers(), runA.fireTimers(), runB.fireTimers()]);
        await until(
          async () => (await runB.instances({ status: "compensated" })).length === 6,
          "all compensated",
        );
        const fired = (await runA.info()).timers.fired + (await runB.info()).timers.fired;
        assert.equal(fired, 6, "each run counts only what it fired itself");
        const log = await a.getEvents();
        const of = (type: string) => log.filter((record) => record.type === type).length;
        assert.deepEqual(
          [
            of("payment:requested"),
            of("payment:timed-out"),
            of(WORKFLOW_TYPES.timerFired),
            of("payment:refund-requested"),
          ],
          [6, 6, 6, 6],
        );
      } finally {
        await other.close();
      }
    },
  },
  {
    name:
      "causedBy gives appends and commands $correlation and $causation; waitFor takes a predicate; bad input is a typed error",
    async run(ctx) {
      await using store = storeOver(await ctx.adapter());
      const placed = await place(store, "c1");
      const [requested] = await store.pushManyEvents(
        [store.event({ type: "payment:requested", stream: "payment-c1", data: { orderId: "c1" } })],
        { causedBy: placed },
      );
      assert.deepEqual(requested.meta, { $correlation: placed.id, $causation: placed.id });
      const counted = makeReducer<typeof orderEvents, number>((n) => n + 1, 0);
      const result = await store.handle("payment-c1", counted, () => [
        { type: "payment:succeeded", data: { orderId: "c1" } },
      ], { causedBy: requested });
      assert.ok(result.ok);
      assert.deepEqual(result.records[0].meta, { $correlation: placed.id, $causation: requested.id });
      await rejects(() => store.pushManyEvents([], { causedBy: { id: "" } }), TypeError);
      await rejects(() => store.pushManyEvents([], { causedBy: "x" as never }), TypeError);

      let seen = 0;
      const projector = new Projector<typeof orderEvents>();
      projector.all("order:placed", () => void seen++);
      const subscription = store.subscribe("counting", projector, QUICK);
      await subscription.waitFor(() => seen === 1, { timeout: 20_000 });
      // alreadySatisfied: false waits for a batch handled after the call, though it holds now.
      const later = subscription.waitFor(() => seen >= 1, { timeout: 20_000, alreadySatisfied: false });
      await place(store, "c2");
      await later;
      assert.equal(seen, 2);
      const pending = subscription.waitFor(() => seen === 99, { timeout: 20_000 });
      await subscription.stop();
      await rejects(() => pending, SubscriptionStoppedError);
      await rejects(() => subscription.waitFor(42 as never), TypeError);
      await rejects(() => subscription.waitFor(() => true, { alreadySatisfied: "yes" as never }), TypeError);
      const base = orderWorkflow().spec;
      for (
        const bad of [{ name: "" }, { name: "a:b" }, { types: [] }, { key: "orderId" }, { react: undefined }]
      ) {
        assert.throws(() => new Workflow({ ...base, ...bad } as never), TypeError);
      }
      assert.throws(() => store.runWorkflow({} as never), TypeError);
      assert.throws(() => store.runWorkflow(orderWorkflow(), { timerInterval: 0 }), RangeError);
    },
  },
  {
    name:
      "timers are set and cancelled in the order react asks; an append whose expectedRevision does not hold parks the input and changes nothing",
    async run(ctx) {
      const clock = handClock();
      await using store = storeOver(await ctx.adapter(), clock);
      const flow = new Workflow<typeof orderEvents, number, "order:placed" | "payment:succeeded">({
        name: "ordering",
        types: ["order:placed", "payment:succeeded"],
        key: (record) => record.data.orderId,
        initial: () => 0,
        evolve: (n) => n + 1,
        react: (_n, record, ctx) => {
          const timeout = {
            type: "payment:timed-out" as const,
            stream: `order-${ctx.key}`,
            data: { orderId: ctx.key },
          };
          if (record.type === "order:placed") {
            ctx.schedule({ id: "a", after: 1000, event: timeout });
            ctx.cancel("a"); // then set again: it stays set
            ctx.schedule({ id: "a", after: 2000, event: timeout });
            ctx.schedule({ id: "b", after: 1000, event: timeout });
            ctx.cancel("b"); // cancelled last: not set
          } else {
            // The payment stream holds this very event: revision 0 cannot hold.
            ctx.append({
              type: "shipment:requested",
              stream: `payment-${ctx.key}`,
              data: { orderId: ctx.key },
            }, {
              expectedRevision: 0,
            });
          }
        },
      });
      await using run = store.runWorkflow(flow, { ...FAST, attempts: 2, onError: () => {} });
      const placed = await place(store, "t1");
      await run.subscription.waitFor(placed.position);
      const t1 = await run.instance("t1");
      assert.deepEqual(t1?.timers, [{
        id: "a",
        at: new Date(Date.parse(placed.created) + 2000).toISOString(),
      }]);
      const paid = await pay(store, "t1");
      await run.subscription.waitFor(paid.position, { timeout: 20_000 });
      assert.equal((await run.info()).subscription.parked, 1);
      assert.deepEqual(await run.instance("t1"), t1, "the parked input changed nothing");
      assert.equal(
        (await store.getEvents()).filter((record) => record.type === "shipment:requested").length,
        0,
      );
    },
  },
];
