/**
 * The connections of one SQLite adapter and whose turn it is on them. Transactions and
 * single writes take the adapter's write lock in call order, then SQLite's with `BEGIN
 * IMMEDIATE`; a call made from inside a running transaction joins it instead of waiting
 * for it. Reads go to the read connection, or, with one connection, wait for a running
 * transaction so they never see its uncommitted rows.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { delay } from "../../async.ts";
import { EventInsertionError, StoreClosedError } from "../../errors.ts";
import type { Codec } from "../codec.ts";
import type { _Connection, SqliteDatabase } from "./database.ts";
import { _WriteLock } from "./write_lock.ts";
import { closeQuietly, type OpenedStore, rollback } from "./_open.ts";
import { SqliteTransaction } from "./_transaction.ts";

/** The transaction whose work is running, so calls made from inside it join it instead of waiting for it. */
const current = new AsyncLocalStorage<SqliteTransaction<SqliteDatabase>>();

/** Whether a driver error is SQLite's "database is locked" (SQLITE_BUSY). */
function isBusy(error: unknown): boolean {
  const e = error as { errcode?: number; code?: string; message?: string } | null;
  return e?.errcode === 5 || e?.code === "SQLITE_BUSY" || /database is locked/i.test(String(e?.message));
}

/** The write and read connections of one adapter, and the order of their use. */
export class Connections {
  /** The store's name for messages. */
  readonly location: string;
  /** The codec recorded in the file. */
  readonly codec: Codec;
  /** The read connection (the writer itself with one connection). */
  readonly reader: _Connection;
  readonly #writer: _Connection;
  readonly #owned: boolean;
  readonly #lock = new _WriteLock();
  readonly #busyTimeout: number;
  readonly #asyncBusy: boolean;
  #closed = false;

  /** @param opened the opened store */
  constructor(opened: OpenedStore) {
    this.location = opened.location;
    this.codec = opened.codec;
    this.reader = opened.reader;
    this.#writer = opened.writer;
    this.#owned = opened.owned;
    this.#busyTimeout = opened.busyTimeout;
    this.#asyncBusy = opened.asyncBusy;
  }

  /** Whether the adapter is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Refuses a call after `close()`.
   *
   * @throws {StoreClosedError} when closed
   */
  assertOpen(): void {
    if (this.#closed) throw new StoreClosedError(`SQLite store ${this.location}`);
  }

  /**
   * Runs `work` in one `BEGIN IMMEDIATE` transaction on the write connection, after the
   * transactions and writes called before it.
   *
   * @param work the transaction's body
   * @returns what `work` returned, after the commit
   * @throws {TypeError} when called from inside a transaction of the same adapter
   * @throws {EventInsertionError} when the write lock or the commit fails
   */
  async transaction<THandle extends SqliteDatabase, T>(
    work: (tx: SqliteTransaction<THandle>) => Promise<T>,
  ): Promise<T> {
    this.assertOpen();
    if (this.#inside() !== undefined) {
      throw new TypeError(
        "transaction() was called inside a transaction of the same adapter; use its tx instead",
      );
    }
    const wait = this.#lock.acquire();
    if (wait !== undefined) await wait;
    const writer = this.#writer;
    try {
      await this.#begin(writer, "start a write transaction");
      const tx = new SqliteTransaction<THandle>(this, writer, this.codec, this.location);
      let result: T;
      try {
        result = await current.run(tx as SqliteTransaction<SqliteDatabase>, work, tx);
      } catch (error) {
        tx.active = false;
        rollback(writer);
        throw error;
      }
      tx.active = false;
      try {
        writer.exec("COMMIT");
      } catch (error) {
        rollback(writer);
        throw this.#writeFailure("commit", error);
      }
      return result;
    } finally {
      this.#lock.release();
    }
  }

  /**
   * Runs a read. With one connection a running transaction's writes are visible on it, so
   * the read waits its turn (unless it comes from inside that transaction).
   *
   * @param read what to read
   * @returns what `read` returned
   * @throws {StoreClosedError} when closed
   */
  read<T>(read: (reader: _Connection) => T): T | Promise<T> {
    this.assertOpen();
    if (this.reader !== this.#writer || !this.#lock.held || this.#inside() !== undefined) {
      return read(this.reader);
    }
    return this.#readInTurn(read);
  }

  async #readInTurn<T>(read: (reader: _Connection) => T): Promise<T> {
    await this.#lock.acquire();
    try {
      this.assertOpen();
      return read(this.reader);
    } finally {
      this.#lock.release();
    }
  }

  /**
   * Runs a write outside an event transaction: after the running one, or inside it when
   * called from it.
   *
   * @param write what to write
   * @returns what `write` returned, after the commit
   * @throws {StoreClosedError} when closed
   */
  async write<T>(write: (writer: _Connection) => T): Promise<T> {
    this.assertOpen();
    if (this.#inside() !== undefined) return write(this.#writer);
    const wait = this.#lock.acquire();
    if (wait !== undefined) await wait;
    try {
      this.assertOpen();
      const writer = this.#writer;
      await this.#begin(writer, "start a write");
      let result: T;
      try {
        result = write(writer);
        writer.exec("COMMIT");
      } catch (error) {
        rollback(writer);
        throw error;
      }
      return result;
    } finally {
      this.#lock.release();
    }
  }

  /**
   * Runs `work` on the write connection between transactions (for what SQLite refuses
   * inside one, such as a WAL checkpoint), after the transactions and writes called before
   * it. Called from inside a transaction of this adapter, it does not run.
   *
   * @param work what to do, outside any transaction
   * @returns whether `work` ran
   * @throws {StoreClosedError} when closed
   */
  async betweenTransactions(work: (writer: _Connection) => void): Promise<boolean> {
    this.assertOpen();
    if (this.#inside() !== undefined) return false;
    const wait = this.#lock.acquire();
    if (wait !== undefined) await wait;
    try {
      this.assertOpen();
      work(this.#writer);
      return true;
    } finally {
      this.#lock.release();
    }
  }

  /**
   * Marks the adapter closed, waits for the running transaction, and closes the
   * connections the adapter opened.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const wait = this.#lock.acquire();
    if (wait !== undefined) await wait;
    this.reader.clear();
    this.#writer.clear();
    if (this.#owned) {
      if (this.reader !== this.#writer) closeQuietly(this.reader);
      closeQuietly(this.#writer);
    }
  }

  /** The running transaction of this adapter, when the caller runs inside its work. */
  #inside(): SqliteTransaction<SqliteDatabase> | undefined {
    const tx = current.getStore();
    return tx !== undefined && tx.active && tx.owner === this ? tx : undefined;
  }

  /**
   * Takes SQLite's write lock with `BEGIN IMMEDIATE`. On a file this adapter opened, the
   * writer has no busy timeout of its own: while another process holds the lock it tries
   * again after a pause (1 ms, doubling to 50 ms) until `busyTimeout`, so waiting never
   * blocks this process's event loop. A handed-in database keeps its own busy handler.
   */
  async #begin(writer: _Connection, what: string): Promise<void> {
    const deadline = Date.now() + this.#busyTimeout;
    for (let pause = 1;; pause = Math.min(pause * 2, 50)) {
      try {
        writer.exec("BEGIN IMMEDIATE");
        return;
      } catch (error) {
        if (!this.#asyncBusy || !isBusy(error) || Date.now() >= deadline) {
          throw this.#writeFailure(what, error);
        }
      }
      await delay(pause);
      this.assertOpen();
    }
  }

  /** A driver failure to begin or commit, as an `EventInsertionError` that says how long it waited. */
  #writeFailure(what: string, error: unknown): EventInsertionError {
    const message = String((error as Error)?.message ?? error);
    const busy = /locked|busy/i.test(message)
      ? ` (another connection held the write lock longer than the busy timeout of ${this.#busyTimeout} ms)`
      : "";
    return new EventInsertionError(`Cannot ${what} on ${this.location}: ${message}${busy}`, { cause: error });
  }
}
