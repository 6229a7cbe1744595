/**
 * `RelationStorage`: relation keys that map to many streams (valkyr's
 * `relations.insert` / `remove` / `getByKeys`), changed in the same transaction as an
 * append or on their own.
 *
 * @module
 */

/** A change to the relations, made in the same transaction as events or on its own. */
export interface RelationChange {
  /** `insert` links `key` to `stream`; `remove` unlinks it. Both are idempotent. */
  readonly op: "insert" | "remove";
  /** The relation key. */
  readonly key: string;
  /** The stream. */
  readonly stream: string;
}

/**
 * The relations part of an adapter.
 *
 * Invariants: a (key, stream) pair is stored at most once; inserting a linked pair or
 * removing an unlinked one changes nothing; changes given in one call apply in order and
 * together.
 */
export interface RelationStorage {
  /** Streams linked to any of `keys`, without repeats (in no promised order). */
  getStreamsByKeys(keys: readonly string[]): Promise<string[]>;
  /** Applies relation changes outside an event append, all or none. */
  updateRelations(changes: readonly RelationChange[]): Promise<void>;
}

/** Relation changes that join an event-log transaction, committing with the events. */
export interface RelationTransaction {
  /** {@linkcode RelationStorage.updateRelations} inside this transaction. */
  updateRelations(changes: readonly RelationChange[]): Promise<void>;
}
