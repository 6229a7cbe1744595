/**
 * Callers of `waitFor`: each waits until the subscription has handled (or parked) a
 * position and every one before it, or until its timeout.
 *
 * @module
 */

import { TimeoutError } from "../errors.ts";

interface Waiter {
  readonly position: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout> | undefined;
}

/** The pending `waitFor` calls of one subscription. */
export class Waiters {
  readonly #waiting = new Set<Waiter>();

  /** Whether anyone waits. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Waits until {@linkcode Waiters.advance} passes `position`.
   *
   * @param position the position to wait for
   * @param timeout ms before rejecting with `TimeoutError` (`Infinity`: never)
   * @param describe what is waited for, for the timeout message
   */
  add(position: string, timeout: number, describe: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = Number.isFinite(timeout)
        ? setTimeout(() => {
          this.#waiting.delete(waiter);
          reject(new TimeoutError(describe(), timeout));
        }, timeout)
        : undefined;
      const waiter: Waiter = { position, resolve, reject, timer };
      this.#waiting.add(waiter);
    });
  }

  /** Resolves every waiter whose position is at or before `position`. */
  advance(position: string | null): void {
    if (position === null) return;
    for (const waiter of this.#waiting) {
      if (waiter.position <= position) {
        clearTimeout(waiter.timer);
        this.#waiting.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** Rejects every waiter with `error`. */
  fail(error: unknown): void {
    for (const waiter of this.#waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiting.clear();
  }
}
