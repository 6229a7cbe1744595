/**
 * The shapes of an event before and after the store holds it.
 *
 * @module
 */

/**
 * An event as the store holds and returns it.
 *
 * @typeParam TType the event type
 * @typeParam TData the payload
 * @typeParam TMeta the metadata
 */
export interface EventRecord<TType extends string = string, TData = unknown, TMeta = unknown> {
  /** Unique id (UUIDv7 unless the producer chose another). Appending an existing id is a no-op. */
  readonly id: string;
  /** The stream (entity) the event belongs to. */
  readonly stream: string;
  /** The event type. */
  readonly type: TType;
  /** The payload, `null` when the definition has none. */
  readonly data: TData;
  /** The metadata, `null` when the definition has none. */
  readonly meta: TMeta;
  /** 1-based place of the event in its stream, assigned by the store. */
  readonly revision: number;
  /** Global position: a string that sorts (`<`) in the store's read order. */
  readonly position: string;
  /** When the producer made the event (sortable string, ISO-8601 by default). */
  readonly created: string;
  /** When this store inserted it (ISO-8601). */
  readonly recorded: string;
  /** True only for an event imported behind a newer event of its type in its stream. */
  readonly outdated: boolean;
  /**
   * True for an event brought in by `import()` (stored), so that a projector reading it
   * later, from a subscription or a replay, treats it as hydrated like the live run did.
   * Absent or false for an event appended here.
   */
  readonly imported?: boolean;
  /**
   * The version of its definition the record is at: the current one when read through a
   * store (after upcasting); an adapter returns the stored version (1 when none was stored).
   */
  readonly version?: number;
  /** The version it was written at (set by the store on read). */
  readonly storedVersion?: number;
  /**
   * `true` when personal fields of the record were forgotten (`store.forget(subject)`):
   * they read as `null`; the rest of the record is as written.
   */
  readonly forgotten?: boolean;
}

/**
 * An event made by the producer and not yet stored: the store adds `revision`,
 * `position`, `recorded` and `outdated`.
 */
export interface PendingEvent<TType extends string = string, TData = unknown, TMeta = unknown> {
  /** Unique id. */
  readonly id: string;
  /** The stream it goes to. */
  readonly stream: string;
  /** The event type. */
  readonly type: TType;
  /** The payload, `null` when there is none. */
  readonly data: TData;
  /** The metadata, `null` when there is none. */
  readonly meta: TMeta;
  /** When the producer made it. */
  readonly created: string;
  /** The version of its definition the payload is at (set by the store when it is pushed). */
  readonly version?: number;
}

/** The `data` field of an {@linkcode EventInput}: optional when the event has no payload. */
export type DataField<T> = [T] extends [null] ? { readonly data?: null } : { readonly data: T };
/** The `meta` field of an {@linkcode EventInput}: optional when the event has no metadata. */
export type MetaField<T> = [T] extends [null] ? { readonly meta?: null } : { readonly meta: T };

/**
 * What a producer writes to make an event: its type, payloads and, optionally, the
 * stream (a new UUIDv7 stream when left out), the id and the creation time.
 */
export type EventInput<TType extends string = string, TData = unknown, TMeta = unknown> =
  & {
    /** The event type. */
    readonly type: TType;
    /** The stream; a new one when left out. */
    readonly stream?: string;
    /** The id; a new UUIDv7 when left out. */
    readonly id?: string;
    /** The creation time; the store's clock when left out. */
    readonly created?: string;
  }
  & DataField<TData>
  & MetaField<TMeta>;
