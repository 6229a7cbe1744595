/**
 * {@linkcode SqliteAdapter}: the embedded store, on `node:sqlite`.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { DatabaseSync } from "node:sqlite";
import { DecodeError, EventInsertionError, StoreClosedError, StoreOpenError } from "../../errors.ts";
import type { EventRecord } from "../../events/record.ts";
import {
  type Adapter,
  type AdapterStats,
  type AdapterTransaction,
  type Checkpoint,
  type CheckpointUpdate,
  formatPosition,
  type Lease,
  type LogPageQuery,
  type ParkedEvent,
  parsePosition,
  type RelationChange,
  type Snapshot,
  type StreamPageQuery,
} from "../../contract/mod.ts";
import { type Codec, resolveCodec } from "../codec.ts";
import { _Connection, type SqliteDatabase, type SqliteValue } from "./database.ts";
import { EVENT_COLUMNS, toRecords } from "./records.ts";
import { prepareSchema } from "./schema.ts";
import { _WriteLock } from "./write_lock.ts";
import { streamsPage } from "./_log_page.ts";
import {
  closeQuietly,
  configure,
  describe,
  isDatabase,
  milliseconds,
  openError,
  openFile,
  rollback,
} from "./_open.ts";
import {
  DEFAULT_BUSY_TIMEOUT,
  DEFAULT_WATCH_INTERVAL,
  EVENTS,
  FAR,
  FEW_STREAMS,
  STREAM_READS,
} from "./_sql.ts";
import { applyRelations, SqliteTransaction } from "./_transaction.ts";
import {
  dropLease,
  listParked,
  parkEvent,
  renewLease,
  setCheckpoint,
  takeLease,
  unparkEvent,
} from "./_subscriptions.ts";
import { delay } from "../../async.ts";

/** Options of {@linkcode SqliteAdapter}. */
export interface SqliteAdapterOptions {
  /**
   * How payloads are encoded: `"cbor"` (the default for a new file), `"json"` or a
   * {@linkcode Codec}. The codec is recorded in the file; left out, the recorded one is
   * used. Asking for another codec than the recorded one is a `StoreOpenError`.
   */
  readonly codec?: "cbor" | "json" | Codec;
  /**
   * `"normal"` (default, `synchronous=NORMAL`): a commit survives a crash of the process;
   * a power loss or OS crash may lose the last commits but never corrupts the file.
   * `"full"` (`synchronous=FULL`): a commit also survives a power loss, at the cost of a
   * disk sync per commit. Left out for a handed-in database, its setting is kept.
   */
  readonly durability?: "normal" | "full";
  /** How long a writer waits for another process's write lock, in ms (default 5000). */
  readonly busyTimeout?: number;
  /** How often {@linkcode SqliteAdapter.watch} checks for commits of other processes, in ms (default 50). */
  readonly watchInterval?: number;
}

/** The transaction whose work is running, so calls made from inside it join it instead of waiting for it. */
const current = new AsyncLocalStorage<SqliteTransaction<SqliteDatabase>>();

/**
 * The SQLite store. Give it a file path (created with its tables on first use),
 * `":memory:"`, or a database you opened yourself (`node:sqlite`'s `DatabaseSync`, or one
 * from `@db/sqlite` or `better-sqlite3`; see {@linkcode SqliteDatabase}), which it uses but
 * never closes.
 *
 * - Files use WAL: readers never wait for writers. Writers take `BEGIN IMMEDIATE` and wait up
 *   to `busyTimeout` for another process, so several processes can append to one file.
 * - One write connection per adapter, its transactions run one after the other; a file also
 *   gets a read connection, so reads see committed events only. `":memory:"` and a
 *   handed-in database have one connection, and reads wait for a running transaction.
 * - Positions are the rowid, zero-padded: insert order is position order, commit order too
 *   (writers are serialised), so a reader never sees a position appear behind one it read.
 *
 * @typeParam THandle the database type handed to in-transaction listeners
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqliteAdapter } from "@eventfold/eventfold/sqlite";
 * const adapter = new SqliteAdapter(":memory:");
 * await adapter.transaction(async (tx) => {
 *   await tx.insert([{
 *     id: crypto.randomUUID(), stream: "u1", type: "user:created", data: { name: "Ada" }, meta: null,
 *     revision: 1, created: new Date().toISOString(), outdated: false,
 *   }]);
 * });
 * const [record] = await adapter.readStream("u1", { direction: "forward", limit: 10 });
 * assert.equal(record.position, "0000000000000001");
 * await adapter.close();
 * ```
 */
export class SqliteAdapter<THandle extends SqliteDatabase = DatabaseSync>
  implements Adapter<THandle>, AsyncDisposable {
  /** Always `"sqlite"`. */
  readonly kind: string = "sqlite";
  /** The file path, `":memory:"`, or the path of a handed-in database. */
  readonly location: string;
  /**
   * The same as `location`.
   *
   * @deprecated use `location`; `source` goes in the next release.
   */
  get source(): string {
    return this.location;
  }
  /** The payload codec in use (the one recorded in the file). */
  readonly codec: Codec;

  readonly #writer: _Connection;
  readonly #reader: _Connection;
  /** Whether the adapter opened the database (and so closes it). */
  readonly #owned: boolean;
  readonly #lock = new _WriteLock();
  readonly #watchInterval: number;
  readonly #busyTimeout: number;
  /** Whether the writer waits for the write lock here (true) or in SQLite's busy handler. */
  #asyncBusy = false;
  readonly #watchers = new Set<{ listener: () => void }>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #dataVersion = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * Opens (and on first use creates) the store.
   *
   * @param database a file path, `":memory:"`, or an open database
   * @param options codec, durability, busy timeout
   * @throws {StoreOpenError} when the file's directory is missing, the file is not a SQLite
   *   database, its schema is newer than this code, or its codec differs from the one asked for
   * @throws {TypeError} for an unknown codec or durability, or a `database` that is neither a path nor a database
   * @throws {RangeError} for a negative or fractional busy timeout or watch interval
   */
  constructor(database: string | THandle, options: SqliteAdapterOptions = {}) {
    const requested = options.codec === undefined ? undefined : resolveCodec(options.codec);
    const durability = options.durability;
    if (durability !== undefined && durability !== "normal" && durability !== "full") {
      throw new TypeError(`Unknown durability ${JSON.stringify(durability)}: expected "normal" or "full"`);
    }
    const busyTimeout = milliseconds("busyTimeout", options.busyTimeout);
    this.#watchInterval = milliseconds("watchInterval", options.watchInterval) ?? DEFAULT_WATCH_INTERVAL;
    if (this.#watchInterval === 0) throw new RangeError("watchInterval must be at least 1 ms");

    if (typeof database === "string") {
      if (database === "") throw new TypeError('Expected a file path or ":memory:", got an empty string');
      this.location = database;
      this.#owned = true;
      const memory = database === ":memory:";
      this.#busyTimeout = busyTimeout ?? DEFAULT_BUSY_TIMEOUT;
      const writer = openFile(database);
      let reader: _Connection | undefined;
      try {
        configure(writer, { memory, busyTimeout: this.#busyTimeout, durability: durability ?? "normal" });
        this.codec = prepareSchema(writer, { source: database, codec: requested });
        reader = memory ? writer : openFile(database);
        if (!memory) {
          configure(reader, { memory, busyTimeout: this.#busyTimeout, reader: true });
          // From here on the writer waits for other processes asynchronously (see #begin).
          writer.exec("PRAGMA busy_timeout = 0");
          this.#asyncBusy = true;
        }
      } catch (error) {
        if (reader !== undefined && reader !== writer) closeQuietly(reader);
        closeQuietly(writer);
        throw error instanceof StoreOpenError ? error : openError(database, error);
      }
      this.#writer = writer;
      this.#reader = reader;
    } else if (isDatabase(database)) {
      this.#owned = false;
      const connection = new _Connection(database);
      let source = "SQLite database";
      try {
        const file = connection.statement("PRAGMA database_list", true).rows([]).find((row) =>
          row[1] === "main"
        );
        source = file === undefined || file[2] === "" ? ":memory:" : String(file[2]);
        const current = Number(connection.statement("PRAGMA busy_timeout", true).row([])![0]);
        // A handed-in database keeps its own busy timeout unless it has none or one is asked for.
        this.#busyTimeout = busyTimeout ?? (current > 0 ? current : DEFAULT_BUSY_TIMEOUT);
        configure(connection, { memory: source === ":memory:", busyTimeout: this.#busyTimeout, durability });
        this.codec = prepareSchema(connection, { source, codec: requested });
      } catch (error) {
        throw error instanceof StoreOpenError ? error : openError(source, error);
      }
      this.location = source;
      this.#writer = this.#reader = connection;
    } else {
      throw new TypeError(
        `Expected a file path, ":memory:" or an open SQLite database (with exec() and prepare()), got ${
          describe(database)
        }`,
      );
    }
  }

  /**
   * Runs `work` in one `BEGIN IMMEDIATE` transaction on the write connection. Transactions
   * of this adapter run one at a time, in call order; another process's writer is waited
   * for up to the busy timeout.
   *
   * @param work what to do in the transaction; its result is returned after the commit
   * @returns what `work` returned
   * @throws {StoreClosedError} when the adapter is closed
   * @throws whatever `work` threw (after rolling back)
   */
  async transaction<T>(work: (tx: AdapterTransaction<THandle>) => Promise<T>): Promise<T> {
    this.#assertOpen();
    const inside = this.#inside();
    if (inside !== undefined) {
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
   * One page of a stream, in revision order (or reversed).
   *
   * @param stream the stream
   * @param query where to start, direction, limit and types
   * @returns the records of the page
   * @throws {DecodeError} when a payload on the page does not decode
   */
  async readStream(stream: string, query: StreamPageQuery): Promise<EventRecord[]> {
    const backward = query.direction === "backward";
    const from = query.fromRevision ?? (backward ? FAR : 1);
    const types = query.types;
    const sql = STREAM_READS[backward ? 1 : 0][types === undefined ? 0 : 1];
    const params: SqliteValue[] = types === undefined
      ? [stream, from, query.limit]
      : [stream, from, JSON.stringify(types), query.limit];
    return await this.#read((reader) =>
      toRecords(reader.statement(sql, true).rows(params), this.codec, this.location)
    );
  }

  /**
   * One page of the log, in position order (or reversed), after an exclusive cursor.
   *
   * @param query cursor, direction, limit, types and streams
   * @returns the records of the page
   * @throws {RangeError} when the cursor is not a position of this store
   * @throws {DecodeError} when a payload on the page does not decode
   */
  async readLog(query: LogPageQuery): Promise<EventRecord[]> {
    const backward = query.direction === "backward";
    const cursor = query.after === undefined ? (backward ? FAR : 0) : parsePosition(query.after);
    const streams = query.streams;
    if (streams !== undefined && streams.length > 0 && streams.length <= FEW_STREAMS) {
      return await this.#read((reader) =>
        toRecords(streamsPage(reader, streams, query, cursor), this.codec, this.location)
      );
    }
    const params: SqliteValue[] = [cursor];
    let sql = `SELECT ${EVENT_COLUMNS} FROM ${EVENTS} WHERE position ${backward ? "<" : ">"} ?`;
    if (query.types !== undefined) {
      sql += " AND type IN (SELECT value FROM json_each(?))";
      params.push(JSON.stringify(query.types));
    }
    if (query.streams !== undefined) {
      sql += " AND stream IN (SELECT value FROM json_each(?))";
      params.push(JSON.stringify(query.streams));
    }
    sql += ` ORDER BY position ${backward ? "DESC" : "ASC"} LIMIT ?`;
    params.push(query.limit);
    return await this.#read((reader) =>
      toRecords(reader.statement(sql, true).rows(params), this.codec, this.location)
    );
  }

  /**
   * Stored events by id, in the order of `ids`; missing ids are left out.
   *
   * @param ids the ids
   * @returns the records found
   */
  async getByIds(ids: readonly string[]): Promise<EventRecord[]> {
    this.#assertOpen();
    if (ids.length === 0) return [];
    const sql =
      `SELECT ${EVENT_COLUMNS.replace(/\w+/g, "e.$&")} FROM json_each(?) AS k JOIN ${EVENTS} AS e ` +
      "ON e.id = k.value ORDER BY k.key";
    return await this.#read((reader) =>
      toRecords(reader.statement(sql, true).rows([JSON.stringify(ids)]), this.codec, this.location)
    );
  }

  /**
   * Streams linked to any of `keys`, each once: by key in the given order, then in the
   * order they were linked.
   *
   * @param keys relation keys
   * @returns the streams
   */
  async getStreamsByKeys(keys: readonly string[]): Promise<string[]> {
    this.#assertOpen();
    if (keys.length === 0) return [];
    const sql = "SELECT r.stream FROM json_each(?) AS k JOIN eventfold_relations AS r ON r.key = k.value " +
      "ORDER BY k.key, r.rowid";
    const rows = await this.#read((reader) => reader.statement(sql, true).rows([JSON.stringify(keys)]));
    return [...new Set(rows.map((row) => row[0] as string))];
  }

  /**
   * Links or unlinks streams and relation keys, in one transaction.
   *
   * @param changes the changes, applied in order
   */
  async updateRelations(changes: readonly RelationChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.#write((writer) => applyRelations(writer, changes));
  }

  /**
   * The snapshot saved as (`name`, `stream`). A snapshot whose state no longer decodes is
   * reported as missing, so the state is rebuilt from the events (and saved anew).
   *
   * @param name reducer or aggregate name
   * @param stream stream or relation key
   * @returns the snapshot, or `undefined`
   */
  async getSnapshot(name: string, stream: string): Promise<Snapshot | undefined> {
    const row = await this.#read((reader) =>
      reader.statement(
        "SELECT state, revision, position, version FROM eventfold_snapshots WHERE name = ? AND stream = ?",
        true,
      ).row([name, stream])
    );
    if (row === undefined) return undefined;
    let state: unknown;
    try {
      state = this.codec.decode(row[0] as Uint8Array);
    } catch {
      return undefined;
    }
    return {
      name,
      stream,
      state,
      revision: row[1] === null ? null : Number(row[1]),
      position: row[2] as string | null,
      version: Number(row[3]),
    };
  }

  /**
   * Saves a snapshot, replacing the one with the same name and stream.
   *
   * @param snapshot the snapshot
   */
  async putSnapshot(snapshot: Snapshot): Promise<void> {
    const state = this.codec.encode(snapshot.state);
    await this.#write((writer) => {
      writer.statement(
        "INSERT INTO eventfold_snapshots (name, stream, state, revision, position, version) VALUES (?, ?, ?, ?, ?, ?) " +
          "ON CONFLICT (name, stream) DO UPDATE SET state = excluded.state, revision = excluded.revision, " +
          "position = excluded.position, version = excluded.version",
      ).run([snapshot.name, snapshot.stream, state, snapshot.revision, snapshot.position, snapshot.version]);
    });
  }

  /**
   * Removes a snapshot (nothing happens when there is none).
   *
   * @param name reducer or aggregate name
   * @param stream stream or relation key
   */
  async deleteSnapshot(name: string, stream: string): Promise<void> {
    await this.#write((writer) => {
      writer.statement("DELETE FROM eventfold_snapshots WHERE name = ? AND stream = ?").run([name, stream]);
    });
  }

  /**
   * The checkpoint called `name`.
   *
   * @param name subscription name
   * @returns the checkpoint, or `undefined`
   * @throws {DecodeError} when its saved state does not decode
   */
  async getCheckpoint(name: string): Promise<Checkpoint | undefined> {
    const row = await this.#read((reader) =>
      reader.statement(
        "SELECT name, position, updated, state, version FROM eventfold_checkpoints WHERE name = ?",
        true,
      ).row([name])
    );
    return row === undefined ? undefined : this.#checkpoint(row);
  }

  /**
   * All checkpoints, by name.
   *
   * @returns the checkpoints
   * @throws {DecodeError} when a saved state does not decode
   */
  async listCheckpoints(): Promise<Checkpoint[]> {
    const rows = await this.#read((reader) =>
      reader.statement(
        "SELECT name, position, updated, state, version FROM eventfold_checkpoints ORDER BY name",
        true,
      ).rows([])
    );
    return rows.map((row) => this.#checkpoint(row));
  }

  /**
   * Sets a checkpoint if it is at `expected` now, in one statement.
   *
   * @param name subscription name
   * @param expected the position it must have now (`null`: missing or without position)
   * @param next the new position and optional state
   * @returns whether it was set
   */
  async putCheckpoint(
    name: string,
    expected: string | null,
    next: CheckpointUpdate,
  ): Promise<boolean> {
    return await this.#write((writer) => setCheckpoint(writer, this.codec, name, expected, next));
  }

  /**
   * Removes a checkpoint (nothing happens when there is none).
   *
   * @param name subscription name
   */
  async deleteCheckpoint(name: string): Promise<void> {
    await this.#write((writer) => {
      writer.statement("DELETE FROM eventfold_checkpoints WHERE name = ?").run([name]);
    });
  }

  /**
   * Parks an event of a subscription, replacing an earlier parking of the same event.
   *
   * @param event the event, the error and the attempts
   */
  async parkEvent(event: ParkedEvent): Promise<void> {
    await this.#write((writer) => parkEvent(writer, event));
  }

  /**
   * Parked events of subscription `name` (of all when absent), in position order.
   *
   * @param name subscription name
   * @returns the parked events
   */
  async listParked(name?: string): Promise<ParkedEvent[]> {
    return await this.#read((reader) => listParked(reader, name));
  }

  /**
   * Removes a parked event.
   *
   * @param name subscription name
   * @param id event id
   * @returns whether it was parked
   */
  async unparkEvent(name: string, id: string): Promise<boolean> {
    return await this.#write((writer) => unparkEvent(writer, name, id));
  }

  /**
   * Takes the lease row of subscription `name` for `owner`, unless another owner's lease
   * is still unexpired. A lease expires `ttl` ms after its last renewal, so another
   * process takes over from a holder that died within about `ttl` ms (plus its polling
   * interval). Times are this machine's clock: processes sharing a file share the clock.
   *
   * @param name subscription name
   * @param owner the taker's unique id
   * @param ttl time to live without renewal, in ms
   * @returns the lease, or `undefined` when another owner holds it
   */
  async acquireLease(name: string, owner: string, ttl: number): Promise<Lease | undefined> {
    const taken = await this.#write((writer) => takeLease(writer, name, owner, Date.now() + ttl));
    if (!taken) return undefined;
    let released = false;
    return {
      renew: async () =>
        !released && await this.#write((writer) => renewLease(writer, name, owner, Date.now() + ttl)),
      release: async () => {
        if (released) return;
        released = true;
        if (!this.#closed) await this.#write((writer) => dropLease(writer, name, owner));
      },
    };
  }

  /**
   * Counts events after `position`.
   *
   * @param position exclusive; `null` counts every event
   * @returns the count
   */
  async countAfter(position: string | null): Promise<number> {
    const after = position === null ? 0 : parsePosition(position);
    const row = await this.#read((reader) =>
      reader.statement(`SELECT count(*) FROM ${EVENTS} WHERE position > ?`, true).row([after])!
    );
    return Number(row[0]);
  }

  /**
   * Counts events and streams and reads the head position, from one read snapshot.
   *
   * @returns the stats
   */
  async stats(): Promise<AdapterStats> {
    const row = await this.#read((reader) =>
      reader.statement(
        `SELECT (SELECT count(*) FROM ${EVENTS}), (SELECT count(*) FROM ${EVENTS} WHERE revision = 1), ` +
          `(SELECT max(position) FROM ${EVENTS})`,
        true,
      ).row([])!
    );
    return {
      events: Number(row[0]),
      streams: Number(row[1]),
      head: row[2] === null ? null : formatPosition(Number(row[2])),
    };
  }

  /**
   * Calls `listener` after another connection or process committed to the database
   * (checked with `PRAGMA data_version` every `watchInterval` ms, only while someone
   * watches). For a file this includes this adapter's own commits, which arrive on its
   * write connection. A listener that throws is not called again for that change and does
   * not stop the others.
   *
   * @param listener called without arguments
   * @returns a function that stops watching (idempotent)
   * @throws {StoreClosedError} when the adapter is closed
   */
  watch(listener: () => void): () => void {
    this.#assertOpen();
    const entry = { listener };
    if (this.#watchers.size === 0) {
      this.#dataVersion = this.#readDataVersion();
      this.#timer = setInterval(() => this.#poll(), this.#watchInterval);
    }
    this.#watchers.add(entry);
    return () => {
      if (!this.#watchers.delete(entry) || this.#watchers.size > 0) return;
      clearInterval(this.#timer);
      this.#timer = undefined;
    };
  }

  /**
   * Waits for running transactions, then closes the connections this adapter opened (a
   * handed-in database stays open). Idempotent; later calls throw `StoreClosedError`.
   *
   * @returns when closed
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    this.#watchers.clear();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const wait = this.#lock.acquire();
    if (wait !== undefined) await wait;
    this.#reader.clear();
    this.#writer.clear();
    if (this.#owned) {
      if (this.#reader !== this.#writer) closeQuietly(this.#reader);
      closeQuietly(this.#writer);
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

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError(`SQLite store ${this.location}`);
  }

  /** The running transaction of this adapter, when the caller runs inside its work. */
  #inside(): SqliteTransaction<SqliteDatabase> | undefined {
    const tx = current.getStore();
    return tx !== undefined && tx.active && tx.adapter === this ? tx : undefined;
  }

  /**
   * Runs a read. With one connection a running transaction's writes are visible on it, so
   * the read waits its turn (unless it comes from inside that transaction).
   */
  #read<T>(read: (reader: _Connection) => T): T | Promise<T> {
    this.#assertOpen();
    if (this.#reader !== this.#writer || !this.#lock.held || this.#inside() !== undefined) {
      return read(this.#reader);
    }
    return this.#readInTurn(read);
  }

  async #readInTurn<T>(read: (reader: _Connection) => T): Promise<T> {
    await this.#lock.acquire();
    try {
      this.#assertOpen();
      return read(this.#reader);
    } finally {
      this.#lock.release();
    }
  }

  /** Runs a write outside an event transaction: after the running one, or inside it when called from it. */
  async #write<T>(write: (writer: _Connection) => T): Promise<T> {
    this.#assertOpen();
    if (this.#inside() !== undefined) return write(this.#writer);
    const wait = this.#lock.acquire();
    if (wait !== undefined) await wait;
    try {
      this.#assertOpen();
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
      this.#assertOpen();
    }
  }

  #checkpoint(row: unknown[]): Checkpoint {
    const checkpoint: { -readonly [K in keyof Checkpoint]: Checkpoint[K] } = {
      name: row[0] as string,
      position: row[1] as string | null,
      updated: row[2] as string,
    };
    if (row[3] !== null) {
      try {
        checkpoint.state = this.codec.decode(row[3] as Uint8Array);
      } catch (error) {
        throw new DecodeError(checkpoint.position ?? "(none)", `state of checkpoint "${checkpoint.name}"`, {
          cause: error,
          source: this.location,
        });
      }
    }
    if (row[4] !== null) checkpoint.version = Number(row[4]);
    return checkpoint;
  }

  #readDataVersion(): number {
    return Number(this.#reader.statement("PRAGMA data_version", true).row([])![0]);
  }

  #poll(): void {
    if (this.#closed) return;
    let version: number;
    try {
      version = this.#readDataVersion();
    } catch {
      return; // A busy or failing check is retried on the next tick.
    }
    if (version === this.#dataVersion) return;
    this.#dataVersion = version;
    for (const { listener } of [...this.#watchers]) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the others still hear of the change.
      }
    }
  }
}

/** Whether a driver error is SQLite's "database is locked" (SQLITE_BUSY). */
function isBusy(error: unknown): boolean {
  const e = error as { errcode?: number; code?: string; message?: string } | null;
  return e?.errcode === 5 || e?.code === "SQLITE_BUSY" || /database is locked/i.test(String(e?.message));
}
