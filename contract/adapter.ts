/**
 * The storage `Adapter`: the intersection of the capability parts
 * ({@linkcode EventLog}, {@linkcode RelationStorage}, {@linkcode SnapshotStorage},
 * {@linkcode SubscriptionStorage}, the optional {@linkcode Watchable}). `EventStore` holds
 * all the logic (validation, expected revisions, idempotency, import flags, hooks,
 * reducers, aggregates); an adapter only stores, reads and locks or checks. `runConformance`
 * from `./testing` checks an adapter part by part, then the store's behaviour over it.
 *
 * ## Two transaction models
 *
 * **Interactive** (memory, SQLite, PostgreSQL; `transactionModel` absent or
 * `"interactive"`): inside `transaction(work)`, reads (`revisions`, `existing`,
 * `latestCreated`) see the current state and may lock the streams they name; `insert`
 * writes at once and resolves with positions; a revision another writer took shows up
 * as a `RevisionConflictError` from `insert`, an existing id as a `DuplicateIdError`.
 * In-transaction listeners (`onEventsInserting`) run here, with the driver's `handle`.
 *
 * **Commit-checked** (`transactionModel: "commit-checked"`, for Deno KV's `atomic()` or
 * IndexedDB's auto-committing transactions): reads inside `transaction(work)` see a
 * consistent state without locking and the adapter remembers them; writes are staged and
 * applied when `work` resolves, in one atomic commit that first checks every revision and
 * checkpoint the work read and every id it inserts. A conflict rejects `transaction()`
 * with `RevisionConflictError` (or `DuplicateIdError`), and nothing is written; positions
 * exist only after the commit, so `insert`'s promise settles then and the store awaits it
 * after `transaction()` returns. `work` must not wait on anything but the transaction's
 * own reads (IndexedDB commits when control returns to the event loop). The store refuses
 * in-transaction listeners on such adapters with a `TypeError`.
 *
 * Both models promise the same to the store: all of a transaction or none of it, revisions
 * contiguous per stream, and signals recognised by {@linkcode isDuplicateIdError} and
 * {@linkcode isRevisionConflictError} (never by `instanceof`).
 *
 * @module
 */

import type { EventLog, EventLogTransaction, Watchable } from "./event_log.ts";
import type { RelationStorage, RelationTransaction } from "./relation_storage.ts";
import type { SnapshotStorage } from "./snapshot_storage.ts";
import type { KeyStorageTransaction, KeyStore } from "./key_storage.ts";
import type { StreamLifecycle, StreamLifecycleTransaction } from "./stream_lifecycle.ts";
import type { SubscriptionStorage, SubscriptionTransaction } from "./subscription_storage.ts";

/**
 * One write transaction: the event, relation and subscription writes that commit
 * together when the work given to {@linkcode EventLog.transaction} resolves, and not at
 * all when it throws.
 *
 * @typeParam THandle the driver's transaction handle, given to in-transaction listeners
 */
export interface AdapterTransaction<THandle = unknown>
  extends
    EventLogTransaction,
    RelationTransaction,
    SubscriptionTransaction,
    Partial<StreamLifecycleTransaction>,
    KeyStorageTransaction {
  /** The driver's handle for this transaction (SQLite database, postgres.js `sql`, memory staging). */
  readonly handle: THandle;
}

/**
 * The storage interface every backend implements: all the parts together. Stores
 * serialise, lock or check their own writers; the `EventStore` never assumes a single
 * process.
 *
 * @typeParam THandle the transaction handle type given to in-transaction listeners
 */
export interface Adapter<THandle = unknown>
  extends
    EventLog<AdapterTransaction<THandle>>,
    RelationStorage,
    SnapshotStorage,
    SubscriptionStorage,
    Watchable,
    Partial<StreamLifecycle>,
    Partial<KeyStore> {}

/**
 * The transaction handle type of an adapter.
 *
 * @typeParam TAdapter the adapter
 */
export type TransactionHandleOf<TAdapter> = TAdapter extends Adapter<infer THandle> ? THandle : unknown;

/**
 * Whether `adapter` checks conflicts at commit (see the module docs).
 *
 * @param adapter the adapter
 */
export function isCommitChecked(adapter: { readonly transactionModel?: string }): boolean {
  return adapter.transactionModel === "commit-checked";
}
