/**
 * Subscriptions recover from store failures by themselves: a failing read, checkpoint
 * save, lease call, transaction or watch is reported (`onError` with `"recover"`, state
 * `"retrying"`, `info().lastError`), tried again with a bounded, jittered backoff, and the
 * subscription goes on from its checkpoint: exactly once in transactional mode, at least
 * once otherwise. The faults are injected by a wrapper over the real memory and SQLite
 * adapters (tests/_faulty_adapter.ts); the SQLite lock cases lock a real file from a
 * second connection.
 */
import assert from "node:assert/strict";
import { EventStoreError } from "../errors.ts";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";
import type { Adapter } from "../contract/mod.ts";
import { EventStore } from "../stores/event_store.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { txTable } from "../testing/_conformance_read_model.ts";
import { Faults, faulty, type FaultyCall } from "../tests/_faulty_adapter.ts";
import { Projector } from "./projector.ts";
import type { Subscription } from "./subscription.ts";
import type {
  SubscriptionErrorContext,
  SubscriptionOptions,
  SubscriptionState,
} from "./subscription_options.ts";
import { delay } from "../async.ts";

const events = new EventFactory([event.type("tick")]);
type Events = typeof events;
const QUICK: SubscriptionOptions = {
  pollInterval: 10,
  leaseInterval: 10,
  leaseTtl: 100,
  backoff: 1,
  maxBackoff: 20,
};

interface Report {
  readonly error: unknown;
  readonly context: SubscriptionErrorContext;
}

/** Polls `check` until it holds; fails after `ms`. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!await check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting until ${what}`);
    await delay(2);
  }
}

async function ticks(store: EventStore<Events>, count: number, prefix = "s"): Promise<string> {
  const pushed = await store.pushManyEvents(
    Array.from({ length: count }, (_, i) => store.event({ type: "tick", stream: `${prefix}${i % 4}` })),
  );
  return pushed.at(-1)!.position;
}

/** A setup: the real adapter (for writing), the faulty view of it (for the subscription). */
interface Rig extends AsyncDisposable {
  readonly writer: EventStore<Events>;
  readonly reader: EventStore<Events>;
  readonly faults: Faults;
  readonly reports: Report[];
  readonly states: SubscriptionState[];
  /** Per event id, how often a committed handler applied it. */
  applied(): Promise<Map<string, number>>;
  readonly subscription: Subscription<Events>;
}

async function rig(
  name: string,
  options: SubscriptionOptions & { readonly transactional: boolean },
  adapter: Adapter = new MemoryAdapter(),
): Promise<Rig> {
  const faults = new Faults();
  const writer = new EventStore({ adapter, events });
  const reader = new EventStore({ adapter: faulty(adapter, faults), events });
  const reports: Report[] = [];
  const states: SubscriptionState[] = [];
  const table = await txTable(reader.adapter, `applied_${name.replaceAll("-", "_")}`);
  const seen = new Map<string, number>();
  const projector = new Projector<Events>();
  const subscription: Subscription<Events> = reader.subscribe(name, projector, {
    ...QUICK,
    ...options,
    onError: (error, context) => void reports.push({ error, context }),
  });
  projector.on("tick", async (record) => {
    if (options.transactional) await table.add(subscription.tx(), record.id, 1);
    else seen.set(record.id, (seen.get(record.id) ?? 0) + 1);
  });
  // Every state it passes through, sampled often (the getter never asks the store).
  const sampler = setInterval(() => {
    if (states.at(-1) !== subscription.state) states.push(subscription.state);
  }, 1);
  return {
    writer,
    reader,
    faults,
    reports,
    states,
    subscription,
    applied: async () => options.transactional ? await table.read() : new Map(seen),
    [Symbol.asyncDispose]: async () => {
      clearInterval(sampler);
      faults.heal();
      await subscription.stop();
      await writer.close();
    },
  };
}

async function allOf(store: EventStore<Events>): Promise<string[]> {
  return (await store.getEvents()).map((record) => record.id);
}

/** Every event of the store applied exactly once (`exact`), or at least once. */
async function assertApplied(r: Rig, exact: boolean): Promise<void> {
  const applied = await r.applied();
  const ids = await allOf(r.writer);
  assert.ok(ids.length > 0, "the store has events to check");
  for (const id of ids) {
    const n = applied.get(id) ?? 0;
    if (exact) assert.equal(n, 1, `event ${id} applied ${n} times`);
    else assert.ok(n >= 1, `event ${id} never applied`);
  }
  assert.equal([...applied.keys()].filter((id) => !ids.includes(id)).length, 0, "nothing else applied");
}

for (const transactional of [false, true]) {
  const mode = transactional ? "transactional" : "at-least-once";

  Deno.test(`${mode}: an outage is reported, shown as "retrying" (never "live"), and recovered from`, async () => {
    await using r = await rig(`outage-${mode}`, { transactional });
    await r.subscription.waitFor(await ticks(r.writer, 10), { timeout: 5000 });
    // Handled in its first pass, it says "live" once that pass has read to the end.
    await until(() => r.subscription.state === "live", "it is live");
    r.faults.down();
    const during = await ticks(r.writer, 10);
    await until(() => r.reports.length >= 3, "three failed tries are reported");
    assert.equal(r.subscription.state, "retrying");
    const info = await r.subscription.info();
    assert.equal(info.state, "retrying");
    assert.ok(Number.isNaN(info.lag), "the lag cannot be counted while the store is down");
    assert.match(info.error ?? "", /connection lost \(injected/);
    assert.match(info.lastError?.message ?? "", /connection lost \(injected/);
    assert.equal(info.lastError?.recovered, false);
    assert.ok(Date.now() - Date.parse(info.lastError!.time) < 10_000);
    for (const [i, { context }] of r.reports.entries()) {
      assert.equal(context.action, "recover");
      assert.equal(context.attempt, i + 1, "the tries of one outage are counted");
      assert.equal(context.record, undefined);
      const full = Math.min(20, 2 ** i * 50);
      assert.ok(
        context.delay! >= full / 2 && context.delay! <= full,
        `delay ${context.delay} of try ${i + 1}`,
      );
    }
    r.faults.heal();
    await r.subscription.waitFor(during, { timeout: 5000 });
    await until(() => r.subscription.state === "live", "it is live again");
    const after = await r.subscription.info();
    assert.equal(after.state, "live");
    assert.equal(after.error, undefined);
    assert.equal(after.lag, 0);
    assert.equal(after.lastError?.recovered, true, "lastError is kept after the recovery");
    await assertApplied(r, transactional);
    // "live" only before the outage and after it: never between its first report and the heal.
    const firstRetry = r.states.indexOf("retrying");
    assert.ok(firstRetry > 0, `states: ${r.states.join(" > ")}`);
    assert.deepEqual(r.states.slice(0, firstRetry).filter((s) => s !== "starting" && s !== "catching-up"), [
      "live",
    ]);

    // A second outage counts its tries from 1 again.
    const before = r.reports.length;
    r.faults.fail("readLog", 2);
    await r.subscription.waitFor(await ticks(r.writer, 3), { timeout: 5000 });
    assert.deepEqual(r.reports.slice(before).map(({ context }) => context.attempt), [1, 2]);
    await assertApplied(r, transactional);
  });

  const calls: FaultyCall[] = [
    "readLog",
    "getCheckpoint",
    "putCheckpoint",
    "acquireLease",
    "renew",
    "release",
    "transaction",
    "putCheckpoint",
    "afterCommit",
    "stats",
  ];
  Deno.test(`${mode}: each failing store call is recovered from, every event applied ${transactional ? "exactly" : "at least"} once`, async (t) => {
    for (const call of calls) {
      await t.step(call, async () => {
        await using r = await rig(`calls-${call}-${mode}`, { transactional, start: false });
        await ticks(r.writer, 20);
        r.faults.fail(call, 3);
        // A release happens when the lease is given up: make the renewals lose it.
        if (call === "release") r.faults.fail("renew", 3);
        r.subscription.start();
        const first = await ticks(r.writer, 5, "t");
        await r.subscription.waitFor(first, { timeout: 5000 });
        // Renewals and releases happen between pages: give them the time to be tried.
        await until(
          () => (r.faults.failed.get(call) ?? 0) === 3 || !["renew", "release"].includes(call),
          call,
        );
        const last = await ticks(r.writer, 5, "u");
        await r.subscription.waitFor(last, { timeout: 5000 });
        const failed = r.faults.failed.get(call) ?? 0;
        // A transactional subscription saves its checkpoint in its transactions, the other one by compare-and-set.
        const expected = transactional
          ? call !== "putCheckpoint"
          : !["transaction", "putCheckpoint", "afterCommit"].includes(call);
        if (expected) assert.ok(failed >= 1, `${call} failed ${failed} times`);
        await assertApplied(r, transactional);
        if (call === "renew") {
          assert.ok((r.faults.calls.get("acquireLease") ?? 0) >= 2, "the lease was taken again");
        }
        const reported = r.reports.filter(({ context }) => context.action === "recover").length;
        // A failed release is not worth a report (the lease ends with the session or its ttl).
        if (expected && call !== "release") assert.ok(reported >= 1, `${call}: ${reported} reports`);
        assert.equal(r.reports.filter(({ context }) => context.action !== "recover").length, 0);
        assert.equal((await r.subscription.parked()).length, 0, "a store failure never parks an event");
      });
    }
  });

  Deno.test(`${mode}: a handler that fails because the store is down is not parked`, async () => {
    await using r = await rig(`handler-down-${mode}`, { transactional, attempts: 1, onFailure: "park" });
    let throwing = 0;
    const projector = new Projector<Events>();
    await using subscription = r.reader.subscribe(`handler-down-${mode}-2`, projector, {
      ...QUICK,
      transactional,
      attempts: 1,
      onError: (error, context) => {
        r.reports.push({ error, context });
        // The store comes back once the outage has been seen, however late that is.
        if (context.action === "recover") r.faults.heal();
      },
    });
    projector.on("tick", () => {
      if (throwing-- > 0) {
        // The store goes away under the handler: its own write fails, and so does the probe.
        r.faults.down();
        throw new Error("write failed: connection reset");
      }
    });
    throwing = 1;
    await subscription.waitFor(await ticks(r.writer, 3), { timeout: 5000 });
    assert.equal((await subscription.parked()).length, 0);
    assert.ok(r.reports.some(({ context }) => context.action === "recover"));
  });

  Deno.test(`${mode}: a handler's ConnectionLostError is a store failure, retried without parking`, async () => {
    class ConnectionLostError extends EventStoreError {}
    await using r = await rig(`handler-lost-${mode}`, { transactional });
    let throwing = 4;
    const projector = new Projector<Events>();
    const reports: SubscriptionErrorContext["action"][] = [];
    await using subscription = r.reader.subscribe(`handler-lost-${mode}-2`, projector, {
      ...QUICK,
      transactional,
      attempts: 1,
      onError: (_, { action }) => void reports.push(action),
    });
    projector.on("tick", () => {
      if (throwing-- > 0) throw new Error("handler wrote", { cause: new ConnectionLostError("gone") });
    });
    await subscription.waitFor(await ticks(r.writer, 2), { timeout: 5000 });
    // Two streams fail together in a page, so the four throws make two or more outages.
    assert.ok(throwing <= 0, "every throw was retried");
    assert.ok(reports.length >= 2 && reports.every((action) => action === "recover"), reports.join());
    assert.equal((await subscription.parked()).length, 0);
  });
}

Deno.test("a read that never answers is given up after readTimeout, reported, and tried again", async () => {
  await using r = await rig("read-hangs", { transactional: true, readTimeout: 50, start: false });
  const last = await ticks(r.writer, 10);
  r.faults.hang("readLog", 1);
  r.subscription.start();
  await r.subscription.waitFor(last, { timeout: 5000 });
  assert.equal(r.reports.length, 1);
  assert.match(String((r.reports[0].error as Error).message), /Timed out after 50 ms reading the log/);
  assert.equal(r.reports[0].context.action, "recover");
  await assertApplied(r, true);
});

Deno.test("a lease renewal that never answers loses the lease, which is taken again", async () => {
  await using r = await rig("renew-hangs", { transactional: true });
  await r.subscription.waitFor(await ticks(r.writer, 3), { timeout: 5000 });
  const taken = r.faults.calls.get("acquireLease") ?? 0;
  r.faults.hang("renew", 1);
  // leaseTtl 100 - leaseInterval 10: a renewal pending for 90 ms may have outlived the lease.
  await until(() => r.reports.length > 0, "the lost lease is reported");
  assert.match(
    String((r.reports[0].error as Error).message),
    /could not renew its lease: Timed out after 90 ms/,
  );
  await until(() => (r.faults.calls.get("acquireLease") ?? 0) > taken, "the lease is taken again");
  await r.subscription.waitFor(await ticks(r.writer, 3), { timeout: 5000 });
  await assertApplied(r, true);
});

Deno.test("stop() during an outage ends the backoff at once and releases nothing it does not hold", async () => {
  await using r = await rig("stop-down", { transactional: false, backoff: 10_000, maxBackoff: 60_000 });
  await r.subscription.waitFor(await ticks(r.writer, 1), { timeout: 5000 });
  r.faults.down();
  await until(() => r.subscription.state === "retrying", "it is retrying");
  const started = performance.now();
  await r.subscription.stop();
  assert.ok(performance.now() - started < 1000, "stop() did not wait out the backoff");
  assert.equal(r.subscription.state, "stopped");
  await assert.rejects(r.subscription.waitFor("9999999999999999"), /was stopped/);
});

Deno.test("a handler failure with the store up keeps its retry and park semantics", async () => {
  await using r = await rig("handler-up", { transactional: true });
  const projector = new Projector<Events>();
  const actions: SubscriptionErrorContext["action"][] = [];
  await using subscription = r.reader.subscribe("handler-up-2", projector, {
    ...QUICK,
    transactional: true,
    attempts: 2,
    onError: (_, { action }) => void actions.push(action),
  });
  projector.on("tick", () => {
    throw new Error("bad projector");
  });
  await subscription.waitFor(await ticks(r.writer, 1), { timeout: 5000 });
  assert.deepEqual(actions, ["retry", "park"]);
  assert.equal((await subscription.parked()).length, 1);
});

Deno.test("info() says retrying, not live, when the store does not answer it, and wakes the loop", async () => {
  await using r = await rig("info-down", { transactional: false, pollInterval: 60_000 });
  // Pushed through the subscription's own store, which wakes it (no polling for a minute).
  await r.subscription.waitFor(await ticks(r.reader, 1), { timeout: 5000 });
  await until(() => r.subscription.state === "live", "it is live");
  assert.equal(r.subscription.state, "live");
  r.faults.down();
  const info = await r.subscription.info();
  assert.equal(info.state, "retrying");
  assert.equal(info.lastError?.recovered, false);
  // Woken by info(), the loop reads at once (not after its minute of polling) and fails.
  await until(() => r.reports.length > 0, "the loop reports the outage itself");
  r.faults.heal();
  await until(() => r.subscription.state === "live", "it is live again");
});

Deno.test("a watch that cannot be set up is reported, and polling delivers anyway", async () => {
  const directory = await Deno.makeTempDir({ prefix: "eventfold_watch_fault_" });
  const { SqliteAdapter } = await import("../stores/sqlite/mod.ts");
  try {
    await using r = await rig(
      "watch-fault",
      { transactional: true },
      new SqliteAdapter(`${directory}/events.db`),
    );
    await r.subscription.stop();
    r.faults.fail("watch", 1);
    r.subscription.start();
    await r.subscription.waitFor(await ticks(r.writer, 3), { timeout: 5000 });
    assert.equal(r.faults.failed.get("watch"), 1);
    assert.match(String((r.reports[0]?.error as Error)?.message), /in watch/);
    await assertApplied(r, true);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

// --- a real SQLite file, locked by a second connection -----------------------------------

/** A SQLite file in a fresh directory, and a second connection that can lock it. */
async function lockedFile(): Promise<
  { adapter: Adapter; lock(): void; unlock(): void } & AsyncDisposable
> {
  const directory = await Deno.makeTempDir({ prefix: "eventfold_sqlite_lock_" });
  const path = `${directory}/events.db`;
  const { SqliteAdapter } = await import("../stores/sqlite/mod.ts");
  const { DatabaseSync } = await import("node:sqlite");
  // A writer waits 100 ms for the lock, then fails: the lock below outlasts that.
  const adapter = new SqliteAdapter(path, { busyTimeout: 100 });
  await adapter.stats(); // creates the file and its tables
  const other = new DatabaseSync(path);
  let locked = false;
  return {
    adapter,
    lock: () => {
      other.exec("BEGIN EXCLUSIVE");
      locked = true;
    },
    unlock: () => {
      if (locked) other.exec("COMMIT");
      locked = false;
    },
    [Symbol.asyncDispose]: async () => {
      if (locked) other.exec("ROLLBACK");
      other.close();
      await Deno.remove(directory, { recursive: true });
    },
  };
}

for (const transactional of [true, false]) {
  const mode = transactional ? "transactional" : "at-least-once";

  Deno.test(`SQLite, ${mode}: a file locked past the busy timeout at start is reported, then caught up`, async () => {
    await using file = await lockedFile();
    await using r = await rig(`locked-start-${mode}`, { transactional, start: false }, file.adapter);
    const last = await ticks(r.writer, 30);
    file.lock();
    r.subscription.start();
    await until(() => r.reports.length >= 2, "two failed tries are reported");
    assert.match(String((r.reports[0].error as Error).message), /locked|busy/i);
    const info = await r.subscription.info();
    assert.equal(info.state, "retrying");
    assert.equal(info.lag, 30, "WAL readers still count while the writer is locked out");
    assert.match(info.lastError?.message ?? "", /locked|busy/i);
    file.unlock();
    await r.subscription.waitFor(last, { timeout: 10_000 });
    await assertApplied(r, transactional);
    assert.equal((await r.subscription.parked()).length, 0);
  });

  Deno.test(`SQLite, ${mode}: a lock while live makes it lose and take again its lease, nothing lost`, async () => {
    await using file = await lockedFile();
    await using r = await rig(`locked-live-${mode}`, { transactional }, file.adapter);
    await r.subscription.waitFor(await ticks(r.writer, 10), { timeout: 5000 });
    await until(() => r.subscription.state === "live", "it is live");
    file.lock();
    // The lease renewal (a write) fails after the busy timeout.
    await until(() => r.reports.length >= 1, "the outage is reported");
    assert.ok(r.reports.every(({ context }) => context.action === "recover"));
    assert.notEqual(r.subscription.state, "live");
    file.unlock();
    const last = await ticks(r.writer, 10);
    await r.subscription.waitFor(last, { timeout: 10_000 });
    await until(() => r.subscription.state === "live", "it is live again");
    await assertApplied(r, transactional);
    assert.equal((await r.subscription.info()).lastError?.recovered, true);
  });

  Deno.test(`SQLite, ${mode}: an unreadable log (reads fail) is recovered from`, async () => {
    await using file = await lockedFile();
    await using r = await rig(`unreadable-${mode}`, { transactional, start: false }, file.adapter);
    const last = await ticks(r.writer, 25);
    r.faults.fail(["readLog", "countAfter"], 4);
    r.subscription.start();
    await r.subscription.waitFor(last, { timeout: 10_000 });
    assert.equal(r.faults.failed.get("readLog"), 4);
    await assertApplied(r, transactional);
  });
}
