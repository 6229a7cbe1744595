/**
 * The option and result types of {@linkcode EventStore}: what it is built with, and what
 * its appends, reads and folds take and give back.
 *
 * @module
 */

import type { Cause } from "../events/correlation.ts";
import type { ExpectedRevision } from "../events/expected_revision.ts";
import type { Clock } from "../events/clock.ts";
import type { AnyEventFactory, EventRecordOf, EventTypeOf } from "../events/factory.ts";
import type { Reducer } from "../reducers/make_reducer.ts";
import type { FoldScope } from "../reducers/reduce.ts";
import type { ErrorListener, InsertedContext, InsertedListener } from "./hooks.ts";
import type { Telemetry } from "../contract/telemetry.ts";
import type { Adapter, KeyStore, Partition, TransactionHandleOf } from "../contract/mod.ts";

/**
 * The transaction handle type of an adapter.
 *
 * @deprecated use `TransactionHandleOf` ("handle" alone now means command handling).
 */
export type HandleOf<TAdapter> = TransactionHandleOf<TAdapter>;

/** A listener that runs inside the append's transaction. */
export type InsertingListener<TRecord, THandle> = (
  records: TRecord[],
  context: InsertedContext & { readonly tx: THandle },
) => void | Promise<void>;

/** Options of {@linkcode EventStore}. */
export interface EventStoreOptions<TEvents extends AnyEventFactory, TAdapter extends Adapter> {
  /** Where events live: `MemoryAdapter`, `SqliteAdapter`, `PostgresAdapter` or your own. */
  readonly adapter: TAdapter;
  /** The event definitions. */
  readonly events: TEvents;
  /** Where `created` comes from (default: the system clock, ISO-8601). */
  readonly clock?: Clock;
  /** Listeners registered from the start. */
  readonly hooks?: {
    /** Runs after each commit (see {@linkcode EventStore.onEventsInserted}). */
    readonly onEventsInserted?: InsertedListener<EventRecordOf<TEvents>>;
    /** Receives failures of after-commit listeners. */
    readonly onError?: ErrorListener;
  };
  /** Records per page when reading (default 1000). */
  readonly pageSize?: number;
  /**
   * `"auto"` (as in @valkyr/event-store): every fold that folded at least one event saves a
   * snapshot, for reducers whose own policy is `"manual"` and aggregates without a static
   * `snapshot`. Default `"manual"`: only the reducer's or aggregate's own policy applies.
   */
  readonly snapshot?: "manual" | "auto";
  /**
   * What reads do with a stored record whose type no definition knows (not even by
   * `renamedFrom`): `"error"` (default) throws an `UnknownEventError` naming the type and
   * position, `"skip"` leaves it out, `"pass"` returns it untyped, as stored.
   */
  readonly unknownEvents?: UnknownEventPolicy;
  /**
   * Validate every record read against its current schemas (after upcasting); a record that
   * fails is an `EventValidationError`. Default `false`: stored events were validated when
   * written, so only upcast results can be wrong.
   */
  readonly validateOnRead?: boolean;
  /**
   * Where the keys of personal fields live (`event.type(...).personal(...)`). Default:
   * the adapter (memory, SQLite and PostgreSQL keep them in a table of the store).
   */
  readonly keyStore?: KeyStore;
  /**
   * Where the store reports spans (appends, read pages, folds, subscription pages and
   * handled events) and metrics (append duration, events appended, subscription lag and
   * parked counts): `openTelemetry()` from `@eventfold/eventfold/otel`, or any
   * {@linkcode Telemetry}. Default: nowhere, at the cost of one comparison per call.
   */
  readonly telemetry?: Telemetry;
}

/** What reads do with a stored type no definition knows. */
export type UnknownEventPolicy = "error" | "skip" | "pass";

/**
 * The listeners an {@linkcode EventStore} can be built with (`hooks`), by
 * @valkyr/event-store's name.
 *
 * @typeParam TEvents the event factory
 */
export type EventStoreHooks<TEvents extends AnyEventFactory> = NonNullable<
  EventStoreOptions<TEvents, Adapter>["hooks"]
>;

/**
 * Flattens an intersection into one object type for readable hovers (valkyr's helper).
 *
 * @typeParam T the type to flatten
 */
// `& {}` makes the compiler show the flattened object rather than the alias.
// deno-lint-ignore ban-types
export type Prettify<T> = { [K in keyof T]: T[K] } & {};

/**
 * Which way a read goes: `"forward"` (oldest first) or `"backward"` (newest first). valkyr's
 * `"asc"` / `1` mean forward and `"desc"` / `-1` backward.
 */
export type ReadDirection = "forward" | "backward" | "asc" | "desc" | 1 | -1;

/** What {@linkcode EventStore.getEventStatus} tells about a record from elsewhere. */
export interface EventStatus {
  /** The store holds an event with this id. */
  readonly exists: boolean;
  /**
   * The stream holds a newer event (by `created`) of the same type, so importing it would
   * mark it outdated. `true` when it exists, as in @valkyr/event-store.
   */
  readonly outdated: boolean;
}

/** Options of {@linkcode EventStore.pushManyEvents}. */
export interface PushOptions {
  /** One expectation for every stream of the call, or one per stream. */
  readonly expectedRevision?: ExpectedRevision | Readonly<Record<string, ExpectedRevision>>;
  /** `false` skips the after-commit listeners (default `true`). */
  readonly emit?: boolean;
  /** A batch key handed to listeners (and `Projector.pushMany`). */
  readonly batch?: string;
  /** Relation changes committed in the same transaction. */
  readonly relations?: readonly { key: string; stream: string; op?: "insert" | "remove" }[];
  /**
   * The record that caused these events: each gets `meta.$correlation` (the cause's, or
   * its id) and `meta.$causation` (its id), after validation.
   */
  readonly causedBy?: Cause;
}

/** Options of reads that return arrays. */
export interface ReadOptions {
  /** Only these types. */
  readonly types?: readonly string[];
  /** valkyr's spelling of `types` (`filter: { types }`); give one or the other. */
  readonly filter?: { readonly types?: readonly string[] };
  /** Exclusive position: records past it in the reading direction. */
  readonly after?: string;
  /**
   * The same as `after`.
   *
   * @deprecated use `after`; `cursor` goes in the next release.
   */
  readonly cursor?: string;
  /** `"backward"` (or `"desc"`) reads newest first. */
  readonly direction?: ReadDirection;
  /** At most this many records. */
  readonly limit?: number;
}

/** Options of {@linkcode EventStore.readStream}. */
export interface ReadStreamOptions {
  /** First revision (inclusive); default the first forward, the last backward. */
  readonly fromRevision?: number;
  /** `"backward"` (or `"desc"`) reads from the newest revision down. */
  readonly direction?: ReadDirection;
  /** At most this many records. */
  readonly limit?: number;
  /** Only these types. */
  readonly types?: readonly string[];
}

/** Options of {@linkcode EventStore.readAll}. */
export interface ReadAllOptions {
  /** Only positions after this one (exclusive). */
  readonly after?: string;
  /** Only these types. */
  readonly types?: readonly string[];
  /** Only these streams. */
  readonly streams?: readonly string[];
  /**
   * Only the streams of one partition of the log (`partitionOf(stream, count) === index`),
   * for workers that share the log by stream.
   */
  readonly partition?: Partition;
  /** At most this many records. */
  readonly limit?: number;
  /** `"backward"` (or `"desc"`) reads newest first (then `after` means "before"). */
  readonly direction?: ReadDirection;
  /**
   * `false` reads what is readable now, without first waiting for events committed
   * before the read began to become readable (a store where readers can lag, such as
   * PostgreSQL, otherwise waits a bounded time). For pollers that come back anyway.
   */
  readonly settle?: boolean;
}

/** What `reduce` folds. */
export type ReduceArgs<TEvents extends AnyEventFactory, TState> = FoldScope & {
  /** Snapshot name of this reducer. */
  readonly name: string;
  /** The reducer. */
  readonly reducer: Reducer<TEvents, TState>;
  /** Only these event types. */
  readonly types?: readonly EventTypeOf<TEvents>[];
  /**
   * valkyr's spelling of `types`.
   *
   * @deprecated use `types`; give one or the other.
   */
  readonly filter?: { readonly types?: readonly EventTypeOf<TEvents>[] };
};

/** What {@linkcode EventStore.import} did. */
export interface ImportResult<TRecord> {
  /** Records stored by this import (hydrated; `outdated` decided now). */
  readonly imported: TRecord[];
  /** Ids that existed already and were left alone. */
  readonly skipped: string[];
}
