/**
 * Telling a subscription's `onError` listener (or, without one, the console) about a
 * handler failure or a store error, and the last store error kept for `info()`.
 *
 * @module
 */

import type { SubscriptionErrorContext } from "./subscription_options.ts";

/** The last store error, as kept for `info().lastError`. */
export interface StoreErrorSeen {
  /** What failed. */
  readonly error: unknown;
  /** When (ISO 8601). */
  readonly time: string;
  /** How many store calls in a row had failed. */
  readonly attempt: number;
}

/**
 * Tells `onError`; without it, writes everything but retries to the console. What the
 * listener throws is logged, never thrown.
 *
 * @param name the subscription name
 * @param onError the listener, if any
 * @param error what failed
 * @param context what happens next, and on which event
 */
export function report(
  name: string,
  onError: ((error: unknown, context: SubscriptionErrorContext) => void) | undefined,
  error: unknown,
  context: Omit<SubscriptionErrorContext, "subscription">,
): void {
  if (onError === undefined) {
    if (context.action === "retry") return;
    const where = context.record === undefined
      ? ""
      : ` on event ${context.record.id} (${context.record.type})`;
    console.error(`eventfold: subscription "${name}"${where}, next: ${context.action}:`, error);
    return;
  }
  try {
    onError(error, { subscription: name, ...context });
  } catch (inner) {
    console.error(`eventfold: the onError listener of subscription "${name}" failed:`, inner);
  }
}
