/**
 * Eventfold: typed event sourcing for Deno and TypeScript. Define events once (with any
 * Standard Schema validator), append them to streams with optimistic concurrency, fold
 * streams into state with reducers or aggregates, and react with projectors, inline or as
 * durable subscriptions (`store.subscribe`: checkpointed, catch-up then live, one active
 * instance per name). Events live in a swappable store: `./memory`, `./sqlite` (the
 * embedded default) or `./postgres`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore, makeReducer } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { z } from "zod";
 *
 * const events = new EventFactory([
 *   event.type("user:created").data(z.object({ name: z.string(), email: z.string() })),
 *   event.type("user:email-set").data(z.string()),
 * ]);
 * const user = makeReducer<typeof events, { name: string; email: string }>((state, record) => {
 *   switch (record.type) {
 *     case "user:created":
 *       return { ...record.data };
 *     case "user:email-set":
 *       return { ...state, email: record.data };
 *   }
 * }, () => ({ name: "", email: "" }));
 *
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * await store.pushEvent(store.event({ type: "user:created", stream: "u1", data: { name: "Ada", email: "a@x" } }));
 * await store.pushEvent(store.event({ type: "user:email-set", stream: "u1", data: "b@x" }), { expectedRevision: 1 });
 * const state = await store.reduce({ name: "user", stream: "u1", reducer: user });
 * assert(state?.email === "b@x");
 * ```
 *
 * @module
 */

export {
  ConcurrencyError,
  ConnectionLostError,
  DecodeError,
  EventInsertionError,
  EventStoreError,
  EventValidationError,
  isConcurrencyError,
  isConnectionLostError,
  isDecodeError,
  isEventStoreError,
  isEventValidationError,
  isStoreClosedError,
  isStreamDeletedError,
  PartitionsChangedError,
  StoreClosedError,
  type StoredRecordAt,
  StoreOpenError,
  StreamDeletedError,
  SubscriptionStoppedError,
  TimeoutError,
  TruncatedStreamError,
  UnknownEventError,
  type ValidationIssue,
} from "./errors.ts";
export type { ExpectedRevision } from "./events/expected_revision.ts";
export { type AnyEventDefinition, event, EventDefinition, type EventSchemas } from "./events/event.ts";
export {
  type AnyEventFactory,
  EventFactory,
  type EventInputOf,
  type EventRecordOf,
  type EventTypeOf,
  type RecordOfType,
} from "./events/factory.ts";
export type { DataField, EventInput, EventRecord, MetaField, PendingEvent } from "./events/record.ts";
export type { StandardSchemaV1 } from "./events/standard_schema.ts";
export type { Evolution, Upcaster, VersionedPayload } from "./events/evolution.ts";
export type { PersonalFields, SealedField } from "./events/personal.ts";
export {
  STREAM_DELETED,
  type StreamDeletedData,
  type StreamDeletedRecord,
  SUBJECT_FORGOTTEN,
  type SubjectForgottenData,
  type SubjectForgottenRecord,
  SYSTEM_STREAM,
  type SystemEventType,
  type SystemRecord,
  WORKFLOW_TYPES,
  type WorkflowRecord,
  type WorkflowRecordType,
} from "./events/system.ts";
export type { DeleteStreamOptions, TruncateResult, TruncateStreamOptions } from "./stores/_lifecycle.ts";
export { type CausationMeta, causationOf, type Cause, correlationOf } from "./events/correlation.ts";
export {
  type TimerSpec,
  Workflow,
  type WorkflowContext,
  type WorkflowSpec,
  type WorkflowStatus,
} from "./workflows/workflow.ts";
export {
  type WorkflowInstance,
  type WorkflowPort,
  WorkflowRun,
  type WorkflowRunInfo,
  type WorkflowRunOptions,
} from "./workflows/workflow_run.ts";
export type { WorkflowWriteOptions } from "./workflows/_records.ts";
export type { ScavengeOptions, ScavengeProgress, ScavengeResult } from "./stores/_scavenge.ts";
export { validateEvent, type ValidPayloads } from "./events/validate.ts";
export { uuidv7 } from "./events/id.ts";
export { type Clock, type FakeClock, fakeClock, isIsoTime, systemClock } from "./events/clock.ts";
export {
  type Adapter,
  type AdapterStats,
  type AdapterTransaction,
  type Checkpoint,
  type CheckpointUpdate,
  DuplicateIdError,
  type EventLog,
  type EventLogTransaction,
  formatPosition,
  type InsertableRecord,
  isCommitChecked,
  isDuplicateIdError,
  isRevisionConflictError,
  isStreamTombstonedError,
  type KeyStorageTransaction,
  type KeyStore,
  type Lease,
  type LogPageQuery,
  MAX_PARTITIONS,
  type ParkedEvent,
  parsePosition,
  type Partition,
  partitionOf,
  type RelationChange,
  type RelationStorage,
  type RelationTransaction,
  RevisionConflictError,
  type Snapshot,
  type SnapshotStorage,
  type StreamLifecycle,
  type StreamLifecycleTransaction,
  type StreamMetadata,
  type StreamPageQuery,
  type StreamStatus,
  StreamTombstonedError,
  type SubscriptionStorage,
  type SubscriptionTransaction,
  type TransactionHandleOf,
  type TransactionModel,
  type TransactionOptions,
  type Watchable,
} from "./contract/mod.ts";
export type { Codec } from "./stores/codec.ts";
export { EventStore } from "./stores/event_store.ts";
export type {
  EventStatus,
  EventStoreHooks,
  EventStoreOptions,
  HandleOf,
  ImportResult,
  InsertingListener,
  Prettify,
  PushOptions,
  ReadAllOptions,
  ReadDirection,
  ReadOptions,
  ReadStreamOptions,
  ReduceArgs,
  UnknownEventPolicy,
} from "./stores/event_store_options.ts";
export type {
  ErrorListener,
  InsertedContext,
  InsertedListener,
  ListenerRegistration,
} from "./stores/hooks.ts";
export {
  METRIC_NAMES,
  noTelemetry,
  type Publishing,
  publishSpan,
  SPAN_NAMES,
  type Telemetry,
  type TelemetryAttributes,
  type TelemetryObservation,
  type TelemetrySpan,
  type TelemetryValue,
} from "./contract/telemetry.ts";
export {
  makeReducer,
  type Reducer,
  type ReducerOptions,
  type SnapshotPolicy,
} from "./reducers/make_reducer.ts";
export type { FoldResult, FoldScope, FoldSource } from "./reducers/reduce.ts";
export { type AggregateClass, AggregateRoot } from "./aggregates/aggregate_root.ts";
export { AggregateRepository } from "./aggregates/aggregate_repository.ts";
export type { AggregateStore, RelationPair } from "./aggregates/aggregate_store.ts";
export {
  type Decide,
  type DecideContext,
  type Decision,
  type HandleOptions,
  type HandleResult,
  type Intent,
  reject,
  type Rejection,
  type RejectionOf,
} from "./aggregates/handle.ts";
export {
  type BatchHandler,
  type OnceEffects,
  type OnceOptions,
  type ProjectedRecord,
  type ProjectionStatus,
  Projector,
  type ProjectorHandler,
  type ProjectorRegistration,
} from "./projectors/projector.ts";
export {
  Subscription,
  type SubscriptionPart,
  type SubscriptionSource,
  type SubscriptionTracker,
} from "./projectors/subscription.ts";
export { PartitionedSubscription } from "./projectors/partitioned_subscription.ts";
export type {
  DropResult,
  PartitionInfo,
  ReplayResult,
  SavedState,
  SubscriptionErrorContext,
  SubscriptionInfo,
  SubscriptionOptions,
  SubscriptionState,
  SubscriptionStoreError,
} from "./projectors/subscription_options.ts";
