/**
 * A subscription's state, and waiting until it reaches one.
 *
 * @module
 */

import type { SubscriptionState } from "./subscription_info.ts";

/** The states in which it holds its lease. */
export const HOLDING: ReadonlySet<SubscriptionState> = new Set(["catching-up", "live", "paused"]);

/** The states in which it reads the log. */
export const READING: ReadonlySet<SubscriptionState> = new Set(["catching-up", "live"]);

/** Where a subscription is, with waiters for a change. */
export class Status {
  #state: SubscriptionState = "stopped";
  readonly #watchers = new Set<() => void>();

  /** The state now. */
  get current(): SubscriptionState {
    return this.#state;
  }

  /** Moves to `state` and tells the waiters. */
  set(state: SubscriptionState): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const watcher of [...this.#watchers]) watcher();
  }

  /** Resolves once `reached()` holds, checked now and after each change of state. */
  until(reached: () => boolean): Promise<void> {
    if (reached()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!reached()) return;
        this.#watchers.delete(check);
        resolve();
      };
      this.#watchers.add(check);
    });
  }
}
