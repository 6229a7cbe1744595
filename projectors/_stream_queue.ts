/**
 * Per-stream serialisation for the projector: work on one stream runs one task at a
 * time in the order it was queued, work on other streams does not wait.
 *
 * @module
 */

const settle = (): void => {};

/**
 * Chains tasks per stream key. A task queued on several streams (a batch) waits for all
 * of them and holds all of them until it settles. A stream's entry is removed as soon
 * as its last task settles, so idle streams cost nothing.
 */
export class StreamQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** How many streams have work queued or running. */
  get size(): number {
    return this.#tails.size;
  }

  /**
   * Runs `task` after every task queued before it on any of `streams`.
   *
   * @param streams the streams the task touches
   * @param task the work; its rejection reaches the caller only, never later tasks
   * @returns the task's outcome
   */
  run<T>(streams: Iterable<string>, task: () => T | Promise<T>): Promise<T> {
    const keys = [...new Set(streams)];
    const waits: Promise<void>[] = [];
    for (const key of keys) {
      const tail = this.#tails.get(key);
      if (tail !== undefined) waits.push(tail);
    }
    const before = waits.length === 0
      ? Promise.resolve()
      : waits.length === 1
      ? waits[0]
      : Promise.all(waits);
    const result = before.then(task);
    // The tail never rejects: a failed task must not stop the tasks queued behind it.
    const tail = result.then(settle, settle);
    for (const key of keys) this.#tails.set(key, tail);
    tail.then(() => {
      for (const key of keys) {
        if (this.#tails.get(key) === tail) this.#tails.delete(key);
      }
    });
    return result;
  }
}
