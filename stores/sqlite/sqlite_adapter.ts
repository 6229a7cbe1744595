/**
 * {@linkcode SqliteAdapter}: the embedded store, on `node:sqlite`.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import type { EventRecord } from "../../events/record.ts";
import {
  type Adapter,
  type AdapterStats,
  type AdapterTransaction,
  type Checkpoint,
  type CheckpointUpdate,
  type Lease,
  type LogPageQuery,
  type ParkedEvent,
  parsePosition,
  type RelationChange,
  type Snapshot,
  type StreamPageQuery,
  type StreamStatus,
} from "../../contract/mod.ts";
import type { Codec } from "../codec.ts";
import type { SqliteDatabase } from "./database.ts";
import { toRecords } from "./records.ts";
import { openStore } from "./_open.ts";
import { Connections } from "./_connections.ts";
import { DataVersionWatch } from "./_watch.ts";
import { countAfterRow, logCursor, logRows, readStats, rowsByIds, streamRows } from "./_log_reads.ts";
import { readStreamStatus, streamsWithMetadata } from "./_lifecycle.ts";
import { applyRelations, streamsByKeys } from "./_relations.ts";
import { readSnapshot, removeSnapshot, writeSnapshot } from "./_snapshots.ts";
import { checkpointQuietly, insertKey, readKeys, removeKey } from "./_keys.ts";
import { checkKey, checkSubject } from "../_key_input.ts";
import {
  dropLease,
  heldLeases,
  listParked,
  parkEvent,
  readCheckpoint,
  readCheckpoints,
  removeCheckpoint,
  renewLease,
  setCheckpoint,
  takeLease,
  unparkEvent,
} from "./_subscriptions.ts";

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
  /** `readLog` honours `partition`. */
  readonly partitionReads = true;
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

  readonly #connections: Connections;
  readonly #watch: DataVersionWatch;
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
    const opened = openStore(database, options);
    this.location = opened.location;
    this.codec = opened.codec;
    this.#connections = new Connections(opened);
    this.#watch = new DataVersionWatch(this.#connections, opened.watchInterval);
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
    return await this.#connections.transaction<THandle, T>(work);
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
    return await this.#connections.read((reader) =>
      toRecords(streamRows(reader, stream, query), this.codec, this.location)
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
    const cursor = logCursor(query);
    return await this.#connections.read((reader) =>
      toRecords(logRows(reader, query, cursor), this.codec, this.location)
    );
  }

  /**
   * Stored events by id, in the order of `ids`; missing ids are left out.
   *
   * @param ids the ids
   * @returns the records found
   */
  async getByIds(ids: readonly string[]): Promise<EventRecord[]> {
    this.#connections.assertOpen();
    if (ids.length === 0) return [];
    return await this.#connections.read((reader) =>
      toRecords(rowsByIds(reader, ids), this.codec, this.location)
    );
  }

  /**
   * What is known of each stream beyond its events: its highest revision ever (removed
   * ones included), the revision it was deleted at, its tombstone and the first revision
   * truncation kept, and its metadata. Streams never written, deleted or given metadata are
   * left out.
   *
   * @param streams the streams
   * @returns the status of each known stream
   */
  async streamStatus(streams: readonly string[]): Promise<Map<string, StreamStatus>> {
    this.#connections.assertOpen();
    if (streams.length === 0) return new Map();
    return await this.#connections.read((reader) => readStreamStatus(reader, streams));
  }

  /**
   * The streams that have metadata, in name order, after `after`.
   *
   * @param after the last name of the previous page
   * @param limit at most this many
   */
  async streamsWithMetadata(after: string | undefined, limit: number): Promise<string[]> {
    this.#connections.assertOpen();
    return await this.#connections.read((reader) => streamsWithMetadata(reader, after, limit));
  }

  /**
   * Streams linked to any of `keys`, each once: by key in the given order, then in the
   * order they were linked.
   *
   * @param keys relation keys
   * @returns the streams
   */
  async getStreamsByKeys(keys: readonly string[]): Promise<string[]> {
    this.#connections.assertOpen();
    if (keys.length === 0) return [];
    return await this.#connections.read((reader) => streamsByKeys(reader, keys));
  }

  /**
   * Links or unlinks streams and relation keys, in one transaction.
   *
   * @param changes the changes, applied in order
   */
  async updateRelations(changes: readonly RelationChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.#connections.write((writer) => applyRelations(writer, changes));
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
    return await this.#connections.read((reader) => readSnapshot(reader, this.codec, name, stream));
  }

  /**
   * Saves a snapshot, replacing the one with the same name and stream.
   *
   * @param snapshot the snapshot
   */
  async putSnapshot(snapshot: Snapshot): Promise<void> {
    const state = this.codec.encode(snapshot.state);
    await this.#connections.write((writer) => writeSnapshot(writer, snapshot, state));
  }

  /**
   * Removes a snapshot (nothing happens when there is none).
   *
   * @param name reducer or aggregate name
   * @param stream stream or relation key
   */
  async deleteSnapshot(name: string, stream: string): Promise<void> {
    await this.#connections.write((writer) => removeSnapshot(writer, name, stream));
  }

  /**
   * The checkpoint called `name`.
   *
   * @param name subscription name
   * @returns the checkpoint, or `undefined`
   * @throws {DecodeError} when its saved state does not decode
   */
  async getCheckpoint(name: string): Promise<Checkpoint | undefined> {
    return await this.#connections.read((reader) => readCheckpoint(reader, this.codec, this.location, name));
  }

  /**
   * All checkpoints, by name.
   *
   * @returns the checkpoints
   * @throws {DecodeError} when a saved state does not decode
   */
  async listCheckpoints(): Promise<Checkpoint[]> {
    return await this.#connections.read((reader) => readCheckpoints(reader, this.codec, this.location));
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
    return await this.#connections.write((writer) => setCheckpoint(writer, this.codec, name, expected, next));
  }

  /**
   * Removes a checkpoint (nothing happens when there is none).
   *
   * @param name subscription name
   */
  async deleteCheckpoint(name: string): Promise<void> {
    await this.#connections.write((writer) => removeCheckpoint(writer, name));
  }

  /**
   * Parks an event of a subscription, replacing an earlier parking of the same event.
   *
   * @param event the event, the error and the attempts
   */
  async parkEvent(event: ParkedEvent): Promise<void> {
    await this.#connections.write((writer) => parkEvent(writer, event));
  }

  /**
   * Parked events of subscription `name` (of all when absent), in position order.
   *
   * @param name subscription name
   * @returns the parked events
   */
  async listParked(name?: string): Promise<ParkedEvent[]> {
    return await this.#connections.read((reader) => listParked(reader, name));
  }

  /**
   * Removes a parked event.
   *
   * @param name subscription name
   * @param id event id
   * @returns whether it was parked
   */
  async unparkEvent(name: string, id: string): Promise<boolean> {
    return await this.#connections.write((writer) => unparkEvent(writer, name, id));
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
    const taken = await this.#connections.write((writer) => takeLease(writer, name, owner, Date.now() + ttl));
    if (!taken) return undefined;
    let released = false;
    return {
      renew: async () =>
        !released &&
        await this.#connections.write((writer) => renewLease(writer, name, owner, Date.now() + ttl)),
      release: async () => {
        if (released) return;
        released = true;
        if (!this.#connections.closed) {
          await this.#connections.write((writer) => dropLease(writer, name, owner));
        }
      },
    };
  }

  /**
   * Which of `names` are leased now: a lease row that has not expired, in any process.
   *
   * @param names lease names
   * @returns those held, in the order given
   */
  async heldLeases(names: readonly string[]): Promise<string[]> {
    this.#connections.assertOpen();
    return await this.#connections.read((reader) => heldLeases(reader, names));
  }

  /**
   * The data keys of the subjects that have one.
   *
   * @param subjects the subjects
   * @returns subject to key (each a fresh copy); subjects without a key are left out
   */
  async getKeys(subjects: readonly string[]): Promise<Map<string, Uint8Array>> {
    this.#connections.assertOpen();
    if (subjects.length === 0) return new Map();
    return await this.#connections.read((reader) => readKeys(reader, subjects));
  }

  /**
   * Stores `key` as the data key of `subject` unless it has one, in one transaction on the
   * write connection, and returns the key it has now: of two adapters (or processes)
   * racing, both get the key stored first.
   *
   * @param subject the subject
   * @param key 32 random bytes
   * @returns `key`, or the key stored before
   * @throws {TypeError} for an empty subject or a key that is not a `Uint8Array` of 32 bytes
   */
  async createKey(subject: string, key: Uint8Array): Promise<Uint8Array> {
    checkSubject(subject);
    checkKey(key);
    return await this.#connections.write((writer) => insertKey(writer, subject, key));
  }

  /**
   * Destroys the data key of `subject`. The row is deleted with `secure_delete` on, so
   * SQLite overwrites its bytes, then a WAL checkpoint (`TRUNCATE`) carries the overwritten
   * page into the file and empties the WAL. The checkpoint is best effort: while another
   * connection reads an older snapshot, or when called inside a transaction, the WAL keeps
   * the old frames until a later checkpoint.
   *
   * @param subject the subject
   * @returns true when a key was destroyed, false when there was none
   * @throws {TypeError} for an empty subject
   */
  async deleteKey(subject: string): Promise<boolean> {
    checkSubject(subject);
    const deleted = await this.#connections.write((writer) => removeKey(writer, subject));
    if (deleted) await this.#connections.betweenTransactions(checkpointQuietly);
    return deleted;
  }

  /**
   * Counts events after `position`.
   *
   * @param position exclusive; `null` counts every event
   * @returns the count
   */
  async countAfter(position: string | null): Promise<number> {
    const after = position === null ? 0 : parsePosition(position);
    return await this.#connections.read((reader) => countAfterRow(reader, after));
  }

  /**
   * Counts events and streams and reads the head position, from one read snapshot.
   *
   * @returns the stats
   */
  async stats(): Promise<AdapterStats> {
    return await this.#connections.read(readStats);
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
    this.#connections.assertOpen();
    return this.#watch.add(listener);
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
    this.#watch.stop();
    await this.#connections.close();
  }
}
