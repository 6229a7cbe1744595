/**
 * The order saga demo: `deno run -A examples/orders/main.ts [path-to-db]`.
 *
 * Runs the saga on a SQLite file and plays three orders: one paid and shipped, one whose
 * payment fails, one never paid. The saga's clock is the real time plus an offset the
 * demo moves by five minutes, so the payment timeout fires at once. Prints each order's
 * outcome and the whole flow of the unpaid one (`meta.$correlation`).
 *
 * @module
 */

import { correlationOf, EventStore, type WorkflowInstance } from "../../mod.ts";
import { SqliteAdapter } from "../../stores/sqlite/mod.ts";
import { events } from "./events.ts";
import { orderSaga, PAYMENT_TIMEOUT_MS } from "./saga.ts";

const path = Deno.args[0] ?? "./eventfold-orders.db";
await using store = new EventStore({ adapter: new SqliteAdapter(path), events });
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset).toISOString() };
await using run = store.runWorkflow(orderSaga, { clock, pollInterval: 20, timerInterval: 20 });

const batch = crypto.randomUUID().slice(0, 8); // new orders on every run of the demo
const id = (n: number) => `${batch}-${n}`;
const placed = [];
for (const [n, customer, amount] of [[1, "Ada", 42], [2, "Grace", 7], [3, "Alan", 19]] as const) {
  placed.push(
    await store.pushEvent(store.event({
      type: "order:placed",
      stream: `order-${id(n)}`,
      data: { orderId: id(n), customer, amount },
    })),
  );
}
const settled = (key: string, status: WorkflowInstance["status"]) => async () =>
  (await run.instance(key))?.status === status;
await run.subscription.waitFor(async () => (await run.instance(id(3)))?.timers.length === 1, {
  timeout: 10_000,
});

// Order 1 is paid and shipped; order 2's payment fails; order 3 is never paid.
const processed = await store.pushEvent(
  store.event({ type: "payment:processed", stream: `payment-${id(1)}`, data: { orderId: id(1) } }),
);
await run.subscription.waitFor(processed.position, { timeout: 10_000 }); // shipment requested
await store.pushEvent(
  store.event({ type: "shipment:sent", stream: `shipment-${id(1)}`, data: { orderId: id(1) } }),
);
await store.pushEvent(store.event({
  type: "payment:failed",
  stream: `payment-${id(2)}`,
  data: { orderId: id(2), reason: "card declined" },
}));
offset += PAYMENT_TIMEOUT_MS; // five minutes later
await run.subscription.waitFor(settled(id(1), "completed"), { timeout: 10_000 });
await run.subscription.waitFor(settled(id(2), "compensated"), { timeout: 10_000 });
await run.subscription.waitFor(settled(id(3), "compensated"), { timeout: 10_000 });

for (const n of [1, 2, 3]) {
  const instance = (await run.instance(id(n)))!;
  const why = instance.reason === undefined ? "" : ` (${instance.reason})`;
  console.log(`order ${n}: ${instance.status}${why} after ${instance.inputs} inputs`);
}
console.log("the flow of order 3:");
for await (const record of store.readAll()) {
  if (record.id === placed[2].id || correlationOf(record.meta) === placed[2].id) {
    console.log(`  ${record.type.padEnd(26)} ${record.stream}`);
  }
}
