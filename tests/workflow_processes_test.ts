/**
 * Workflows across real processes, with a hand clock the test moves (a file each worker
 * reads): two workers running the order workflow on one SQLite file, and on one PostgreSQL
 * schema, produce each output once and fire each timer once; a slow worker killed with
 * SIGKILL in the middle of its inputs, and its successor killed in the middle of the
 * timeouts, leave a third worker to finish with nothing lost or doubled.
 */
import assert from "node:assert/strict";
import type { EventRecord } from "../events/record.ts";
import { WORKFLOW_TYPES } from "../events/system.ts";
import { EventStore } from "../stores/event_store.ts";
import { handClock, orderEvents, orderWorkflow, PAYMENT_TIMEOUT } from "../testing/store/_orders.ts";
import type { StateData } from "../workflows/_records.ts";
import type { WorkflowStatus } from "../workflows/workflow.ts";
import { Child } from "./_child.ts";
import { dropSchema, freshSchema, pgAvailable } from "./_postgres_env.ts";
import { adapterFor, setClock } from "./_workflow_worker.ts";
import { delay } from "../async.ts";

type Store = EventStore<typeof orderEvents>;

/** How long any worker may run before it is killed and the test fails. */
const DEADLINE = 60_000;
const ORDERS = 20;
/** Orders `o0` … `o7` are paid; the rest time out. */
const PAID = 8;

interface Place extends AsyncDisposable {
  readonly target: string;
  readonly clockFile: string;
  readonly store: Store;
  /** Moves the workers' clock (and the test's) on by `ms`. */
  advance(ms: number): Promise<void>;
}

async function place(kind: "sqlite" | "postgres"): Promise<Place> {
  const directory = await Deno.makeTempDir({ prefix: "eventfold_workflows_" });
  const schema = freshSchema();
  const target = kind === "sqlite" ? `sqlite:${directory}/events.db` : `postgres:${schema}`;
  const clock = handClock();
  const clockFile = `${directory}/clock`;
  await setClock(clockFile, clock.now());
  const store = new EventStore({ adapter: adapterFor(target), events: orderEvents, clock });
  await store.stats(); // the schema is made here, before workers race to make it
  return {
    target,
    clockFile,
    store,
    advance: async (ms) => {
      clock.advance(ms);
      await setClock(clockFile, clock.now());
    },
    [Symbol.asyncDispose]: async () => {
      await store.close();
      await Deno.remove(directory, { recursive: true });
      if (kind === "postgres") await dropSchema(schema);
    },
  };
}

function worker(at: Place, ...flags: string[]): Child {
  return new Child("_workflow_worker.ts", [at.target, at.clockFile, String(ORDERS), ...flags]);
}

/** Waits for a worker to exit on its own; kills it and fails when it is still running at `deadline`. */
async function finished(child: Child, deadline: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), Math.max(0, deadline - Date.now()));
  });
  try {
    const status = await Promise.race([child.status(), late]);
    if (status === "late") {
      child.process.kill("SIGKILL");
      await child.status();
      assert.fail(
        `a worker was still running at the deadline; stdout: ${
          child.lines.slice(-5).join(" / ")
        }; stderr: ${child.stderr}`,
      );
    }
    assert.equal(status.code, 0, `a worker failed: ${child.stderr}`);
    assert.ok(child.lines.some((line) => line.startsWith("done ")), "it finished the job");
  } finally {
    clearTimeout(timer);
  }
}

async function placeOrders(store: Store): Promise<void> {
  for (let i = 0; i < ORDERS; i++) {
    await store.pushEvent(store.event({
      type: "order:placed",
      stream: `order-o${i}`,
      data: { orderId: `o${i}`, amount: 10 + i },
    }));
  }
  for (let i = 0; i < PAID; i++) {
    await store.pushEvent(
      store.event({ type: "payment:succeeded", stream: `payment-o${i}`, data: { orderId: `o${i}` } }),
    );
  }
}

/** Each instance's last state record, read from the log (the test runs no workflow itself). */
async function states(store: Store): Promise<Map<string, StateData>> {
  const out = new Map<string, StateData>();
  for await (const started of store.readStream("$workflow:orders")) {
    const key = (started.data as { key: string }).key;
    for await (
      const last of store.readStream(`$workflow:orders:${key}`, { direction: "backward", limit: 1 })
    ) {
      out.set(key, last.data as StateData);
    }
  }
  return out;
}

/** Polls until every order was handled: the paid ones completed, the others waiting for payment. */
async function allHandled(store: Store, deadline: number): Promise<void> {
  for (;;) {
    const now = await states(store);
    const ready = now.size === ORDERS && [...now.values()].every((data) => {
      const paid = Number(data.key.slice(1)) < PAID;
      return paid
        ? data.status === "completed"
        : data.status === "running" && Object.keys(data.timers).length === 1;
    });
    if (ready) return;
    if (Date.now() > deadline) {
      assert.fail(
        `not every order was handled in time: ${
          JSON.stringify([...now.values()].map((d) => [d.key, d.status]))
        }`,
      );
    }
    await delay(20);
  }
}

function count(log: readonly EventRecord[], type: string): number {
  return log.filter((record) => record.type === type).length;
}

/** Every output once, every timer fired once, and nothing written twice. */
async function checkOutputs(store: Store): Promise<EventRecord[]> {
  const log = await store.getEvents();
  const unpaid = ORDERS - PAID;
  assert.deepEqual(
    {
      "order:placed": count(log, "order:placed"),
      "payment:requested": count(log, "payment:requested"),
      "payment:succeeded": count(log, "payment:succeeded"),
      "shipment:requested": count(log, "shipment:requested"),
      "payment:timed-out": count(log, "payment:timed-out"),
      "payment:refund-requested": count(log, "payment:refund-requested"),
      [WORKFLOW_TYPES.timerFired]: count(log, WORKFLOW_TYPES.timerFired),
      [WORKFLOW_TYPES.started]: count(log, WORKFLOW_TYPES.started),
    },
    {
      "order:placed": ORDERS,
      "payment:requested": ORDERS,
      "payment:succeeded": PAID,
      "shipment:requested": PAID,
      "payment:timed-out": unpaid,
      "payment:refund-requested": unpaid,
      [WORKFLOW_TYPES.timerFired]: unpaid,
      [WORKFLOW_TYPES.started]: ORDERS,
    },
  );
  // Per order: the right outputs in the right streams, once each.
  const outputs = (orderId: string) =>
    log.filter((record) =>
      !record.type.startsWith("$") && (record.data as { orderId?: string }).orderId === orderId
    )
      .map((record) => `${record.type} ${record.stream}`).sort();
  for (let i = 0; i < ORDERS; i++) {
    const id = `o${i}`;
    assert.deepEqual(
      outputs(id),
      i < PAID
        ? [
          `order:placed order-${id}`,
          `payment:requested payment-${id}`,
          `payment:succeeded payment-${id}`,
          `shipment:requested shipment-${id}`,
        ]
        : [
          `order:placed order-${id}`,
          `payment:refund-requested payment-${id}`,
          `payment:requested payment-${id}`,
          `payment:timed-out order-${id}`,
        ],
      `outputs of ${id}`,
    );
  }
  assert.equal(new Set(log.map((record) => record.id)).size, log.length, "no id stored twice");
  return log;
}

/** Each instance's status, from a run in this process once the workers are gone: it writes nothing. */
async function checkInstances(store: Store, log: readonly EventRecord[]): Promise<void> {
  await using run = store.runWorkflow(orderWorkflow("orders"), { pollInterval: 20, timerInterval: 10 });
  await run.subscription.waitFor(log.at(-1)!.position, { timeout: 20_000 });
  assert.equal(await run.fireTimers(), 0, "no timer is left");
  const instances = await run.instances();
  const expected = (i: number): [string, WorkflowStatus, number, unknown] =>
    i < PAID
      ? [`o${i}`, "completed", 2, undefined]
      : [`o${i}`, "compensated", 2, "no payment within 5 minutes"];
  assert.deepEqual(
    instances.map((instance) => [instance.key, instance.status, instance.inputs, instance.reason]).sort(),
    Array.from({ length: ORDERS }, (_, i) => expected(i)).sort(),
  );
  assert.ok(instances.every((instance) => instance.timers.length === 0), "no timer pending");
  assert.deepEqual(
    instances.map((instance) => instance.state).sort((a, b) =>
      (a as { amount: number }).amount - (b as { amount: number }).amount
    ),
    Array.from({ length: ORDERS }, (_, i) => ({ amount: 10 + i, paid: i < PAID })),
  );
  await run.stop();
  assert.deepEqual(
    (await store.getEvents()).map((record) => record.id),
    log.map((record) => record.id),
    "handling the inputs again wrote nothing",
  );
}

const pg = await pgAvailable();

for (const kind of ["sqlite", "postgres"] as const) {
  Deno.test({
    name:
      `${kind}: two worker processes run the order workflow to the end; each output appears once and each timer fires once`,
    ignore: kind === "postgres" && !pg,
    async fn(t) {
      const started = Date.now();
      const deadline = started + DEADLINE;
      await using at = await place(kind);
      const { store } = at;
      await using a = worker(at, "--owner", "a");
      await using b = worker(at, "--owner", "b");
      await Promise.all([a.line((line) => line === "ready"), b.line((line) => line === "ready")]);
      await placeOrders(store);
      await allHandled(store, deadline);
      // Every 5-minute timer is due at once, in both workers' timer loops.
      await at.advance(PAYMENT_TIMEOUT);
      await Promise.all([finished(a, deadline), finished(b, deadline)]);
      const log = await checkOutputs(store);
      const reacted = (child: Child) => child.lines.filter((line) => line.startsWith("react ")).length;
      const fired = (child: Child) => {
        const done = child.lines.find((line) => line.startsWith("done "))!;
        return (JSON.parse(done.slice("done ".length)) as { fired: number }).fired;
      };
      // Each run counts only the timers it fired itself: between them, each timer once.
      assert.equal(fired(a) + fired(b), ORDERS - PAID, "between them, they fired every timer once");
      const took = Date.now() - started;
      await t.step(
        `measured: a reacted ${reacted(a)} times and fired ${fired(a)} timers, ` +
          `b reacted ${reacted(b)} times and fired ${fired(b)}; ${took} ms`,
        () => {},
      );
      await checkInstances(store, log);
    },
  });
}

Deno.test("sqlite: slow workers killed with SIGKILL in the middle of a run, then a fresh one, lose and double nothing", async (t) => {
  const started = Date.now();
  const deadline = started + DEADLINE;
  await using at = await place("sqlite");
  const { store } = at;
  /** Waits until the log holds `n` events of `type`, and kills `child` at once. */
  const killAt = async (child: Child, type: string, n: number) => {
    while (count(await store.getEvents(), type) < n) {
      if (Date.now() > deadline) assert.fail(`no ${n} ${type} in time; stderr: ${child.stderr}`);
      await delay(2);
    }
    child.process.kill("SIGKILL");
    assert.equal((await child.status()).signal, "SIGKILL");
  };

  // The first is killed among the first inputs: the placed orders, handled concurrently.
  const firstKill = 2 + Math.floor(Math.random() * 12);
  {
    await using first = worker(at, "--slow", "600", "--owner", "first");
    await first.line((line) => line === "ready");
    await placeOrders(store);
    await killAt(first, "payment:requested", firstKill);
  }
  const requested = count(await store.getEvents(), "payment:requested");
  assert.ok(requested < ORDERS, `killed in the middle: ${requested} payments requested`);

  // The second takes over the inputs, then is killed among the timeouts.
  const secondKill = 1 + Math.floor(Math.random() * 8);
  {
    await using second = worker(at, "--slow", "600", "--owner", "second");
    await allHandled(store, deadline);
    await at.advance(PAYMENT_TIMEOUT);
    await killAt(second, "payment:refund-requested", secondKill);
  }
  const timedOut = count(await store.getEvents(), "payment:timed-out");
  const refunded = count(await store.getEvents(), "payment:refund-requested");
  assert.ok(refunded < ORDERS - PAID, `killed among the timeouts: ${refunded} refunds`);

  // A fresh worker finishes the job.
  {
    await using third = worker(at, "--owner", "third");
    await finished(third, deadline);
  }
  const log = await checkOutputs(store);
  await t.step(
    `measured: first killed with ${requested} payments requested, second with ${refunded} refunds ` +
      `(${timedOut} timeouts appended); ${Date.now() - started} ms`,
    () => {},
  );
  await checkInstances(store, log);
});
