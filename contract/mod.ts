/**
 * The adapter contract, in parts. See `adapter.ts` for the whole and the two transaction
 * models.
 *
 * @module
 */

export {
  type Adapter,
  type AdapterTransaction,
  isCommitChecked,
  type TransactionHandleOf,
} from "./adapter.ts";
export type {
  AdapterStats,
  EventLog,
  EventLogTransaction,
  InsertableRecord,
  LogPageQuery,
  StreamPageQuery,
  TransactionModel,
  TransactionOptions,
  Watchable,
} from "./event_log.ts";
export { formatPosition, parsePosition } from "./positions.ts";
export {
  checkPartition,
  checkPartitionCount,
  inPartition,
  MAX_PARTITIONS,
  type Partition,
  partitionOf,
} from "./partitions.ts";
export type { RelationChange, RelationStorage, RelationTransaction } from "./relation_storage.ts";
export {
  DuplicateIdError,
  isDuplicateIdError,
  isRevisionConflictError,
  isStreamTombstonedError,
  RevisionConflictError,
  StreamTombstonedError,
} from "./signals.ts";
export type {
  StreamLifecycle,
  StreamLifecycleTransaction,
  StreamMetadata,
  StreamStatus,
} from "./stream_lifecycle.ts";
export type { Snapshot, SnapshotStorage } from "./snapshot_storage.ts";
export type {
  Checkpoint,
  CheckpointUpdate,
  Lease,
  ParkedEvent,
  SubscriptionStorage,
  SubscriptionTransaction,
} from "./subscription_storage.ts";
export type { KeyStorageTransaction, KeyStore } from "./key_storage.ts";
