/**
 * The async helpers every part uses: an abortable delay, a wake-up signal, backoff with
 * jitter, bounded waits, and an async context that works where `AsyncLocalStorage`
 * exists without importing a `node:` module (so the core runs in a browser too).
 *
 * Private to the package: stores, projectors, aggregates, the CLI, tests and benchmarks
 * import it; users do not.
 *
 * @module
 */

import { TimeoutError } from "./errors.ts";

/**
 * Resolves after `ms` milliseconds, or at once when `signal` aborts (it never rejects).
 *
 * @param ms how long to wait
 * @param signal stops the wait early
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * A wake-up flag: `notify()` wakes the current or the next `wait()`, which otherwise
 * resolves after its time. Notifications do not queue up: many before a wait wake it once.
 */
export class Signal {
  #pending = false;
  #wake: (() => void) | undefined;

  /** Wakes the waiter (or the next one). */
  notify(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** Forgets a notification that no wait has taken yet. */
  clear(): void {
    this.#pending = false;
  }

  /**
   * Resolves on the next notification or after `ms`, whichever comes first.
   *
   * @param ms the longest wait
   */
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

/**
 * The delay before retry `retry` (1 for the first): `base` doubling each time, capped at `max`.
 *
 * @param retry the retry number, from 1
 * @param base the first delay in ms
 * @param max the cap in ms
 */
export function backoffDelay(retry: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.min(Math.max(retry, 1) - 1, 30));
}

/**
 * {@linkcode backoffDelay} with jitter: between half of it and all of it, so many waiters
 * that failed together do not retry together.
 *
 * @param retry the retry number, from 1
 * @param base the first delay in ms
 * @param max the cap in ms
 * @param random a number in [0, 1] (`Math.random()`; tests pass a fixed one)
 */
export function jitteredDelay(
  retry: number,
  base: number,
  max: number,
  random: number = Math.random(),
): number {
  const full = backoffDelay(retry, base, max);
  return Math.round(full - (full / 2) * Math.min(Math.max(random, 0), 1));
}

/** What {@linkcode bounded} resolves to when the work took too long. */
export const OVERDUE: unique symbol = Symbol("overdue");

/**
 * Waits for `work` at most `ms`: resolves its value, or {@linkcode OVERDUE} when the time
 * runs out first (the work goes on; a later rejection of it is ignored).
 *
 * @param work what to wait for
 * @param ms the longest wait
 */
export function bounded<T>(work: Promise<T>, ms: number): Promise<T | typeof OVERDUE> {
  work.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const overdue = new Promise<typeof OVERDUE>((resolve) => timer = setTimeout(() => resolve(OVERDUE), ms));
  return Promise.race([work, overdue]).finally(() => clearTimeout(timer));
}

/**
 * Iterates `source`, failing with a `TimeoutError` naming `what` when one step takes
 * longer than `ms` (the source is then closed).
 *
 * @param source what to iterate
 * @param ms the longest wait for one item
 * @param what the operation, for the error
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

interface LocalStorage<T> {
  run<R>(value: T, work: () => R): R;
  getStore(): T | undefined;
}

type LocalStorageClass = new <T>() => LocalStorage<T>;

/**
 * `AsyncLocalStorage` where the runtime has it (Deno, Node, Bun, Deno Deploy, workers with
 * Node compatibility), found at run time through `process.getBuiltinModule` so that no
 * `node:` import reaches a browser bundle; `undefined` elsewhere.
 */
function findLocalStorage(): LocalStorageClass | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  try {
    const hooks = process?.getBuiltinModule?.("node:async_hooks") as
      | { AsyncLocalStorage?: LocalStorageClass }
      | undefined;
    return hooks?.AsyncLocalStorage;
  } catch {
    return undefined;
  }
}

const LocalStorageImpl: LocalStorageClass | undefined = findLocalStorage();

/**
 * A value carried along an async call chain (`run` sets it for `work` and everything it
 * awaits; `get` reads it). Where the runtime cannot follow async chains (a browser),
 * `tracked` is false and `get` returns the value of the outermost `run` still pending,
 * whoever asks: callers that need exactness check `tracked`.
 */
export class AsyncContext<T> {
  /** Whether `get` follows the async chain exactly. */
  static readonly tracked: boolean = LocalStorageImpl !== undefined;
  readonly #storage: LocalStorage<T> | undefined = LocalStorageImpl ? new LocalStorageImpl<T>() : undefined;
  readonly #active: T[] = [];

  /**
   * Runs `work` with the context set to `value`.
   *
   * @param value the value `get` returns inside
   * @param work what runs inside
   */
  run<R>(value: T, work: () => Promise<R>): Promise<R> {
    if (this.#storage) return this.#storage.run(value, work);
    this.#active.push(value);
    const leave = () => {
      const at = this.#active.indexOf(value);
      if (at >= 0) this.#active.splice(at, 1);
    };
    let result: Promise<R>;
    try {
      result = work();
    } catch (error) {
      leave();
      throw error;
    }
    return result.finally(leave);
  }

  /** The value set by the enclosing `run`, if any. */
  get(): T | undefined {
    return this.#storage ? this.#storage.getStore() : this.#active[0];
  }
}
