/**
 * `SnapshotStorage`: saved states of reducers and aggregates, so a fold reads only the
 * events after the snapshot.
 *
 * @module
 */

/** A stored snapshot of a reducer's or aggregate's state. */
export interface Snapshot {
  /** The reducer or aggregate name. */
  readonly name: string;
  /** The stream, or the relation key for a relation fold. */
  readonly stream: string;
  /** The state (the adapter encodes it with its codec). */
  readonly state: unknown;
  /** For a stream fold: the last revision the state covers. */
  readonly revision: number | null;
  /** For a relation fold: the last position the state covers. */
  readonly position: string | null;
  /** The reducer version that made it; another version ignores it. */
  readonly version: number;
}

/**
 * The snapshot part of an adapter.
 *
 * Invariants: one snapshot per (`name`, `stream`), the last put wins; a snapshot read
 * back equals the one put (its state through the adapter's codec); snapshots are a cache,
 * so losing one is never wrong, only slower.
 */
export interface SnapshotStorage {
  /** The snapshot saved as (`name`, `stream`), if any. */
  getSnapshot(name: string, stream: string): Promise<Snapshot | undefined>;
  /** Saves a snapshot, replacing the one with the same (`name`, `stream`). */
  putSnapshot(snapshot: Snapshot): Promise<void>;
  /** Removes a snapshot (nothing happens when there is none). */
  deleteSnapshot(name: string, stream: string): Promise<void>;
}
