/**
 * The order flow the workflow cases run: an order asks for payment and sets a 5-minute
 * timer; a payment cancels it, asks for shipment and completes; the timer's event fails
 * the order, which appends the refund registered as its compensation.
 *
 * @module
 */

import { z } from "zod";
import { event } from "../../events/event.ts";
import { EventFactory } from "../../events/factory.ts";
import type { Clock } from "../../events/clock.ts";
import { Workflow } from "../../workflows/workflow.ts";

const order = z.object({ orderId: z.string() });

/** The events of the flow. */
export const orderEvents = new EventFactory([
  event.type("order:placed").data(order.extend({ amount: z.number() })),
  event.type("payment:requested").data(order),
  event.type("payment:succeeded").data(order),
  event.type("payment:timed-out").data(order),
  event.type("payment:refund-requested").data(order),
  event.type("shipment:requested").data(order),
  event.type("order:noted").data(z.object({ orderId: z.string().optional() })),
]);

/** Its factory type. */
export type OrderEvents = typeof orderEvents;

/** How long an order waits for its payment. */
export const PAYMENT_TIMEOUT = 5 * 60_000;

/** An order's state. */
export interface OrderState {
  readonly amount: number;
  readonly paid: boolean;
}

/** The input types. */
export type OrderInput = "order:placed" | "payment:succeeded" | "payment:timed-out" | "order:noted";

/**
 * The order workflow.
 *
 * @param name its name (a new name is a new workflow)
 * @param react called first with each input, for cases that make it throw
 */
export function orderWorkflow(
  name = "orders",
  react: (type: string) => void = () => {},
): Workflow<OrderEvents, OrderState, OrderInput> {
  return new Workflow<OrderEvents, OrderState, OrderInput>({
    name,
    types: ["order:placed", "payment:succeeded", "payment:timed-out", "order:noted"],
    key: (record) => record.data.orderId,
    initial: () => ({ amount: 0, paid: false }),
    evolve: (state, record) =>
      record.type === "order:placed"
        ? { ...state, amount: record.data.amount }
        : record.type === "payment:succeeded"
        ? { ...state, paid: true }
        : state,
    react: (_state, record, ctx) => {
      react(record.type);
      const orderId = ctx.key;
      if (record.type === "order:placed") {
        ctx.append({ type: "payment:requested", stream: `payment-${orderId}`, data: { orderId } });
        ctx.schedule({
          id: "payment",
          after: PAYMENT_TIMEOUT,
          event: { type: "payment:timed-out", stream: `order-${orderId}`, data: { orderId } },
        });
        ctx.compensateWith({
          type: "payment:refund-requested",
          stream: `payment-${orderId}`,
          data: { orderId },
        });
      } else if (record.type === "payment:succeeded") {
        ctx.cancel("payment");
        ctx.append({ type: "shipment:requested", stream: `shipment-${orderId}`, data: { orderId } });
        ctx.complete();
      } else if (record.type === "payment:timed-out") {
        ctx.fail("no payment within 5 minutes");
      }
    },
  });
}

/** A clock a case moves by hand, from 2026-01-01. */
export function handClock(): Clock & { advance(ms: number): void } {
  let now = Date.UTC(2026, 0, 1);
  return { now: () => new Date(now).toISOString(), advance: (ms) => void (now += ms) };
}
