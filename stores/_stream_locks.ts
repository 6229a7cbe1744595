/**
 * In-process locks per stream. An append holds the locks of its streams from before its
 * transaction until its records are queued for the after-commit listeners, so within this
 * process listeners receive a stream's records in commit (revision) order even when the
 * storage lets several connections append at once. Writers of one stream would wait for
 * each other in the database anyway; appends to other streams do not wait.
 *
 * @module
 */

/** Locks named streams, each one writer at a time, in arrival order. */
export class StreamLocks {
  readonly #tails: Map<string, Promise<void>> = new Map();

  /**
   * Takes the locks of `streams`, in sorted order so that two callers never wait on each
   * other in a cycle.
   *
   * @param streams the streams (repeats are fine)
   * @returns a function that releases them all
   */
  async acquire(streams: Iterable<string>): Promise<() => void> {
    const releases: (() => void)[] = [];
    for (const stream of [...new Set(streams)].sort()) {
      const before = this.#tails.get(stream);
      let release!: () => void;
      const held = new Promise<void>((resolve) => release = resolve);
      this.#tails.set(stream, held);
      releases.push(() => {
        // The last holder leaves no entry behind.
        if (this.#tails.get(stream) === held) this.#tails.delete(stream);
        release();
      });
      // A free stream costs no wait (appends on many streams are the hot path).
      if (before !== undefined) await before;
    }
    return () => {
      for (const release of releases) release();
    };
  }
}
