/**
 * `AggregateStore`: what aggregates and command handling use of a store. `EventStore`
 * implements it; aggregates depend on this, not on the store class, so a change to the
 * store does not ripple into every aggregate (and aggregates/ imports nothing of stores/).
 *
 * @module
 */

import type { Cause } from "../events/correlation.ts";
import type { RelationStorage } from "../contract/relation_storage.ts";
import type { SnapshotStorage } from "../contract/snapshot_storage.ts";
import type { ExpectedRevision } from "../events/expected_revision.ts";
import type { AnyEventFactory, EventInputOf, EventRecordOf, EventTypeOf } from "../events/factory.ts";
import type { PendingEvent } from "../events/record.ts";
import type { Reducer } from "../reducers/make_reducer.ts";
import type { FoldResult } from "../reducers/reduce.ts";
import type { AggregateRepository } from "./aggregate_repository.ts";

/** A relation change committed with an aggregate's or a command's events. */
export interface RelationPair {
  /** The relation key. */
  readonly key: string;
  /** The stream. */
  readonly stream: string;
  /** `"insert"` (the default) links them; `"remove"` unlinks them. */
  readonly op?: "insert" | "remove";
}

/**
 * The part of a store aggregates and `store.handle` use.
 *
 * @typeParam TEvents the event factory
 * @example
 * ```ts
 * import type { AggregateStore } from "@eventfold/eventfold";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const events = new EventFactory([event.type("tick")]);
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * const narrow: AggregateStore<typeof events> = store;
 * narrow.event({ type: "tick", stream: "s" });
 * ```
 */
export interface AggregateStore<TEvents extends AnyEventFactory> {
  /** The event definitions. */
  readonly events: TEvents;
  /** Where snapshots and relations are kept. */
  readonly adapter: SnapshotStorage & Pick<RelationStorage, "getStreamsByKeys">;
  /** Loads and saves aggregates. */
  readonly aggregate: AggregateRepository<TEvents>;
  /** Relation lookups. */
  readonly relations: { getByKey(key: string): Promise<string[]> };
  /** Makes a pending event (id and `created` assigned). */
  event<TInput extends EventInputOf<TEvents>>(input: TInput): PendingEvent<TInput["type"]>;
  /** Pages of one stream from `fromRevision`. */
  readStreamPages(
    stream: string,
    options: { readonly fromRevision?: number },
  ): AsyncIterable<EventRecordOf<TEvents>[]>;
  /** Pages of the log of `streams` after `after`. */
  readAllPages(
    options: { readonly streams?: readonly string[]; readonly after?: string },
  ): AsyncIterable<EventRecordOf<TEvents>[]>;
  /** The log of `streams`, record by record. */
  readAll(options: { readonly streams?: readonly string[] }): AsyncIterable<EventRecordOf<TEvents>>;
  /** Appends events atomically, guarded by expected revisions. */
  pushManyEvents(
    events: readonly (PendingEvent<EventTypeOf<TEvents>> | EventInputOf<TEvents>)[],
    options: {
      readonly expectedRevision?: Readonly<Record<string, ExpectedRevision>>;
      readonly relations?: readonly RelationPair[];
      readonly causedBy?: Cause;
    },
  ): Promise<EventRecordOf<TEvents>[]>;
  /** Folds a stream with a reducer (snapshots by `name`). */
  fold<TState>(
    args: { readonly name: string; readonly stream: string; readonly reducer: Reducer<TEvents, TState> },
    force?: boolean,
  ): Promise<FoldResult<TState>>;
}
