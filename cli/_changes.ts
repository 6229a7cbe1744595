/**
 * Waiting for new events while following the log: a {@linkcode Signal} woken by the
 * store's change signal (`adapter.watch`, when it has one) and by Ctrl-C, so a wait ends
 * after the poll interval at the latest, at once when the command is interrupted, and a
 * change that arrives while the caller is reading is kept, so no commit is slept through.
 *
 * @module
 */

import { Signal } from "../async.ts";
import type { Adapter } from "../mod.ts";

/** The changes of one store, watched until disposed. */
export interface StoreChanges extends Disposable {
  /** Resolves when the store may have changed, after `ms` at the latest, or on abort. */
  wait(ms: number): Promise<void>;
}

/**
 * Watches a store for changes.
 *
 * @param adapter the store watched
 * @param abort wakes every wait for good (Ctrl-C)
 * @returns the changes; dispose of them to stop watching
 */
export function watchChanges(adapter: Adapter, abort: AbortSignal): StoreChanges {
  const changed = new Signal();
  const wake = (): void => changed.notify();
  const unwatch = adapter.watch?.(wake);
  abort.addEventListener("abort", wake, { once: true });
  return {
    wait: (ms) => abort.aborted ? Promise.resolve() : changed.wait(ms),
    [Symbol.dispose]() {
      unwatch?.();
      abort.removeEventListener("abort", wake);
    },
  };
}
