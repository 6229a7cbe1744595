/**
 * `EventLog`: the part of an adapter that stores events: one write transaction at a
 * time per caller, stream and log pages, lookups by id, counts.
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";
import type { Partition } from "./partitions.ts";

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
  /**
   * The version of its definition the payload is at (absent: 1). The adapter stores it as
   * is, without checking or upcasting, and returns it as the record's `version`.
   */
  readonly version?: number;
}

/**
 * How an adapter's write transactions behave (see the module docs of `contract/adapter.ts`):
 * `"interactive"` (reads inside a transaction see and lock the current state, positions
 * are known at insert) or `"commit-checked"` (reads see the state at the start, writes
 * are staged, conflicts and positions are known only at commit).
 */
export type TransactionModel = "interactive" | "commit-checked";

/**
 * How {@linkcode EventLog.transaction} may run a work.
 *
 * `shared: true` promises that the work only reads revisions (once) and ids, inserts once
 * with `final: true` as its last call, writes nothing else, does nothing outside the
 * transaction, and may be run again. An adapter may then commit it in one transaction
 * together with other shared works arriving at the same time (group commit): each work
 * sees only the answers to its own calls, a work that throws fails alone (nothing of it
 * is written), and when the shared transaction fails as a whole for a reason other than a
 * lost connection, each work is run again in a transaction of its own, so every caller
 * gets the result or error it would have got alone. A lost connection fails every work of
 * the transaction that had not settled.
 */
export interface TransactionOptions {
  /** The work may share its transaction with other shared works (see above). */
  readonly shared?: boolean;
}

/** The event part of one write transaction. */
export interface EventLogTransaction {
  /**
   * The current revision of each stream (0 for a stream with no events). An interactive
   * adapter may lock the streams until the end of the transaction; a commit-checked one
   * remembers what it answered and checks it at commit.
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
   * Optional: {@linkcode EventLogTransaction.latestCreated} for many pairs in one call.
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
   * On a commit-checked adapter the records are staged and the promise settles only after
   * the commit (the store does not await it inside the transaction's work): it resolves
   * with the stored records, or rejects with the error the commit failed with.
   *
   * @throws {DuplicateIdError} when an id exists (the transaction must then be abandoned)
   * @throws {RevisionConflictError} when a revision was taken by another writer
   */
  insert(records: readonly InsertableRecord[], options?: { final?: boolean }): Promise<EventRecord[]>;
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
  readonly after?: string;
  /**
   * The same as `after`, sent too for adapters written against 0.1.
   *
   * @deprecated read `after`; the store stops sending `cursor` in the next release.
   */
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
   * Only the streams of this partition (see `partitionOf`). Sent only to adapters whose
   * `partitionReads` is `true`; the store filters the pages of the others itself.
   */
  readonly partition?: Partition;
  /**
   * Set on the first page of a read: before reading, wait (a bounded time) until events
   * committed before the read began are readable. Adapters whose readers never lag
   * behind commits ignore it.
   */
  readonly settle?: boolean;
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
 * The event part of an adapter.
 *
 * Invariants: revisions of a stream are contiguous from 1 and never reused; positions
 * increase in commit order and a reader never later receives a position below one it has
 * read (a log read never skips a commit); ids are unique; reads see committed events only.
 *
 * Every record an adapter returns (from `insert`, stream and log pages, `getByIds`)
 * carries `version`: the version stored with it, as given in
 * {@linkcode InsertableRecord.version} (1 when none was given, and for rows written
 * before versions were stored). The store derives `storedVersion` and the current
 * `version` from it; an adapter sets no `storedVersion`.
 *
 * @typeParam TTransaction the transaction the adapter hands to `transaction`'s work
 */
export interface EventLog<TTransaction> {
  /** A short name of the backend: `"memory"`, `"sqlite"`, `"postgres"`. */
  readonly kind: string;
  /** Where the events live, for messages: a path or a URL without its password. */
  readonly location: string;
  /**
   * The same as `location`, for code written against 0.1.
   *
   * @deprecated use `location`.
   */
  readonly source?: string;
  /** How its transactions behave; `"interactive"` when absent. */
  readonly transactionModel?: TransactionModel;
  /**
   * Whether `readLog` honours `partition` (returning only that partition's streams, a
   * page short of `limit` only at the end of the log). When absent the store filters.
   */
  readonly partitionReads?: boolean;
  /**
   * Runs `work` in one write transaction: all of it commits, or (when it throws) none of it.
   * With `options.shared`, the adapter may run it in one transaction with other shared
   * works (see {@linkcode TransactionOptions}); adapters that do not share ignore options.
   */
  transaction<T>(work: (tx: TTransaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** One page of a stream. Reads see committed events only. */
  readStream(stream: string, query: StreamPageQuery): Promise<EventRecord[]>;
  /** One page of the log. A reader never later receives a position below one it has read. */
  readLog(query: LogPageQuery): Promise<EventRecord[]>;
  /** Fetches stored events by id (missing ids are left out). */
  getByIds(ids: readonly string[]): Promise<EventRecord[]>;
  /** How many events readable now sort after `position` (all of them for `null`): a reader's lag. */
  countAfter(position: string | null): Promise<number>;
  /** Counts and head position. */
  stats(): Promise<AdapterStats>;
  /** Closes what this adapter opened (not a client it was handed). Idempotent. */
  close(): Promise<void>;
}

/** The optional wake-up part of an adapter. */
export interface Watchable {
  /**
   * Calls `listener` whenever events committed by another connection or process may have
   * become readable (PostgreSQL `LISTEN/NOTIFY`, a cheap SQLite change check). Returns a
   * function that stops watching. Readers never depend on it alone: they also poll.
   */
  watch?(listener: () => void): () => void;
}
