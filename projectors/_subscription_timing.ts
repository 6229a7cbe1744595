/**
 * Waiting in a subscription: a wake-up signal for the follow loop, sleeps that end early
 * when the subscription stops, and the backoff between retries.
 *
 * @module
 */

import { TimeoutError } from "../errors.ts";

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

/**
 * The delay before recovery number `retry` from a store error: the doubling backoff,
 * less up to half of it at random, so that many subscriptions (in many processes) that
 * lost the same server do not all come back at the same instant.
 *
 * @param random a number in [0, 1) (injected by tests)
 */
export function recoveryDelay(retry: number, base: number, max: number, random: number): number {
  const full = backoffDelay(retry, base, max);
  return Math.round(full - (full / 2) * Math.min(Math.max(random, 0), 1));
}

/** What {@linkcode bounded} resolves with when `ms` pass first. */
export const OVERDUE: unique symbol = Symbol("overdue");

/**
 * Waits for `work` at most `ms`: a store call that never settles (a connection that died
 * without a word) must not hold a subscription for ever. A late rejection is dropped.
 *
 * @returns what `work` resolved with, or {@linkcode OVERDUE}
 */
export function bounded<T>(work: Promise<T>, ms: number): Promise<T | typeof OVERDUE> {
  work.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const overdue = new Promise<typeof OVERDUE>((resolve) => timer = setTimeout(() => resolve(OVERDUE), ms));
  return Promise.race([work, overdue]).finally(() => clearTimeout(timer));
}

/**
 * The items of `source`, each awaited at most `ms`: when one is overdue the iteration is
 * abandoned (not awaited: it may never settle) and a `TimeoutError` is thrown, so a read
 * on a connection that died without a word becomes an outage instead of a silent freeze.
 *
 * @param what what was waited for, for the message
 * @throws {TimeoutError} when an item takes longer than `ms`
 */
export async function* within<T>(source: AsyncIterable<T>, ms: number, what: string): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let settled = false;
  try {
    for (;;) {
      const next = await bounded(iterator.next(), ms);
      if (next === OVERDUE) {
        settled = true;
        iterator.return?.()?.catch(() => {});
        throw new TimeoutError(what, ms);
      }
      if (next.done) {
        settled = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // The consumer stopped early (or a read failed): close the source as a for-await would.
    if (!settled) await iterator.return?.();
  }
}
