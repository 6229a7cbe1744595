/**
 * Callers of `waitFor`: each waits until the subscription has handled (or parked) a
 * position and every one before it, or until a predicate (over the read model) holds
 * after a batch was handled, or until its timeout.
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

interface Watcher {
  readonly holds: () => boolean | Promise<boolean>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout> | undefined;
  /** A check under way: the next one waits for it, so they never overlap. */
  checking?: Promise<void>;
}

/** The timer that ends a wait with a `TimeoutError` (none for an infinite timeout). */
function expiry(
  timeout: number,
  describe: () => string,
  reject: (error: unknown) => void,
  forget: () => void,
): ReturnType<typeof setTimeout> | undefined {
  if (!Number.isFinite(timeout)) return undefined;
  return setTimeout(() => {
    forget();
    reject(new TimeoutError(describe(), timeout));
  }, timeout);
}

/** What `waitFor` was given, checked. */
export interface WaitArguments {
  /** The timeout in ms. */
  readonly timeout: number;
  /** For a predicate: whether it is asked at once (`alreadySatisfied`, default true). */
  readonly now: boolean;
}

/**
 * Checks the arguments of a subscription's `waitFor`.
 *
 * @throws {TypeError} for a target that is neither a non-empty position nor a function, or a bad `alreadySatisfied`
 * @throws {RangeError} for a timeout that is not a number of ms >= 0
 */
export function waitArguments(
  target: unknown,
  options: { readonly timeout?: number; readonly alreadySatisfied?: boolean },
): WaitArguments {
  if (typeof target !== "function" && (typeof target !== "string" || target.length === 0)) {
    throw new TypeError(`waitFor needs a position string or a predicate, got ${JSON.stringify(target)}`);
  }
  const timeout = options.timeout ?? 5000;
  if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(`timeout must be a number of ms >= 0, got ${timeout}`);
  }
  if (options.alreadySatisfied !== undefined && typeof options.alreadySatisfied !== "boolean") {
    throw new TypeError("alreadySatisfied must be true or false");
  }
  return { timeout, now: options.alreadySatisfied !== false };
}

/** The pending `waitFor` calls of one subscription. */
export class Waiters {
  readonly #waiting = new Set<Waiter>();
  readonly #watching = new Set<Watcher>();

  /** How many wait. */
  get size(): number {
    return this.#waiting.size + this.#watching.size;
  }

  /**
   * Waits until `holds()` is true after a batch was handled ({@linkcode Waiters.advance}).
   *
   * @param holds the predicate; its error rejects the wait
   * @param timeout ms before rejecting with `TimeoutError` (`Infinity`: never)
   * @param describe what is waited for, for the timeout message
   * @param now check it at once too (else only after the next batch)
   */
  watch(
    holds: () => boolean | Promise<boolean>,
    timeout: number,
    describe: () => string,
    now: boolean,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = expiry(timeout, describe, reject, () => this.#watching.delete(watcher));
      const watcher: Watcher = { holds, resolve, reject, timer };
      this.#watching.add(watcher);
      // Registered first: a batch handled while this first check runs is checked after it.
      if (now) this.#check(watcher);
    });
  }

  #check(watcher: Watcher): void {
    const run = async () => {
      if (!this.#watching.has(watcher)) return;
      let held: boolean;
      try {
        held = await watcher.holds();
      } catch (error) {
        this.#settle(watcher);
        return watcher.reject(error);
      }
      if (held && this.#watching.has(watcher)) {
        this.#settle(watcher);
        watcher.resolve();
      }
    };
    watcher.checking = (watcher.checking ?? Promise.resolve()).then(run);
  }

  #settle(watcher: Watcher): void {
    clearTimeout(watcher.timer);
    this.#watching.delete(watcher);
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
      const timer = expiry(timeout, describe, reject, () => this.#waiting.delete(waiter));
      const waiter: Waiter = { position, resolve, reject, timer };
      this.#waiting.add(waiter);
    });
  }

  /**
   * Resolves every waiter whose position is at or before `position`; when a batch changed
   * the read model (`changed`), checks every predicate.
   */
  advance(position: string | null, changed = true): void {
    if (changed) { for (const watcher of this.#watching) this.#check(watcher); }
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
    for (const waiter of [...this.#waiting, ...this.#watching]) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiting.clear();
    this.#watching.clear();
  }
}
