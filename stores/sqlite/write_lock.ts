/**
 * A first-come, first-served async lock. `node:sqlite` is synchronous but a store
 * transaction awaits its work, so without this two transactions of one process could
 * interleave their statements on the single write connection.
 *
 * @module
 */

/** An async mutex whose uncontended acquire costs no promise. */
export class _WriteLock {
  #held = false;
  readonly #waiting: (() => void)[] = [];

  /** Whether someone holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Takes the lock: `undefined` when it was free (taken at once), else a promise that
   * resolves when it is handed over. Either way the caller must {@linkcode release} it.
   */
  acquire(): Promise<void> | undefined {
    if (!this.#held) {
      this.#held = true;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Hands the lock to the next waiter, or frees it. */
  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#held = false;
    else next();
  }
}
