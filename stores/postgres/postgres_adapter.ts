/**
 * `PostgresAdapter`: the storage adapter for PostgreSQL (13 or newer), on postgres.js.
 *
 * @module
 */

import { StoreClosedError } from "../../errors.ts";
import type { EventRecord } from "../../events/record.ts";
import type {
  Adapter,
  AdapterStats,
  AdapterTransaction,
  Checkpoint,
  CheckpointUpdate,
  Lease,
  LogPageQuery,
  ParkedEvent,
  RelationChange,
  Snapshot,
  StreamPageQuery,
  StreamStatus,
  TransactionOptions,
} from "../../contract/mod.ts";
import { type Codec, resolveCodec } from "../codec.ts";
import type { PostgresClient, PostgresOptions, PostgresTransactionSql } from "./client.ts";
import { channelOf, Notifier, Watcher } from "./_notify.ts";
import { checkSchemaName, connect, type Driver } from "./_options.ts";
import type { Query } from "./_rows.ts";
import { openContext } from "./_opening.ts";
import { type Context, runTransaction } from "./_transaction.ts";
import { committedReadable, countAfter, type PostgresLag, readLag, readStats } from "./_horizon.ts";
import { readByIds, readLogPage, readStreamPage } from "./_log_reads.ts";
import { streamsByKeys } from "./_relations.ts";
import { readStreamStatus, streamsWithMetadata } from "./_lifecycle.ts";
import { readSnapshot, removeSnapshot, writeSnapshot } from "./_snapshots.ts";
import { insertKey, readKeys, removeKey } from "./_keys.ts";
import { checkKey, checkSubject } from "../_key_input.ts";
import {
  listParked,
  parkEvent,
  readCheckpoint,
  readCheckpoints,
  removeCheckpoint,
  setCheckpoint,
  unparkEvent,
} from "./_subscriptions.ts";
import { heldLeases, LeaseSession } from "./_leases.ts";
import { lostOr } from "./_connection_loss.ts";
import { Reservations } from "./_reserved.ts";
import { GroupCommit } from "./_group_commit.ts";
import { watchDriverConnections } from "./_driver_rejections.ts";

/** Options of {@linkcode PostgresAdapter}. */
export interface PostgresAdapterOptions {
  /**
   * The schema holding the store's tables, created on first use (default `"eventfold"`).
   * Any name PostgreSQL accepts quoted, except one with a dot or starting with `pg_`.
   */
  readonly schema?: string;
  /**
   * The payload codec for a new schema (default `"cbor"`, stored in `bytea`; `"json"` is
   * stored in `jsonb`). An existing schema keeps the codec it was created with: leave this
   * out to use it, or pass the same one.
   */
  readonly codec?: "cbor" | "json" | Codec;
  /**
   * How long a log read waits, at most, for events committed before it began to become
   * readable while an older transaction elsewhere holds the read horizon back (default
   * 10000 ms; 0 never waits). Waiting never skips anything; it only makes a read complete.
   */
  readonly visibilityWait?: number;
}

/** Where the adapter connects: a URL, connection options, or a postgres.js client to use as it is. */
export type PostgresTarget = string | URL | PostgresOptions | PostgresClient;

export type { PostgresLag } from "./_horizon.ts";

const DEFAULT_SCHEMA = "eventfold";

/**
 * Stores events in PostgreSQL, for many processes on many machines sharing one database.
 *
 * **Global order.** An event's position is the id of the transaction that wrote it and a
 * sequence number (see {@linkcode formatPostgresPosition}). Sequence numbers are taken at
 * insert but become visible at commit, in another order; so `readLog` only returns
 * events of transactions older than the oldest one still running
 * (`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`). Every such transaction
 * has ended, and every later one sorts after them, so a reader that has seen a position
 * never receives an event sorting before it, whatever the commit interleaving.
 *
 * **Long transactions.** The price: while a transaction that has written something (in
 * any table of any database on the server, including a prepared one) stays open, log
 * readers see no events of transactions that started writing after it did. They wait;
 * they skip nothing; everything arrives, in order, when it ends. Keep write transactions
 * short, and watch {@linkcode PostgresAdapter.lag}: it reports how many committed events
 * are held back and by which transaction (process id, age). Stream reads (`readStream`)
 * are not held back. The first page of a log read (`settle`, set by the store's
 * `readAll`) first waits (up to `visibilityWait` ms, default 10 s) until the events
 * committed before it began are readable, so a read returns everything committed when it
 * began, and a process reads its own writes.
 *
 * **Writers** of one stream serialise on a transaction-level advisory lock of the stream,
 * taken before the transaction has an id (so within a stream, position order is revision
 * order), and a unique
 * `(stream, revision)` constraint makes a duplicate revision impossible. After an append
 * commits, the adapter sends `pg_notify` on {@linkcode PostgresAdapter.channel} (after,
 * not inside: PostgreSQL serialises the commits of notifying transactions);
 * `watch()` listens for it. Readers also poll: nothing depends on a notification.
 *
 * **Lost connections.** When a connection dies under a call (the backend terminated, the
 * server restarted or failed over, the network cut), the call settles at once with
 * {@linkcode ConnectionLostError} instead of hanging; for an append its
 * `mayHaveCommitted` says whether `COMMIT` had been sent, and appending the same events
 * again (same ids) is safe either way. Calls made while the server is away fail the same
 * way, quickly; the pool reconnects as soon as it is back (pauses between attempts are
 * capped at one second on clients the adapter makes), and the lease connection and the
 * `LISTEN` of `watch()` are made again (leases held on the lost session are lost:
 * `renew()` answers false).
 *
 * **Deleting and truncating** a stream removes its rows (events; on delete also its
 * snapshots and relations) in the write transaction; its row in `streams` keeps the
 * highest revision it had, so revisions are never reused, and a tombstone. Log readers
 * past a position simply no longer see the removed events.
 *
 * **Payloads** are CBOR in `bytea` by default, or JSON in `jsonb` (object keys then come
 * back in `jsonb` order, and strings cannot hold `\u0000`). The codec is recorded in the
 * schema when it is created.
 *
 * @example
 * ```ts ignore
 * import { EventStore } from "@eventfold/eventfold";
 * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
 *
 * await using adapter = new PostgresAdapter("postgres://app@db.internal/app", { schema: "events" });
 * const store = new EventStore({ adapter, events });
 * ```
 */
export class PostgresAdapter implements Adapter<PostgresTransactionSql> {
  /** Always `"postgres"`. */
  readonly kind: string = "postgres";
  /** `readLog` honours `partition`. */
  readonly partitionReads = true;
  /** The server as `postgres://user@host:port/database` and the schema; never a password. */
  readonly location: string;
  /**
   * The same as `location`.
   *
   * @deprecated use `location`; `source` goes in the next release.
   */
  get source(): string {
    return this.location;
  }
  /** The schema holding the tables. */
  readonly schema: string;
  /** The `LISTEN/NOTIFY` channel notified after appends commit (derived from the schema name). */
  readonly channel: string;
  readonly #sql: Driver;
  readonly #owned: boolean;
  readonly #secrets: readonly string[];
  readonly #codec: Codec | undefined;
  readonly #watcher: Watcher;
  readonly #notifier: Notifier;
  readonly #leases: LeaseSession;
  readonly #reservations: Reservations;
  readonly #groups: GroupCommit;
  #opening: Promise<Context> | undefined;
  readonly #visibilityWait: number;
  #closing: Promise<void> | undefined;

  /**
   * Makes an adapter. Nothing connects until the first call; that call creates or
   * migrates the schema.
   *
   * @param target a `postgres://` URL, connection options, or a postgres.js client (which
   *   the adapter then uses but never ends)
   * @param options the schema name and codec
   * @throws {TypeError} for a URL that cannot be parsed, an invalid schema name or an unknown codec
   * @throws {RangeError} for a schema name longer than 63 bytes
   * @example
   * ```ts ignore
   * import postgres from "postgres";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   *
   * const sql = postgres("postgres://app@localhost/app", { max: 20 });
   * const adapter = new PostgresAdapter(sql, { schema: "billing_events", codec: "json" });
   * ```
   */
  constructor(target: PostgresTarget, options: PostgresAdapterOptions = {}) {
    this.schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
    this.#codec = options.codec === undefined ? undefined : resolveCodec(options.codec);
    const wait = options.visibilityWait ?? 10_000;
    if (!Number.isSafeInteger(wait) || wait < 0) {
      throw new RangeError(`visibilityWait must be a whole number of milliseconds (0 or more), got ${wait}`);
    }
    this.#visibilityWait = wait;
    const connection = connect(target);
    this.#sql = connection.sql;
    this.#owned = connection.owned;
    if (connection.owned) {
      const options = this.#sql.options as { host?: string[]; port?: number[]; path?: string | false };
      watchDriverConnections(
        options.path ? [options.path] : options.host ?? [],
        options.port ?? [],
      );
    }
    this.#secrets = connection.secrets;
    this.location = `${connection.location} (schema ${JSON.stringify(this.schema)})`;
    this.channel = channelOf(this.schema);
    this.#watcher = new Watcher(this.#sql, this.channel);
    this.#notifier = new Notifier(this.#sql, this.channel);
    this.#reservations = new Reservations(this.#sql);
    this.#groups = new GroupCommit(this.#reservations);
    this.#leases = new LeaseSession(this.#reservations, this.schema, this.location);
  }

  /**
   * The postgres.js client (for read models kept in the same database), typed as the part
   * of it described by {@linkcode PostgresClient}; the client handed in, when one was. A
   * getter, not a field, so printing the adapter never shows the client's options and
   * their password.
   *
   * @returns the client
   */
  get sql(): PostgresClient {
    return this.#sql as unknown as PostgresClient;
  }

  /**
   * What `Deno.inspect` and `console.log` show: the kind, source and schema, never the
   * client or a password.
   *
   * @returns a short description
   */
  [Symbol.for("Deno.customInspect")](): string {
    return this.#describe();
  }

  /**
   * The same as the Deno inspector's description, for Node's `util.inspect`.
   *
   * @returns a short description
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.#describe();
  }

  #describe(): string {
    return `PostgresAdapter { location: ${JSON.stringify(this.location)}, channel: ${
      JSON.stringify(this.channel)
    } }`;
  }

  /** The error to throw for `error`; a lost connection makes the next reservation careful. */
  #lost(error: unknown, operation: string): unknown {
    const mapped = lostOr(error, operation, this.location);
    if (mapped !== error) this.#reservations.suspect();
    return mapped;
  }

  /** Runs `work`, turning a lost connection into {@linkcode ConnectionLostError} of `operation`. */
  async #guarded<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.#lost(error, operation);
    }
  }

  get #q(): Query {
    return this.#sql as unknown as Query;
  }

  #ready(): Promise<Context> {
    if (this.#closing !== undefined) {
      return Promise.reject(new StoreClosedError(`PostgreSQL store ${this.location}`));
    }
    this.#opening ??= this.#open().catch((error) => {
      // A later call tries again (the server may come up).
      this.#opening = undefined;
      throw error;
    });
    return this.#opening;
  }

  #open(): Promise<Context> {
    return openContext({
      sql: this.#sql,
      schema: this.schema,
      codec: this.#codec,
      location: this.location,
      secrets: this.#secrets,
      lost: (error, operation) => this.#lost(error, operation),
    });
  }

  /**
   * Opens the store now: connects and creates or migrates the schema. Other calls do
   * this on first use; call it to fail early.
   *
   * @returns once the schema is ready
   * @throws {ConnectionLostError} when the server cannot be reached (refused, timed out,
   *   starting up): retry later, the next call connects again
   * @throws {StoreOpenError} when the server refuses the login, the database does not
   *   exist or the schema is newer than this version
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * await adapter.open(); // at startup: a wrong URL or password fails here, not on the first append
   * ```
   */
  async open(): Promise<void> {
    await this.#ready();
  }

  /**
   * The codec of the schema: the one recorded in it (opening the store when needed).
   *
   * @returns the codec
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * console.log((await adapter.codec()).name); // "cbor" unless the schema was created with "json"
   * ```
   */
  async codec(): Promise<Codec> {
    return (await this.#ready()).payloads.codec;
  }

  /**
   * Runs `work` in one transaction. The handle works like a postgres.js `sql.begin`
   * transaction (tagged templates, `unsafe`, `savepoint`), so in-transaction listeners
   * can write to their own tables atomically.
   *
   * With `shared: true` (the store's plain appends), works that arrive while earlier
   * transactions are in flight share one transaction (group commit: one lock statement,
   * one insert and one `COMMIT` for all of them), each keeping its own revision checks
   * and errors; a shared work has no handle.
   *
   * @param work what to do; its result is returned after the commit
   * @param options whether the work may share its transaction (see `TransactionOptions`)
   * @returns the result of `work`
   * @throws whatever `work` throws, after the rollback
   * @throws {ConnectionLostError} when the connection died before the commit was confirmed
   *   (`mayHaveCommitted` says whether `COMMIT` had been sent)
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * await adapter.transaction(async (tx) => {
   *   await tx.updateRelations([{ op: "insert", key: "team:t1", stream: "u1" }]);
   *   await tx.handle`INSERT INTO app.audit (note) VALUES (${"u1 joined t1"})`;
   * });
   * ```
   */
  async transaction<T>(
    work: (tx: AdapterTransaction<PostgresTransactionSql>) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T> {
    const context = await this.#ready();
    const { result, transactionId } = options?.shared === true
      ? await this.#groups.run(context, work, this.location)
      : await runTransaction(this.#reservations, context, work, this.location);
    if (transactionId !== undefined) this.#notifier.poke();
    return result;
  }

  /**
   * Waits until every event committed before this call is below the read horizon, so a
   * log read returns all that was committed when it began (in particular a process reads
   * its own writes), even while an older transaction elsewhere holds the horizon back.
   * Gives up after `visibilityWait` ms: the read then returns what is readable, still
   * skipping nothing.
   */
  #committedReadable(): Promise<void> {
    return committedReadable(this.#q, this.schema, this.#visibilityWait);
  }

  /**
   * One page of a stream, in revision order (or reversed). Stream reads are not held back
   * by open transactions elsewhere: they see every committed event of the stream.
   *
   * @param stream the stream
   * @param query where to start, direction, limit and types
   * @returns the records of the page
   * @throws {RangeError} for a negative limit
   * @throws {DecodeError} when a payload on the page does not decode
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * const page = await adapter.readStream("order-7", { direction: "backward", limit: 1 });
   * assert(page.length <= 1); // the newest event of the stream, if any
   * ```
   */
  readStream(stream: string, query: StreamPageQuery): Promise<EventRecord[]> {
    return this.#guarded("readStream", async () => {
      const { payloads } = await this.#ready();
      return await readStreamPage(this.#q, this.schema, payloads, stream, query);
    });
  }

  /**
   * One page of the log, in position order. Only events of transactions older than the
   * oldest one still running are returned (see the class notes), so paging forward with
   * the last position as cursor never misses an event that commits late. With `settle`
   * (the first page of a read), it first waits (up to `visibilityWait` ms) for the events
   * committed before it.
   *
   * @param query cursor, direction, limit, types and streams
   * @returns the records of the page
   * @throws {RangeError} for a cursor that is not a position of this store, or a negative limit
   * @throws {DecodeError} when a payload on the page does not decode
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * let cursor: string | undefined;
   * for (;;) {
   *   const page = await adapter.readLog({ after: cursor, direction: "forward", limit: 500 });
   *   if (page.length === 0) break;
   *   cursor = page[page.length - 1].position; // exclusive: the next page starts after it
   * }
   * ```
   */
  readLog(query: LogPageQuery): Promise<EventRecord[]> {
    return this.#guarded("readLog", async () => {
      const { payloads } = await this.#ready();
      // The first page of a read waits once (see `settle`); later pages and pollers go on from
      // where they are and pick the held-back events up when they become readable.
      if (query.settle === true) await this.#committedReadable();
      return await readLogPage(this.#q, this.schema, payloads, query);
    });
  }

  /**
   * Stored events by id, in the order of `ids`; missing ids are left out.
   *
   * @param ids the ids
   * @returns the records found
   * @throws {DecodeError} when a payload does not decode
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * const store = new EventStore({ adapter, events: new EventFactory([event.type("tick")]) });
   * const record = await store.pushEvent(store.event({ type: "tick" }));
   * assert.deepEqual((await adapter.getByIds(["no-such-id", record.id])).map((r) => r.id), [record.id]);
   * ```
   */
  getByIds(ids: readonly string[]): Promise<EventRecord[]> {
    return this.#guarded("getByIds", async () => {
      const { payloads } = await this.#ready();
      return await readByIds(this.#q, this.schema, payloads, ids);
    });
  }

  /**
   * What is known of each stream beyond its events: its highest revision ever (removed
   * ones included), when it was deleted, whether with a tombstone, and where truncation
   * left it, and its retention rules. Streams never written, deleted or given metadata are
   * left out.
   *
   * @param streams the streams
   * @returns the status of each stream known
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * const status = (await adapter.streamStatus(["order-7"])).get("order-7");
   * if (status?.tombstoned) console.log("order-7 was deleted for good at revision", status.deletedAt);
   * ```
   */
  streamStatus(streams: readonly string[]): Promise<Map<string, StreamStatus>> {
    return this.#guarded("streamStatus", async () => {
      await this.#ready();
      return await readStreamStatus(this.#q, this.schema, streams);
    });
  }

  /**
   * The streams that have metadata, in name order, after `after`.
   *
   * @param after the last name of the previous page
   * @param limit at most this many
   * @returns their names
   */
  streamsWithMetadata(after: string | undefined, limit: number): Promise<string[]> {
    return this.#guarded("streamsWithMetadata", async () => {
      await this.#ready();
      return await streamsWithMetadata(this.#q, this.schema, after, limit);
    });
  }

  /**
   * Streams linked to any of `keys`, each once, sorted by name.
   *
   * @param keys relation keys
   * @returns the streams
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * await adapter.updateRelations([{ op: "insert", key: "team:t1", stream: "u2" }, { op: "insert", key: "team:t1", stream: "u1" }]);
   * assert.deepEqual(await adapter.getStreamsByKeys(["team:t1"]), ["u1", "u2"]);
   * ```
   */
  getStreamsByKeys(keys: readonly string[]): Promise<string[]> {
    return this.#guarded("getStreamsByKeys", async () => {
      await this.#ready();
      return await streamsByKeys(this.#q, this.schema, keys);
    });
  }

  /**
   * Links or unlinks streams and relation keys, in one transaction.
   *
   * @param changes the changes, applied in order
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * await adapter.updateRelations([{ op: "insert", key: "team:t1", stream: "u1" }, { op: "remove", key: "team:t0", stream: "u1" }]);
   * assert((await adapter.getStreamsByKeys(["team:t1"])).includes("u1"));
   * ```
   */
  async updateRelations(changes: readonly RelationChange[]): Promise<void> {
    const context = await this.#ready();
    if (changes.length === 0) return;
    await runTransaction(this.#reservations, context, (tx) => tx.updateRelations(changes), this.location);
  }

  /**
   * The snapshot saved as (`name`, `stream`).
   *
   * @param name reducer or aggregate name
   * @param stream stream or relation key
   * @returns the snapshot, or `undefined`
   * @throws {DecodeError} when its state does not decode
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * await adapter.putSnapshot({ name: "count", stream: "s", state: 2, revision: 2, position: null, version: 1 });
   * assert.equal((await adapter.getSnapshot("count", "s"))?.state, 2);
   * ```
   */
  getSnapshot(name: string, stream: string): Promise<Snapshot | undefined> {
    return this.#guarded("getSnapshot", async () => {
      const { payloads } = await this.#ready();
      return await readSnapshot(this.#q, this.schema, payloads, name, stream);
    });
  }

  /**
   * Saves a snapshot, replacing the one with the same name and stream.
   *
   * @param snapshot the snapshot
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * await adapter.putSnapshot({ name: "count", stream: "s", state: 3, revision: 3, position: null, version: 1 });
   * assert.equal((await adapter.getSnapshot("count", "s"))?.revision, 3);
   * ```
   */
  putSnapshot(snapshot: Snapshot): Promise<void> {
    return this.#guarded("putSnapshot", async () => {
      const { payloads } = await this.#ready();
      await writeSnapshot(this.#q, this.schema, payloads, snapshot);
    });
  }

  /**
   * Removes a snapshot (nothing happens when there is none).
   *
   * @param name reducer or aggregate name
   * @param stream stream or relation key
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * await adapter.deleteSnapshot("count", "s");
   * assert.equal(await adapter.getSnapshot("count", "s"), undefined);
   * ```
   */
  deleteSnapshot(name: string, stream: string): Promise<void> {
    return this.#guarded("deleteSnapshot", async () => {
      await this.#ready();
      await removeSnapshot(this.#q, this.schema, name, stream);
    });
  }

  /**
   * The data keys of the subjects that have one.
   *
   * @param subjects the subjects
   * @returns subject to key (each a fresh copy); subjects without a key are left out
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * const keys = await adapter.getKeys(["user-1", "user-2"]);
   * if (!keys.has("user-2")) console.log("user-2 has no key (never given one, or forgotten)");
   * ```
   */
  getKeys(subjects: readonly string[]): Promise<Map<string, Uint8Array>> {
    return this.#guarded("getKeys", async () => {
      await this.#ready();
      if (subjects.length === 0) return new Map();
      return await readKeys(this.#q, this.schema, subjects);
    });
  }

  /**
   * Stores `key` as the data key of `subject` unless it has one, and returns the key it
   * has now: of two adapters (or processes) racing, both get the key stored first.
   *
   * @param subject the subject
   * @param key 32 random bytes
   * @returns `key`, or the key stored before
   * @throws {TypeError} for an empty subject or a key that is not a `Uint8Array` of 32 bytes
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * const key = await adapter.createKey("user-1", crypto.getRandomValues(new Uint8Array(32)));
   * ```
   */
  async createKey(subject: string, key: Uint8Array): Promise<Uint8Array> {
    checkSubject(subject);
    checkKey(key);
    return await this.#guarded("createKey", async () => {
      await this.#ready();
      return await insertKey(this.#q, this.schema, subject, key);
    });
  }

  /**
   * Destroys the data key of `subject`. After the delete commits, the table is vacuumed
   * (best effort: a failing `VACUUM` is ignored) so the dead row's space is reclaimed.
   *
   * @param subject the subject
   * @returns true when a key was destroyed, false when there was none
   * @throws {TypeError} for an empty subject
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * if (await adapter.deleteKey("user-1")) console.log("user-1's encrypted fields are unreadable now");
   * ```
   */
  async deleteKey(subject: string): Promise<boolean> {
    checkSubject(subject);
    return await this.#guarded("deleteKey", async () => {
      await this.#ready();
      return await removeKey(this.#q, this.schema, subject);
    });
  }

  /**
   * The checkpoint called `name`.
   *
   * @param name subscription name
   * @returns the checkpoint, or `undefined`
   * @throws {DecodeError} when its saved state does not decode
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * const checkpoint = await adapter.getCheckpoint("read-model");
   * console.log(checkpoint?.position ?? "not started");
   * ```
   */
  getCheckpoint(name: string): Promise<Checkpoint | undefined> {
    return this.#guarded("getCheckpoint", async () => {
      const { payloads } = await this.#ready();
      return await readCheckpoint(this.#q, this.schema, payloads, name);
    });
  }

  /**
   * All checkpoints, by name.
   *
   * @returns the checkpoints
   * @throws {DecodeError} when a saved state does not decode
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * for (const { name, position } of await adapter.listCheckpoints()) console.log(name, position);
   * ```
   */
  listCheckpoints(): Promise<Checkpoint[]> {
    return this.#guarded("listCheckpoints", async () => {
      const { payloads } = await this.#ready();
      return await readCheckpoints(this.#q, this.schema, payloads);
    });
  }

  /**
   * Sets a checkpoint in one statement, only if it is at `expected` now: the row lock
   * makes the comparison and the write atomic against other savers.
   *
   * @param name subscription name
   * @param expected the position it must have now (`null`: missing or without position)
   * @param next the new position and optional state
   * @returns whether it was set
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * await adapter.deleteCheckpoint("read-model");
   * assert(await adapter.putCheckpoint("read-model", null, { position: null }));
   * assert(!(await adapter.putCheckpoint("read-model", "stale-position", { position: null })));
   * ```
   */
  putCheckpoint(
    name: string,
    expected: string | null,
    next: CheckpointUpdate,
  ): Promise<boolean> {
    return this.#guarded("putCheckpoint", async () => {
      const { payloads } = await this.#ready();
      return await setCheckpoint(this.#q, this.schema, payloads, name, expected, next);
    });
  }

  /**
   * Removes a checkpoint (nothing happens when there is none).
   *
   * @param name subscription name
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * await adapter.deleteCheckpoint("read-model"); // the subscription starts over
   * assert.equal(await adapter.getCheckpoint("read-model"), undefined);
   * ```
   */
  deleteCheckpoint(name: string): Promise<void> {
    return this.#guarded("deleteCheckpoint", async () => {
      await this.#ready();
      await removeCheckpoint(this.#q, this.schema, name);
    });
  }

  /**
   * Parks an event of a subscription, replacing an earlier parking of the same event.
   *
   * @param event the event, the error and the attempts
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * const [{ id, position, stream, type }] = await adapter.readStream("u1", { direction: "forward", limit: 1 });
   * const parked = new Date().toISOString();
   * await adapter.parkEvent({ name: "mailer", id, position, stream, type, hydrated: false, error: "timeout", attempts: 3, parked });
   * assert((await adapter.listParked("mailer")).some((event) => event.id === id));
   * ```
   */
  parkEvent(event: ParkedEvent): Promise<void> {
    return this.#guarded("parkEvent", async () => {
      await this.#ready();
      await parkEvent(this.#q, this.schema, event);
    });
  }

  /**
   * Parked events of subscription `name` (of all when absent, by name), in position order.
   *
   * @param name subscription name
   * @returns the parked events
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * for (const event of await adapter.listParked("mailer")) console.log(event.id, event.error);
   * ```
   */
  listParked(name?: string): Promise<ParkedEvent[]> {
    return this.#guarded("listParked", async () => {
      await this.#ready();
      return await listParked(this.#q, this.schema, name);
    });
  }

  /**
   * Removes a parked event.
   *
   * @param name subscription name
   * @param id event id
   * @returns whether it was parked
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * if (await adapter.unparkEvent("mailer", "e1")) console.log("e1 is no longer parked");
   * ```
   */
  unparkEvent(name: string, id: string): Promise<boolean> {
    return this.#guarded("unparkEvent", async () => {
      await this.#ready();
      return await unparkEvent(this.#q, this.schema, name, id);
    });
  }

  /**
   * Takes the lease on subscription `name` as a session-level advisory lock on the one
   * connection this adapter reserves for all its leases while any is held. PostgreSQL releases it the moment the holder's
   * session ends, so another process takes over as soon as the server notices a dead
   * holder (at once when its process is killed; after TCP keepalive when its machine
   * vanishes). `ttl` is not used.
   *
   * @param name subscription name
   * @param _owner unused: the session is the owner
   * @param _ttl unused
   * @returns the lease, or `undefined` when another session holds it
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * const lease = await adapter.acquireLease("read-model", crypto.randomUUID(), 30_000);
   * if (lease === undefined) console.log("another process runs read-model");
   * else await lease.release();
   * ```
   */
  acquireLease(name: string, _owner: string, _ttl: number): Promise<Lease | undefined> {
    return this.#guarded("acquireLease", async () => {
      await this.#ready();
      return await this.#leases.acquire(name);
    });
  }

  /**
   * Which of `names` are leased now, by any process: their advisory locks are held.
   *
   * @param names lease names
   * @returns those held, in the order given
   */
  heldLeases(names: readonly string[]): Promise<string[]> {
    return this.#guarded("heldLeases", async () => {
      await this.#ready();
      return await heldLeases(this.#q, this.schema, names);
    });
  }

  /**
   * Events readable after `position`, once the events committed before the call are readable
   * (it waits like the first page of a log read, up to `visibilityWait` ms).
   *
   * @param position exclusive; `null` counts every readable event
   * @returns the count
   * @throws {RangeError} for a position that is not one of this store
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * const checkpoint = await adapter.getCheckpoint("read-model");
   * console.log(`${await adapter.countAfter(checkpoint?.position ?? null)} events to go`);
   * ```
   */
  countAfter(position: string | null): Promise<number> {
    return this.#guarded("countAfter", async () => {
      await this.#ready();
      await this.#committedReadable();
      return await countAfter(this.#q, this.schema, position);
    });
  }

  /**
   * Counts events and streams; `head` is the newest position readers can see now. Like the
   * first page of a log read, it first waits (up to `visibilityWait` ms) for the events
   * committed before it, so `head` covers this process's own writes.
   *
   * @returns the stats
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * const { events, streams, head } = await adapter.stats();
   * assert(head !== null || events === 0);
   * console.log(`${events} events in ${streams} streams`);
   * ```
   */
  stats(): Promise<AdapterStats> {
    return this.#guarded("stats", async () => {
      await this.#ready();
      await this.#committedReadable();
      return await readStats(this.#q, this.schema);
    });
  }

  /**
   * How far a reader at `position` is behind: events it can read now, events committed
   * but held back by an open transaction, and that transaction.
   *
   * @param position the last position the reader handled (`null` or absent: none yet)
   * @returns the lag
   * @throws {RangeError} for a position that is not one of this store
   * @example
   * ```ts ignore
   * const lag = await adapter.lag(checkpoint.position);
   * if (lag.heldBy && lag.heldBy.ms! > 60_000) console.warn("a transaction has been open for a minute", lag.heldBy);
   * ```
   */
  lag(position?: string | null): Promise<PostgresLag> {
    return this.#guarded("lag", async () => {
      await this.#ready();
      return await readLag(this.#q, this.schema, position);
    });
  }

  /**
   * Calls `listener` when another connection (or this one) commits events: one shared
   * `LISTEN` on {@linkcode PostgresAdapter.channel}. A hint only; readers must poll too.
   *
   * @param listener called on each notification
   * @returns a function that stops this listener
   * @throws {StoreClosedError} after `close()`
   * @example
   * ```ts ignore
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * await using adapter = new PostgresAdapter("postgres://app@localhost/app");
   * const stop = adapter.watch(() => console.log("new events may be readable"));
   * stop();
   * ```
   */
  watch(listener: () => void): () => void {
    if (this.#closing !== undefined) throw new StoreClosedError(`PostgreSQL store ${this.location}`);
    return this.#watcher.add(listener);
  }

  /**
   * Stops watching and, when the adapter made the client, ends it (a handed-in client
   * stays open). Idempotent; later calls throw `StoreClosedError`.
   *
   * @returns when closed
   * @example
   * ```ts ignore
   * import assert from "node:assert/strict";
   * import { StoreClosedError } from "@eventfold/eventfold";
   * import { PostgresAdapter } from "@eventfold/eventfold/postgres";
   * const adapter = new PostgresAdapter("postgres://app@localhost/app");
   * await adapter.close();
   * await assert.rejects(adapter.stats(), StoreClosedError);
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([this.#watcher.close(), this.#notifier.close()]);
      // Let a schema migration in flight finish before ending its connection.
      await this.#opening?.catch(() => {});
      // postgres.js never counts a connection that died in the middle of a query as idle,
      // so `end` waits its whole timeout for it: after a loss, wait less.
      if (this.#owned) {
        await this.#sql.end({ timeout: this.#reservations.lossSeen ? 1 : 5 });
      }
    })();
    return this.#closing;
  }

  /** Same as {@linkcode PostgresAdapter.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
