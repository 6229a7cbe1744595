/**
 * Waiting in a subscription: a wake-up signal for the follow loop, sleeps that end early
 * when the subscription stops, and the backoff between retries.
 *
 * @module
 */

/**
 * A wake-up for one waiter: `notify()` ends the current `wait()`, or makes the next one
 * return at once, so a notification that arrives while the loop reads is never lost.
 */
export class Signal {
  #pending = false;
  #wake: (() => void) | undefined;

  /** Wakes the waiter (now, or at its next wait). */
  notify(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** Forgets notifications so far (the loop is about to look for itself). */
  clear(): void {
    this.#pending = false;
  }

  /** Resolves on the next notification, or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#pending = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts; leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The delay before retry number `retry` (1 for the first): `base` doubling, at most `max`. */
export function backoffDelay(retry: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.min(retry - 1, 30));
}
