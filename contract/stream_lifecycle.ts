/**
 * The stream lifecycle part of an adapter: removing a stream (delete, tombstone) and the
 * early revisions of one (truncate), and what is known of a stream beyond its events.
 * Optional: a store over an adapter without it refuses `deleteStream` and
 * `truncateStream` with a `TypeError`.
 *
 * Invariants every adapter that has it keeps:
 * - Revisions are never reused. Once a stream's events are removed, the transaction's
 *   `revisions()` answers the highest revision the stream ever had (its floor), so a later
 *   append continues after it, and stream reads start there.
 * - A tombstoned stream takes no appends: `revisions()` of a transaction rejects with
 *   `StreamTombstonedError` (`signals.ts`) when any stream asked for is tombstoned, before
 *   anything of the transaction is written.
 * - Removal and truncation happen inside the write transaction they are called in: with
 *   the `"$stream:deleted"` record the store appends, or not at all.
 * - A stream's metadata (its retention rules) is stored as given and survives deletes and
 *   truncations; the adapter applies none of it itself: the store hides what the rules
 *   say in its reads and removes it with truncations when it scavenges.
 *
 * @module
 */

/**
 * The retention rules of a stream. Reads of the stream hide the events the rules say are
 * gone, from the moment they are set; `scavenge` removes them for good.
 */
export interface StreamMetadata {
  /** Keep events created less than this many milliseconds ago (a whole number from 1). */
  readonly maxAge?: number;
  /** Keep only the newest this many events (a whole number from 1). */
  readonly maxCount?: number;
}

/** What an adapter knows of a stream beyond its events. */
export interface StreamStatus {
  /** The highest revision the stream ever had, removed ones included (0: never written). */
  readonly revision: number;
  /** The revision the stream had when it was last deleted (0: never deleted). */
  readonly deletedAt: number;
  /** True when the stream was deleted with a tombstone: it takes no more appends. */
  readonly tombstoned: boolean;
  /** The first revision truncation kept (1: never truncated). Revisions below it are gone. */
  readonly truncatedBefore: number;
  /** Its retention rules; absent when it has none. */
  readonly metadata?: StreamMetadata;
}

/** The lifecycle part of one write transaction. */
export interface StreamLifecycleTransaction {
  /**
   * Removes every event of `stream`, its snapshots and its relations, and records
   * `revision` as its floor (and `tombstone`). The stream's `revision` was read by this
   * transaction's `revisions()`, so it is locked (interactive) or checked at commit.
   *
   * @param stream the stream
   * @param options its current revision, and whether it takes appends again
   */
  removeStream(
    stream: string,
    options: { readonly revision: number; readonly tombstone: boolean },
  ): Promise<void>;
  /**
   * Removes the events of `stream` with a revision below `before` (snapshots and
   * relations stay) and records `before` as its `truncatedBefore` when greater than the
   * one recorded.
   *
   * @param stream the stream
   * @param before the first revision to keep (at least 1)
   * @returns how many events were removed
   */
  truncateStream(stream: string, before: number): Promise<number>;
  /**
   * Stores the metadata of `stream`, replacing what it had; an empty object (no rule)
   * removes it. A stream never written may be given metadata: it then has a status.
   *
   * @param stream the stream
   * @param metadata its rules, checked by the store
   */
  setStreamMetadata?(stream: string, metadata: StreamMetadata): Promise<void>;
}

/** The lifecycle part of an adapter, outside transactions. */
export interface StreamLifecycle {
  /**
   * What is known of each stream: the ones never written, deleted or given metadata are
   * left out.
   *
   * @param streams the streams
   */
  streamStatus(streams: readonly string[]): Promise<Map<string, StreamStatus>>;
  /**
   * The streams that have metadata, in name order, one page at a time: `scavenge` walks
   * them. Any order of names does that is total and agrees with `after`.
   *
   * @param after only names that sort after this one in that order (none: from the start)
   * @param limit at most this many names
   */
  streamsWithMetadata?(after: string | undefined, limit: number): Promise<string[]>;
}
