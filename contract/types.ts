/**
 * Every type of the adapter contract, plus the record type its signatures name. Each store
 * entry point (`./memory`, `./sqlite`, `./postgres`) re-exports these, so an adapter's
 * documentation reaches every type it mentions.
 *
 * @module
 */

export type {
  Adapter,
  AdapterStats,
  AdapterTransaction,
  Checkpoint,
  CheckpointUpdate,
  EventLog,
  EventLogTransaction,
  InsertableRecord,
  KeyStorageTransaction,
  KeyStore,
  Lease,
  LogPageQuery,
  ParkedEvent,
  Partition,
  RelationChange,
  RelationStorage,
  RelationTransaction,
  Snapshot,
  SnapshotStorage,
  StreamLifecycle,
  StreamLifecycleTransaction,
  StreamMetadata,
  StreamPageQuery,
  StreamStatus,
  SubscriptionStorage,
  SubscriptionTransaction,
  TransactionHandleOf,
  TransactionModel,
  TransactionOptions,
  Watchable,
} from "./mod.ts";
export type { EventRecord } from "../events/record.ts";
