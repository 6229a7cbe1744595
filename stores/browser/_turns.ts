/**
 * Turns for the IndexedDB adapter's writers. Transactions are commit-checked, so writers
 * in several tabs that keep appending to one stream race at every commit, and under load
 * one of them can lose every time. With the Web Locks API (tabs and workers of an origin
 * share its locks), every commit of events holds a shared lock named after the database
 * while it checks and writes, and an adapter whose commits lost twice in a row runs its
 * next transaction, reads and commit, under that lock taken exclusively: the others'
 * commits wait for it, so it cannot lose. Transactions that write no events (checkpoints,
 * leases) take no lock. A lock not granted within {@linkcode LOCK_WAIT_MS} (a transaction
 * opened inside one that holds a turn) is gone without: that transaction then races as it
 * would without locks. Where there are no Web Locks, transactions race and the store's
 * retries (with backoff) are all there is.
 *
 * @module
 */

import { isRevisionConflictError } from "../../contract/mod.ts";

interface LockManager {
  request<T>(
    name: string,
    options: { mode: "shared" | "exclusive"; signal?: AbortSignal },
    callback: () => Promise<T>,
  ): Promise<T>;
}

/** The origin's lock manager, when the runtime has one. */
function lockManager(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}

/** How long a transaction waits for a lock before it goes on without one. */
export const LOCK_WAIT_MS = 2_000;

/** Losses in a row that make an adapter take a turn. */
const LOSSES_FOR_A_TURN = 2;

/** Runs a commit of events: under the shared lock, or as it is inside a turn. */
export type CommitGuard = <T>(commit: () => Promise<T>) => Promise<T>;

/** The turns of one adapter over one database. */
export class Turns {
  readonly #lock: string;
  #lost = 0;

  /** @param database the database's name */
  constructor(database: string) {
    this.#lock = `eventfold:indexeddb:${database}:turn`;
  }

  /**
   * Runs one transaction: as a turn (under the exclusive lock) after losses in a row,
   * otherwise free, with its commit of events under the shared lock.
   *
   * @param work the transaction, given the guard for its commit of events
   * @returns what it returns
   */
  async run<T>(work: (guard: CommitGuard) => Promise<T>): Promise<T> {
    const locks = lockManager();
    const inTurn: CommitGuard = (commit) => commit();
    try {
      let result: T;
      if (locks === undefined) result = await work(inTurn);
      else if (this.#lost >= LOSSES_FOR_A_TURN) {
        result = await this.#locked(locks, "exclusive", () => work(inTurn));
      } else result = await work((commit) => this.#locked(locks, "shared", commit));
      this.#lost = 0;
      return result;
    } catch (error) {
      if (isRevisionConflictError(error)) this.#lost++;
      throw error;
    }
  }

  async #locked<T>(locks: LockManager, mode: "shared" | "exclusive", work: () => Promise<T>): Promise<T> {
    let granted = false;
    try {
      return await locks.request(this.#lock, { mode, signal: AbortSignal.timeout(LOCK_WAIT_MS) }, () => {
        granted = true;
        return work();
      });
    } catch (error) {
      if (granted) throw error;
      if (
        !(error instanceof DOMException) || (error.name !== "TimeoutError" && error.name !== "AbortError")
      ) {
        throw error;
      }
      return await work();
    }
  }
}
