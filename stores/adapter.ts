/**
 * The storage `Adapter` interface. {@linkcode EventStore} holds all the logic
 * (validation, expected revisions, idempotency, import flags, hooks, reducers,
 * aggregates); an adapter only stores, reads and locks. `MemoryAdapter`, `SqliteAdapter`
 * and `PostgresAdapter` implement it, and `runConformance` from `./testing` checks that a
 * third-party adapter behaves the same.
 *
 * Positions are strings that sort (`<`, code-unit order) in the adapter's global read
 * order. Adapters that count with integers zero-pad them (see {@linkcode formatPosition}).
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";

/** A record ready to insert: the store has assigned its revision and decided `outdated`. */
export interface InsertableRecord {
  /** Unique id. */
  readonly id: string;
  /** Stream. */
  readonly stream: string;
  /** Event type. */
  readonly type: string;
  /** Payload (`null` when none); the adapter encodes it with its codec. */
  readonly data: unknown;
  /** Metadata (`null` when none). */
  readonly meta: unknown;
  /** Revision in its stream, assigned by the store (contiguous from 1). */
  readonly revision: number;
  /** When the producer made it. */
  readonly created: string;
  /** Whether it was imported behind a newer event of its type in its stream. */
  readonly outdated: boolean;
  /** Whether it came in through `import()`; an adapter stores it and returns it on reads. */
  readonly imported?: boolean;
}

/** A change to the relations table, made in the same transaction as events. */
export interface RelationChange {
  /** `insert` links `key` to `stream`; `remove` unlinks it. */
  readonly op: "insert" | "remove";
  /** The relation key. */
  readonly key: string;
  /** The stream. */
  readonly stream: string;
}

/**
 * Thrown by {@linkcode AdapterTransaction.insert} when an id already exists. The store
 * rolls the transaction back and tries again, leaving the existing ids out (so appending
 * an id that exists is a no-op).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DuplicateIdError } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const adapter = new MemoryAdapter();
 * const record = { id: "e1", stream: "s", type: "tick", data: null, meta: null, revision: 1, created: "2025-01-01T00:00:00.000Z", outdated: false };
 * await adapter.transaction((tx) => tx.insert([record]));
 * await assert.rejects(adapter.transaction((tx) => tx.insert([{ ...record, revision: 2 }])), DuplicateIdError);
 * ```
 */
export class DuplicateIdError extends Error {
  /** The ids that exist already (at least one). */
  readonly ids: readonly string[];
  /**
   * Creates it.
   *
   * @param ids the ids found to exist
   */
  constructor(ids: readonly string[]) {
    super(`Event ids exist already: ${ids.join(", ")}`);
    this.name = "DuplicateIdError";
    this.ids = ids;
  }
}

/**
 * Thrown by {@linkcode AdapterTransaction.insert} when another writer took a revision of
 * `stream` between {@linkcode AdapterTransaction.revisions} and the insert (only adapters
 * whose writers are not serialised can see this). The store rolls back, rereads and
 * either retries (expected `"any"`) or reports a `ConcurrencyError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RevisionConflictError } from "@eventfold/eventfold";
 * // An adapter's insert() turns the driver's unique (stream, revision) violation into this:
 * const error = new RevisionConflictError("order-7", { cause: new Error("unique violation") });
 * assert(error.stream === "order-7" && error.cause instanceof Error);
 * ```
 */
export class RevisionConflictError extends Error {
  /** The stream that moved. */
  readonly stream: string;
  /**
   * Creates it.
   *
   * @param stream the stream that another writer appended to
   * @param options the driver's error as `cause`
   */
  constructor(stream: string, options?: ErrorOptions) {
    super(`Another writer appended to stream "${stream}"`, options);
    this.name = "RevisionConflictError";
    this.stream = stream;
  }
}

/**
 * One write transaction. Everything done through it commits together when the
 * function given to {@linkcode Adapter.transaction} resolves, and nothing of it when
 * that function throws.
 *
 * @typeParam THandle the driver's transaction handle, given to in-transaction listeners
 */
export interface AdapterTransaction<THandle = unknown> {
  /** The driver's handle for this transaction (SQLite database, postgres.js `sql`, memory staging). */
  readonly handle: THandle;
  /**
   * The current revision of each stream (0 for a stream with no events). May lock the
   * streams until the end of the transaction.
   *
   * Within a stream, position order must equal revision order. An adapter whose position
   * comes from the writing transaction (PostgreSQL's transaction id) must therefore take
   * the stream locks before the transaction gets that id: on PostgreSQL, transaction-level
   * advisory locks (which assign no transaction id) in sorted order, not row locks
   * (`SELECT ... FOR UPDATE` or an upsert assigns the id before waiting for the lock, so a
   * writer could hold an older id than the one it waited for).
   */
  revisions(streams: readonly string[]): Promise<Map<string, number>>;
  /** Which of `ids` are stored already. */
  existing(ids: readonly string[]): Promise<Set<string>>;
  /**
   * The greatest `created` among the events of `type` in `stream` (`null` when there is
   * none). Imports use it to decide `outdated`, once per stream and type of a call.
   */
  latestCreated(stream: string, type: string): Promise<string | null>;
  /**
   * Optional: {@linkcode AdapterTransaction.latestCreated} for many pairs in one call.
   * Imports ask for every stream and type of a chunk at once; an adapter whose queries
   * cost a round trip each (PostgreSQL) answers them in one statement.
   *
   * @returns the greatest `created` (or `null`) of each pair, in the order given
   */
  latestCreatedMany?(pairs: readonly { stream: string; type: string }[]): Promise<(string | null)[]>;
  /**
   * Inserts records, in the given order, and returns them stored: with `position`
   * (increasing in the given order) and `recorded` (the insert time). `final` tells that
   * nothing else will be done in this transaction: an adapter may then commit together
   * with the insert (PostgreSQL saves a round trip); others ignore it.
   *
   * @throws {DuplicateIdError} when an id exists (the transaction must then be abandoned)
   * @throws {RevisionConflictError} when a revision was taken by another writer
   */
  insert(records: readonly InsertableRecord[], options?: { final?: boolean }): Promise<EventRecord[]>;
  /** Applies relation changes. */
  relate(changes: readonly RelationChange[]): Promise<void>;
  /**
   * {@linkcode Adapter.compareAndSetCheckpoint} inside this transaction, so a
   * subscription's read-model writes and its checkpoint commit together (or neither).
   */
  saveCheckpoint(name: string, expected: string | null, next: CheckpointUpdate): Promise<boolean>;
  /** {@linkcode Adapter.parkEvent} inside this transaction. */
  parkEvent(event: ParkedEvent): Promise<void>;
  /** {@linkcode Adapter.unparkEvent} inside this transaction. */
  unparkEvent(name: string, id: string): Promise<boolean>;
}

/** A page of one stream, in revision order. */
export interface StreamPageQuery {
  /** First revision to return, inclusive (default: 1 forward, the last backward). */
  readonly fromRevision?: number;
  /** `"backward"` returns revisions from `fromRevision` downward. */
  readonly direction: "forward" | "backward";
  /** At most this many records. */
  readonly limit: number;
  /** Only these types (all when absent). */
  readonly types?: readonly string[];
}

/** A page of the log, in position order. */
export interface LogPageQuery {
  /** Exclusive: only positions past this one in the reading direction (above it forward, below it backward). */
  readonly cursor?: string;
  /** `"backward"` reads from the newest position down. */
  readonly direction: "forward" | "backward";
  /** At most this many records. */
  readonly limit: number;
  /** Only these types. */
  readonly types?: readonly string[];
  /** Only these streams. */
  readonly streams?: readonly string[];
  /**
   * Set on the first page of a read: before reading, wait (a bounded time) until events
   * committed before the read began are readable. Adapters whose readers never lag
   * behind commits ignore it.
   */
  readonly settle?: boolean;
}

/** A stored snapshot of a reducer's or aggregate's state. */
export interface Snapshot {
  /** The reducer or aggregate name. */
  readonly name: string;
  /** The stream, or the relation key for a relation fold. */
  readonly stream: string;
  /** The state (the adapter encodes it with its codec). */
  readonly state: unknown;
  /** For a stream fold: the last revision the state covers. */
  readonly revision: number | null;
  /** For a relation fold: the last position the state covers. */
  readonly position: string | null;
  /** The reducer version that made it; another version ignores it. */
  readonly version: number;
}

/** A named position a subscription has handled up to. */
export interface Checkpoint {
  /** The subscription name. */
  readonly name: string;
  /** The last position handled (`null` before any). */
  readonly position: string | null;
  /** When it was last saved (ISO-8601). */
  readonly updated: string;
  /** Optional saved state (a projection's whole read model), encoded by the adapter. */
  readonly state?: unknown;
  /** Version of that state. */
  readonly version?: number;
}

/**
 * The new value of a checkpoint, given to a compare-and-set.
 *
 * @example
 * ```ts
 * import type { CheckpointUpdate } from "@eventfold/eventfold";
 * const startOver: CheckpointUpdate = { position: null, version: 2 };
 * ```
 */
export interface CheckpointUpdate {
  /** The last position handled (`null`: none, the subscription starts over). */
  readonly position: string | null;
  /** Optional saved state (a projection's whole read model), encoded by the adapter. */
  readonly state?: unknown;
  /** Version of the projection that saved it. */
  readonly version?: number;
}

/**
 * An event a subscription could not handle after its retries, set aside so the rest of
 * the log keeps flowing. Stored per (`name`, `id`); parking the same event again replaces it.
 *
 * @example
 * ```ts
 * import type { ParkedEvent } from "@eventfold/eventfold";
 * const describe = (event: ParkedEvent) => `${event.type} ${event.id} failed ${event.attempts}x: ${event.error}`;
 * ```
 */
export interface ParkedEvent {
  /** The subscription name. */
  readonly name: string;
  /** The event id. */
  readonly id: string;
  /** The event's position. */
  readonly position: string;
  /** The event's stream. */
  readonly stream: string;
  /** The event's type. */
  readonly type: string;
  /** Whether it was delivered hydrated (a replay delivers it the same way). */
  readonly hydrated: boolean;
  /** The last error, as text. */
  readonly error: string;
  /** How many times a handler was tried. */
  readonly attempts: number;
  /** When it was parked (ISO-8601). */
  readonly parked: string;
}

/**
 * A lease on a subscription name, from {@linkcode Adapter.acquireLease}: while it is
 * held, no other holder (in this or another process) gets the same name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const adapter = new MemoryAdapter();
 * const lease = await adapter.acquireLease("read-model", "me", 5000);
 * assert(lease !== undefined && await adapter.acquireLease("read-model", "other", 5000) === undefined);
 * await lease.release();
 * ```
 */
export interface Lease {
  /**
   * Keeps the lease alive; call it more often than the lease's time to live. Resolves
   * `false` once the lease is lost (it expired and another holder took it, or the
   * connection that held it died); the holder must then stop handling events.
   */
  renew(): Promise<boolean>;
  /** Gives the lease up, so another holder can take it at once. Idempotent. */
  release(): Promise<void>;
}

/** What the store knows of itself, for `info` and lag reports. */
export interface AdapterStats {
  /** Number of events. */
  readonly events: number;
  /** Number of streams. */
  readonly streams: number;
  /** The highest position readable now, `null` when empty. */
  readonly head: string | null;
}

/**
 * The storage interface every backend implements. Stores serialise or lock their own
 * writers; the {@linkcode EventStore} never assumes a single process.
 *
 * @typeParam THandle the transaction handle type given to in-transaction listeners
 */
export interface Adapter<THandle = unknown> {
  /** A short name of the backend: `"memory"`, `"sqlite"`, `"postgres"`. */
  readonly kind: string;
  /** Where the events live, for messages: a path or a URL without its password. */
  readonly source: string;
  /** Runs `work` in one write transaction: all of it commits, or (when it throws) none of it. */
  transaction<T>(work: (tx: AdapterTransaction<THandle>) => Promise<T>): Promise<T>;
  /** One page of a stream. Reads see committed events only. */
  readStream(stream: string, query: StreamPageQuery): Promise<EventRecord[]>;
  /** One page of the log. A reader never later receives a position below one it has read. */
  readLog(query: LogPageQuery): Promise<EventRecord[]>;
  /** Fetches stored events by id (missing ids are left out). */
  getByIds(ids: readonly string[]): Promise<EventRecord[]>;
  /** Streams linked to any of `keys`, without repeats. */
  relationStreams(keys: readonly string[]): Promise<string[]>;
  /** Applies relation changes outside an event append. */
  relate(changes: readonly RelationChange[]): Promise<void>;
  /** The snapshot saved as (`name`, `stream`), if any. */
  getSnapshot(name: string, stream: string): Promise<Snapshot | undefined>;
  /** Saves a snapshot, replacing the one with the same (`name`, `stream`). */
  putSnapshot(snapshot: Snapshot): Promise<void>;
  /** Removes a snapshot. */
  deleteSnapshot(name: string, stream: string): Promise<void>;
  /** The checkpoint called `name`, if any. */
  getCheckpoint(name: string): Promise<Checkpoint | undefined>;
  /** All checkpoints, by name. */
  listCheckpoints(): Promise<Checkpoint[]>;
  /**
   * Sets checkpoint `name` to `next` only if it is at `expected` now (`null`: it must not
   * exist or have no position). Returns whether it was set.
   */
  compareAndSetCheckpoint(name: string, expected: string | null, next: CheckpointUpdate): Promise<boolean>;
  /** Removes a checkpoint. */
  deleteCheckpoint(name: string): Promise<void>;
  /** Parks an event of subscription `event.name`, replacing an earlier parking of the same event. */
  parkEvent(event: ParkedEvent): Promise<void>;
  /** The parked events of subscription `name` (of every subscription when absent), in position order. */
  listParked(name?: string): Promise<ParkedEvent[]>;
  /** Removes a parked event; returns whether it was parked. */
  unparkEvent(name: string, id: string): Promise<boolean>;
  /**
   * Takes the lease on subscription `name` for `owner`, or returns `undefined` when
   * another owner holds it. Stores that cannot tell when a holder dies (SQLite) expire an
   * unrenewed lease after `ttl` ms; PostgreSQL holds a session advisory lock, released the
   * moment the holder's connection dies; memory holds it in the adapter.
   */
  acquireLease(name: string, owner: string, ttl: number): Promise<Lease | undefined>;
  /** How many events readable now sort after `position` (all of them for `null`): a reader's lag. */
  countAfter(position: string | null): Promise<number>;
  /** Counts and head position. */
  stats(): Promise<AdapterStats>;
  /**
   * Calls `listener` whenever events committed by another connection or process may have
   * become readable (PostgreSQL `LISTEN/NOTIFY`, a cheap SQLite change check). Returns a
   * function that stops watching. Readers never depend on it alone: they also poll.
   */
  watch?(listener: () => void): () => void;
  /** Closes what this adapter opened (not a client it was handed). Idempotent. */
  close(): Promise<void>;
}

/**
 * Formats an integer position as a zero-padded string that sorts like the number.
 *
 * @param n a non-negative safe integer
 * @returns 16 digits
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPosition } from "@eventfold/eventfold";
 * assert(formatPosition(42) === "0000000000000042");
 * ```
 */
export function formatPosition(n: number): string {
  return String(n).padStart(16, "0");
}

/**
 * Parses a position made by {@linkcode formatPosition}.
 *
 * @param position the position string
 * @returns its integer
 * @throws {RangeError} when it is not such a position
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePosition } from "@eventfold/eventfold";
 * assert(parsePosition("0000000000000042") === 42);
 * ```
 */
export function parsePosition(position: string): number {
  if (typeof position !== "string" || !/^\d{1,16}$/.test(position)) {
    throw new RangeError(
      `Not a position of this store: ${JSON.stringify(position)} (expected up to 16 digits)`,
    );
  }
  return Number(position);
}
