/**
 * The order saga's events (after eventador's `OrderSaga`): an order asks for payment,
 * a processed payment asks for shipment, a sent shipment completes the order; a failed
 * payment or no payment within five minutes fails it, which refunds and cancels it.
 *
 * @module
 */

import { event, EventFactory } from "../../mod.ts";
import { z } from "zod";

const order = z.object({ orderId: z.string() });

/** Every event of the example. */
export const events = new EventFactory([
  event.type("order:placed").data(order.extend({ customer: z.string(), amount: z.number().positive() })),
  event.type("payment:requested").data(order.extend({ amount: z.number() })),
  event.type("payment:processed").data(order),
  event.type("payment:failed").data(order.extend({ reason: z.string() })),
  event.type("payment:timed-out").data(order),
  event.type("payment:refund-requested").data(order.extend({ amount: z.number() })),
  event.type("shipment:requested").data(order),
  event.type("shipment:sent").data(order),
  event.type("order:cancelled").data(order.extend({ reason: z.string() })),
]);

/** The factory's type. */
export type Events = typeof events;
