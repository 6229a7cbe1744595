/**
 * Which records of a store came in from which peer, so that sync does not send them
 * back. Kept in memory per store object: an id is noted before its import (so a
 * concurrent pull in the other direction already leaves it out), given its position once
 * stored, and dropped when the peer's cursor has passed that position. After a restart the
 * memory is empty, and records imported but not yet passed go back once; the peer skips
 * them by id. A peer whose cursor never passes them (a one-way sync) would make the memory
 * grow: it keeps the newest {@linkcode MAX_ECHOES} ids per peer, and forgets older ones
 * (at worst, an echo the other side skips).
 *
 * @module
 */

/** The records of one store that came from one peer. */
export interface Echoes {
  /** Whether the record came from the peer. */
  has(id: string): boolean;
  /** Notes ids about to be imported from the peer. */
  expect(ids: readonly string[]): void;
  /** After the import: positions of the stored ones; skipped ones were here before. */
  settle(imported: readonly { id: string; position: string }[], skipped: readonly string[]): void;
  /** Forgets ids (a failed import). */
  forget(ids: readonly string[]): void;
  /** The peer has read up to `position`: records at or before it are never read again. */
  passed(position: string | null): void;
}

/** The most ids remembered per store and peer. */
export const MAX_ECHOES = 100_000;

const stores = new WeakMap<object, Map<string, Echoes>>();

/**
 * The echo memory of `store` for `peer`.
 *
 * @param store the store object
 * @param peer the peer's id
 * @returns its memory
 */
export function echoes(store: object, peer: string): Echoes {
  let peers = stores.get(store);
  if (peers === undefined) stores.set(store, peers = new Map());
  let echo = peers.get(peer);
  if (echo === undefined) peers.set(peer, echo = memory());
  return echo;
}

function memory(): Echoes {
  // id -> position once stored ("" while the import runs)
  const ids = new Map<string, string>();
  return {
    has: (id) => ids.has(id),
    expect(list) {
      for (const id of list) if (!ids.has(id)) ids.set(id, "");
      // A Map iterates in insertion order: the first keys are the oldest.
      for (const id of ids.keys()) {
        if (ids.size <= MAX_ECHOES) break;
        ids.delete(id);
      }
    },
    settle(imported, skipped) {
      for (const record of imported) ids.set(record.id, record.position);
      for (const id of skipped) if (ids.get(id) === "") ids.delete(id);
    },
    forget(list) {
      for (const id of list) if (ids.get(id) === "") ids.delete(id);
    },
    passed(position) {
      if (position === null) return;
      for (const [id, at] of ids) if (at !== "" && at <= position) ids.delete(id);
    },
  };
}
