/**
 * Waiting for new events while following the log: wakes on the store's change signal
 * (`adapter.watch`, when it has one), after the poll interval at the latest, or at once
 * when the command is interrupted. A signal that arrives while the caller is reading is
 * kept, so no commit is slept through.
 *
 * @module
 */

import type { Adapter } from "../mod.ts";

/** Sleeps until the store may have changed. */
export class ChangeWaiter {
  readonly #signal: AbortSignal;
  readonly #unwatch: (() => void) | undefined;
  #changed = false;
  #wake: (() => void) | undefined;

  /**
   * @param adapter the store watched
   * @param signal aborts the wait (Ctrl-C)
   */
  constructor(adapter: Adapter, signal: AbortSignal) {
    this.#signal = signal;
    this.#unwatch = adapter.watch?.(() => this.#notify());
    signal.addEventListener("abort", () => this.#notify(), { once: true });
  }

  #notify(): void {
    this.#changed = true;
    this.#wake?.();
  }

  /**
   * Resolves when the store may have changed, after `ms` at the latest, or on abort.
   *
   * @param ms the poll interval
   */
  wait(ms: number): Promise<void> {
    if (this.#changed || this.#signal.aborted) {
      this.#changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#wake?.(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#changed = false;
        resolve();
      };
    });
  }

  /** Stops watching. */
  close(): void {
    this.#unwatch?.();
    this.#wake?.();
  }
}
