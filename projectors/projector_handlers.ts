/**
 * What a `Projector` takes and gives: the handler and callback types of its
 * registrations, the status of a pushed record, and the registration it returns.
 *
 * @module
 */

import type { SystemEventType, SystemRecord } from "../events/system.ts";
import type { AnyEventFactory, EventRecordOf, RecordOfType } from "../events/factory.ts";

/**
 * Where a record comes from, as the caller of `Projector.push` knows it.
 */
export interface ProjectionStatus {
  /** True when the record was replayed, imported or synced rather than made here just now. */
  readonly hydrated: boolean;
  /** Overrides the record's stored `outdated` flag when given. */
  readonly outdated?: boolean;
}

/**
 * The record a handler for `TType` receives: that event's record when the factory
 * defines it, the system record for a type the store writes itself (`"$stream:deleted"`),
 * otherwise a record of the factory's general shape with that type name.
 *
 * @typeParam TEvents the event factory
 * @typeParam TType the event type name
 */
export type ProjectedRecord<TEvents extends AnyEventFactory, TType extends string> = TType extends
  SystemEventType ? Extract<SystemRecord, { readonly type: TType }>
  : [RecordOfType<TEvents, TType>] extends [never] ? EventRecordOf<TEvents> & { readonly type: TType }
  : RecordOfType<TEvents, TType>;

/**
 * A handler for one event type. Its result is awaited; its return value is ignored.
 *
 * @typeParam TRecord the record it handles
 */
export type ProjectorHandler<TRecord> = (record: TRecord) => unknown;

/**
 * A handler for a whole batch pushed with `Projector.pushMany`.
 *
 * @typeParam TRecord the records of the batch
 */
export type BatchHandler<TRecord> = (records: TRecord[], status: ProjectionStatus) => unknown;

/**
 * Callbacks of a `once` handler in the effects form (the default, as in
 * @valkyr/event-store): each gets one object. `data` is what the handler returned.
 *
 * @typeParam TRecord the record handled
 * @typeParam TData what the handler returns (awaited)
 */
export interface OnceEffects<TRecord, TData = unknown> {
  /** The effects form is the default; `"effects"` may be written out. */
  readonly style?: "effects";
  /** Runs after the handler succeeded, with its return value. */
  readonly onSuccess?: (result: { readonly data: TData; readonly record: TRecord }) => unknown;
  /** Receives the handler's error instead of `push`; without it, `push` rejects. */
  readonly onError?: (failure: { readonly error: unknown; readonly record: TRecord }) => unknown;
}

/**
 * Callbacks of a `once` handler in the positional form: `style: "positional"` selects it.
 *
 * @typeParam TRecord the record handled
 * @typeParam TData what the handler returns (awaited)
 */
export interface OnceOptions<TRecord, TData = unknown> {
  /** Selects this form: callbacks get positional arguments. */
  readonly style: "positional";
  /** Runs after the handler succeeded, with the record and the handler's return value. */
  readonly onSuccess?: (record: TRecord, data: TData) => unknown;
  /** Receives the handler's error instead of `push`; without it, `push` rejects. */
  readonly onError?: (error: unknown, record: TRecord) => unknown;
}

/** What every registration returns. */
export interface ProjectorRegistration {
  /** Removes the handler; records it has not started on are no longer given to it. Idempotent. */
  unsubscribe(): void;
}
