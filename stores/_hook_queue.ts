/**
 * After-commit hooks: listeners run in commit order, one batch at a time; a failing
 * listener is reported to the error listeners and never undoes or loses the write.
 *
 * @module
 */

import { AsyncContext } from "../async.ts";
import type { EventRecord } from "../events/record.ts";
import type { ErrorListener, InsertedContext, InsertedListener, ListenerRegistration } from "./hooks.ts";

/** Set while a listener runs, so a push made by a listener knows not to wait for the queue it is in. */
const listening = new AsyncContext<true>();

/** Registers a value in a set and returns how to remove it. */
export function register<T>(set: Set<T>, value: T): ListenerRegistration {
  set.add(value);
  return { unsubscribe: () => void set.delete(value) };
}

/** Runs after-commit listeners in commit order. */
export class HookQueue<TRecord extends EventRecord> {
  readonly inserted: Set<InsertedListener<TRecord>> = new Set();
  readonly errors: Set<ErrorListener> = new Set();
  #tail: Promise<void> = Promise.resolve();

  /** Queues one committed batch; resolves when its listeners have run. */
  dispatch(records: TRecord[], context: InsertedContext): Promise<void> {
    if (this.inserted.size === 0) return this.#tail;
    const run = this.#tail.then(() =>
      listening.run(true, async () => {
        for (const listener of [...this.inserted]) {
          try {
            await listener(records, context);
          } catch (error) {
            this.#report(error, records);
          }
        }
      })
    );
    this.#tail = run;
    return run;
  }

  /**
   * Whether the caller runs inside a listener. A listener that appends must not wait for
   * its own records' listeners: they are queued behind the batch it is handling. Writes
   * ask when they are called, before their first await: where `AsyncContext` is untracked
   * (a browser), the answer is "yes" for any write called while a listener runs, and a
   * write called before that listener began still waits for its own listeners.
   */
  static inListener(): boolean {
    return listening.get() === true;
  }

  /** Resolves once every queued batch has been handled. */
  idle(): Promise<void> {
    return this.#tail;
  }

  #report(error: unknown, records: EventRecord[]): void {
    if (this.errors.size === 0) {
      console.error("eventfold: an onEventsInserted listener failed (the events are stored):", error);
      return;
    }
    for (const listener of this.errors) {
      try {
        // An async listener's rejection is reported too, never left unhandled.
        Promise.resolve(listener(error, { records })).catch((inner) =>
          console.error("eventfold: an onError listener failed:", inner)
        );
      } catch (inner) {
        console.error("eventfold: an onError listener failed:", inner);
      }
    }
  }
}
