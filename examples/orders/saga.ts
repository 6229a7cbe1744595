/**
 * The order saga as a `Workflow`: one instance per order. It requests the payment and
 * gives it five minutes (a durable timer); a processed payment cancels the timer and
 * requests the shipment; a sent shipment completes the order. A failed or late payment
 * fails the order, and its registered compensations run newest first: the refund of
 * what was asked, then the cancellation.
 *
 * @module
 */

import { Workflow } from "../../mod.ts";
import type { Events } from "./events.ts";

/** How long an order waits for its payment. */
export const PAYMENT_TIMEOUT_MS = 5 * 60_000;

/** What an order's saga knows. */
export interface OrderSaga {
  readonly customer: string;
  readonly amount: number;
  readonly paid: boolean;
  readonly shipped: boolean;
}

/** The inputs of the saga. */
export type SagaInput =
  | "order:placed"
  | "payment:processed"
  | "payment:failed"
  | "payment:timed-out"
  | "shipment:sent";

/** The saga. */
export const orderSaga: Workflow<Events, OrderSaga, SagaInput> = new Workflow<Events, OrderSaga, SagaInput>({
  name: "order-saga",
  types: ["order:placed", "payment:processed", "payment:failed", "payment:timed-out", "shipment:sent"],
  key: (record) => record.data.orderId,
  initial: () => ({ customer: "", amount: 0, paid: false, shipped: false }),
  evolve: (saga, record) => {
    switch (record.type) {
      case "order:placed":
        return { ...saga, customer: record.data.customer, amount: record.data.amount };
      case "payment:processed":
        return { ...saga, paid: true };
      case "shipment:sent":
        return { ...saga, shipped: true };
      default:
        return saga;
    }
  },
  react: (saga, record, ctx) => {
    const orderId = ctx.key;
    switch (record.type) {
      case "order:placed":
        ctx.compensateWith({
          type: "order:cancelled",
          stream: `order-${orderId}`,
          data: { orderId, reason: "payment not received" },
        });
        ctx.append({
          type: "payment:requested",
          stream: `payment-${orderId}`,
          data: { orderId, amount: saga.amount },
        });
        ctx.compensateWith({
          type: "payment:refund-requested",
          stream: `payment-${orderId}`,
          data: { orderId, amount: saga.amount },
        });
        ctx.schedule({
          id: "payment-timeout",
          after: PAYMENT_TIMEOUT_MS,
          event: { type: "payment:timed-out", stream: `order-${orderId}`, data: { orderId } },
        });
        return;
      case "payment:processed":
        ctx.cancel("payment-timeout");
        ctx.append({ type: "shipment:requested", stream: `shipment-${orderId}`, data: { orderId } });
        return;
      case "shipment:sent":
        return ctx.complete();
      case "payment:failed":
        return ctx.fail(`payment failed: ${record.data.reason}`);
      case "payment:timed-out":
        return ctx.fail("no payment within five minutes");
    }
  },
});
