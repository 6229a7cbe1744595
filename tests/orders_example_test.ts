/**
 * The order saga example: the demo runs for real on a SQLite file (twice, the second run
 * on top of the first), and the saga itself on a memory store with a hand clock.
 */
import assert from "node:assert/strict";
import { EventStore } from "../mod.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { events } from "../examples/orders/events.ts";
import { orderSaga, PAYMENT_TIMEOUT_MS } from "../examples/orders/saga.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("the order demo plays its three orders on a SQLite file, run after run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventfold-orders-" });
  try {
    const path = `${dir}/orders.db`;
    for (let run = 1; run <= 2; run++) {
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "examples/orders/main.ts", path],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(stdout);
      assert.equal(code, 0, `${out}\n${new TextDecoder().decode(stderr)}`);
      assert.match(out, /^order 1: completed after 3 inputs$/m);
      assert.match(out, /^order 2: compensated \(payment failed: card declined\) after 2 inputs$/m);
      assert.match(out, /^order 3: compensated \(no payment within five minutes\) after 2 inputs$/m);
      assert.match(
        out,
        /order:placed .*\n\s+payment:requested .*\n\s+payment:timed-out .*\n\s+payment:refund-requested .*\n\s+order:cancelled /,
      );
    }
    await using store = new EventStore({ adapter: new SqliteAdapter(path), events });
    const log = await store.getEvents();
    const of = (type: string) => log.filter((record) => record.type === type).length;
    assert.deepEqual([of("order:placed"), of("shipment:requested"), of("order:cancelled")], [6, 2, 4]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the order saga: compensations run newest first, and a late payment after the timeout changes nothing", async () => {
  let now = Date.UTC(2026, 5, 1);
  const clock = { now: () => new Date(now).toISOString() };
  await using store = new EventStore({ adapter: new MemoryAdapter(), events, clock });
  await using run = store.runWorkflow(orderSaga, { clock, pollInterval: 10, timerInterval: 10 });
  await store.pushEvent(store.event({
    type: "order:placed",
    stream: "order-9",
    data: { orderId: "9", customer: "Ada", amount: 5 },
  }));
  await run.subscription.waitFor(async () => (await run.instance("9"))?.timers.length === 1);
  now += PAYMENT_TIMEOUT_MS;
  await run.subscription.waitFor(async () => (await run.instance("9"))?.status === "compensated");
  const late = await store.pushEvent(
    store.event({ type: "payment:processed", stream: "payment-9", data: { orderId: "9" } }),
  );
  await run.subscription.waitFor(late.position);
  const types = (await store.getEvents()).filter((record) => !record.type.startsWith("$")).map((r) => r.type);
  assert.deepEqual(types, [
    "order:placed",
    "payment:requested",
    "payment:timed-out",
    "payment:refund-requested",
    "order:cancelled",
    "payment:processed",
  ]);
  assert.equal((await run.instance("9"))?.inputs, 2, "the late payment reached a finished saga");
});
