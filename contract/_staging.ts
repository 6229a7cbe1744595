/**
 * The staging half of the commit-checked transaction model (contract/adapter.ts), shared
 * by the adapters that have it (Deno KV, IndexedDB, the test adapter over memory): writes
 * a transaction makes are kept until its commit, and a read of something the transaction
 * wrote answers with what it wrote.
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";
import type { InsertableRecord } from "./event_log.ts";
import type { CheckpointUpdate, ParkedEvent } from "./subscription_storage.ts";

/** An `insert` staged until the commit, with the promise it settles. */
export interface StagedInsert {
  /** The records. */
  readonly records: readonly InsertableRecord[];
  /** Settles the promise with the stored records. */
  readonly resolve: (stored: EventRecord[]) => void;
  /** Rejects it with the commit's error. */
  readonly reject: (error: unknown) => void;
}

/**
 * Stages an insert: the promise settles when the commit stores the records, or fails.
 *
 * @param inserts the transaction's staged inserts
 * @param records the records
 * @returns the stored records, after the commit
 */
export function stageInsert(
  inserts: StagedInsert[],
  records: readonly InsertableRecord[],
): Promise<EventRecord[]> {
  let staged!: StagedInsert;
  const promise = new Promise<EventRecord[]>((resolve, reject) => {
    staged = { records: [...records], resolve, reject };
  });
  // The commit's error rejects transaction() too; a caller that drops this promise must
  // not see an unhandled rejection.
  promise.catch(() => {});
  inserts.push(staged);
  return promise;
}

/** The key of a parked event among staged ones: its subscription and id. */
export function parkKey(name: string, id: string): string {
  return JSON.stringify([name, id]);
}

/**
 * Stages a checkpoint put, as `putCheckpoint` answers it: set when the checkpoint is at
 * `expected` now, which is what this transaction put last, or else what is committed.
 *
 * @param staged the checkpoints this transaction put, by name
 * @param name the checkpoint
 * @param expected the position it must be at (`null`: none)
 * @param next its new value
 * @param committed its committed position (the adapter remembers the read for the commit's check)
 * @returns whether it was set
 */
export function stageCheckpoint(
  staged: Map<string, CheckpointUpdate>,
  name: string,
  expected: string | null,
  next: CheckpointUpdate,
  committed: string | null,
): boolean {
  const current = staged.has(name) ? staged.get(name)?.position ?? null : committed;
  if (current !== expected) return false;
  staged.set(name, next);
  return true;
}

/**
 * Stages parking an event.
 *
 * @param parked the transaction's staged parkings (`undefined` unparks)
 * @param event the event
 */
export function stagePark(parked: Map<string, ParkedEvent | undefined>, event: ParkedEvent): Promise<void> {
  parked.set(parkKey(event.name, event.id), { ...event });
  return Promise.resolve();
}

/**
 * Stages unparking an event.
 *
 * @param parked the transaction's staged parkings (`undefined` unparks)
 * @param name the subscription
 * @param id the event id
 * @param committed whether it is parked as committed (asked only when this transaction did not touch it)
 * @returns whether it was parked
 */
export async function stageUnpark(
  parked: Map<string, ParkedEvent | undefined>,
  name: string,
  id: string,
  committed: () => Promise<boolean>,
): Promise<boolean> {
  const key = parkKey(name, id);
  const was = parked.has(key) ? parked.get(key) !== undefined : await committed();
  parked.set(key, undefined);
  return was;
}

/** What a commit checks of a transaction's inserts, before it writes them. */
export interface InsertChecks {
  /**
   * The revision each stream must still be at, in stream-name order: the one the
   * transaction read, or, for a stream inserted into without a read, the one before its
   * first record.
   */
  readonly expected: readonly (readonly [stream: string, revision: number])[];
  /** The ids inserted, each once. */
  readonly ids: ReadonlySet<string>;
  /** Ids inserted twice in the transaction itself. */
  readonly repeated: Set<string>;
}

/**
 * What a commit must check before it writes `inserts`.
 *
 * @param revisions the revisions the transaction read, per stream (the first answer)
 * @param inserts the staged inserts
 * @returns the revisions to check, the ids, and the ids the transaction repeats
 */
export function insertChecks(
  revisions: ReadonlyMap<string, number>,
  inserts: readonly StagedInsert[],
): InsertChecks {
  const expected = new Map(revisions);
  const ids = new Set<string>();
  const repeated = new Set<string>();
  for (const insert of inserts) {
    for (const record of insert.records) {
      if (!expected.has(record.stream)) expected.set(record.stream, record.revision - 1);
      if (ids.has(record.id)) repeated.add(record.id);
      ids.add(record.id);
    }
  }
  const ordered = [...expected].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  return { expected: ordered, ids, repeated };
}
