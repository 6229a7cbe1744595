/**
 * What the subscription cases share: quick intervals and waiting until a subscription or
 * the store gets somewhere.
 *
 * @module
 */

import type { Subscription } from "../../projectors/subscription.ts";
import type { SubscriptionOptions, SubscriptionState } from "../../projectors/subscription_options.ts";
import { type Events, fail, type TestStore, turn } from "../_fixture.ts";

/** Short intervals, so cases do not wait for the production defaults. */
export const QUICK: SubscriptionOptions = { pollInterval: 50, leaseInterval: 50, leaseTtl: 500, backoff: 1 };

/** Polls `check` until it holds, failing after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!await check()) {
    if (Date.now() > deadline) fail(`timed out after ${ms} ms waiting until ${what}`);
    await turn(5);
  }
}

/** Waits until the subscription reports `state`. */
export async function reaches(subscription: Subscription<Events>, state: SubscriptionState): Promise<void> {
  await until(async () => (await subscription.info()).state === state, `"${subscription.name}" is ${state}`);
}

/** The position of the newest event. */
export async function head(store: TestStore): Promise<string> {
  const [last] = await store.getEvents({ direction: "backward", limit: 1 });
  return last?.position ?? fail("the store is empty");
}
