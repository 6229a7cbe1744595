/**
 * Resetting a partitioned subscription (a rebuild, a first start with a `reset` hook, a
 * new `version`) while other instances of it may run. A reset is a barrier:
 *
 * 1. the instance that resets takes the lease `name#reset` (one resetter at a time) and
 *    saves the marker checkpoint `name#reset/count`;
 * 2. every instance that sees the marker stops its partitions (each finishes its page and
 *    gives its lease up) and starts none while it is there (an instance of another
 *    `version` only waits: once the reset is done, its partitions find checkpoints of a
 *    version not theirs and stop it);
 * 3. the resetter takes the lease of every partition (so no partition runs anywhere),
 *    then resets their checkpoints, drops their parked events and runs `reset` once (in
 *    one transaction when the subscription is transactional), deletes the checkpoints of
 *    another number of partitions (or none), and deletes the marker last.
 *
 * A resetter that dies leaves the marker: whoever takes the reset lease next does the
 * whole reset again, so the read model is never left half reset.
 *
 * @module
 */

import type { Adapter, Checkpoint, Lease } from "../contract/mod.ts";
import { withinTransaction } from "../contract/_reentry.ts";
import { partitionName, partitionOfName } from "./_partition_members.ts";

/** The checkpoint that says a reset to `count` partitions is under way. */
export function resetMarker(name: string, count: number): string {
  return `${name}#reset/${count}`;
}

/** What the checkpoints under a subscription name say. */
export interface Survey {
  /** The checkpoints of its partitions, for this number of partitions. */
  readonly own: readonly Checkpoint[];
  /** Checkpoints of another number of partitions, or of the name unpartitioned (with a position). */
  readonly foreign: readonly Checkpoint[];
  /** The numbers of partitions the foreign checkpoints were saved with (1: not partitioned). */
  readonly counts: readonly number[];
  /** Whether a reset is under way (a marker, of this number of partitions or another). */
  readonly marked: boolean;
  /** The `version` of the instance that saved the marker. */
  readonly markedBy: number | undefined;
}

/** Reads the checkpoints under `name`, for `count` partitions. */
export async function survey(adapter: Adapter, name: string, count: number): Promise<Survey> {
  const all = await adapter.listCheckpoints();
  const own: Checkpoint[] = [];
  const foreign: Checkpoint[] = [];
  let marked = false;
  let markedBy: number | undefined;
  for (const checkpoint of all) {
    if (checkpoint.name === name) {
      if (checkpoint.position !== null) foreign.push(checkpoint);
      continue;
    }
    if (checkpoint.name.startsWith(`${name}#reset/`)) {
      marked = true;
      markedBy = checkpoint.version;
      continue;
    }
    const part = partitionOfName(name, checkpoint.name);
    if (part === undefined) continue;
    if (part.count === count) own.push(checkpoint);
    else foreign.push(checkpoint);
  }
  const counts = [...new Set(foreign.map((c) => partitionOfName(name, c.name)?.count ?? 1))];
  return { own, foreign, counts, marked, markedBy };
}

/** What a reset needs. */
export interface ResetTerms {
  readonly adapter: Adapter;
  readonly name: string;
  readonly count: number;
  readonly owner: string;
  readonly ttl: number;
  readonly version: number | undefined;
  readonly transactional: boolean;
  /** Runs the `reset` hook (with the transaction's handle, for a transactional subscription). */
  readonly reset: (within?: { readonly handle: unknown }) => Promise<void>;
}

/**
 * Tries to reset: it takes the reset lease and saves the marker, then the lease of every
 * partition. The caller has stopped its own partitions.
 *
 * @returns `"done"` when it reset; `"marked"` when it saved the marker but another
 *   instance still runs a partition (the marker tells it to stop); `"busy"` when another
 *   instance holds the reset lease. Either way the reset is done once the marker is gone,
 *   by whoever takes the lease: try again after a lease interval.
 * @throws {Error} when a checkpoint moved under the reset (it is tried again)
 */
export async function tryReset(terms: ResetTerms): Promise<"done" | "marked" | "busy"> {
  const { adapter, name, count, owner, ttl } = terms;
  const lock = await adapter.acquireLease(`${name}#reset`, owner, ttl);
  if (lock === undefined) return "busy";
  const held: Lease[] = [];
  try {
    const marker = resetMarker(name, count);
    await adapter.putCheckpoint(marker, null, { position: null, version: terms.version });
    for (let index = 0; index < count; index++) {
      const lease = await adapter.acquireLease(partitionName(name, index, count), owner, ttl);
      if (lease === undefined) return "marked";
      held.push(lease);
    }
    await resetAll(terms, await survey(adapter, name, count));
    await adapter.deleteCheckpoint(marker);
    return "done";
  } finally {
    for (const lease of held) await lease.release().catch(() => {});
    await lock.release().catch(() => {});
  }
}

/** Sets every partition's checkpoint back, drops their parked events and the foreign checkpoints, runs `reset` once. */
async function resetAll(terms: ResetTerms, found: Survey): Promise<void> {
  const { adapter, name, count } = terms;
  const saved = new Map(found.own.map((checkpoint) => [checkpoint.name, checkpoint.position]));
  const names = Array.from({ length: count }, (_, index) => partitionName(name, index, count));
  const dropped = new Set([...names, ...found.foreign.map((c) => c.name)]);
  const parked = (await adapter.listParked()).filter((event) => dropped.has(event.name));
  const update = { position: null, version: terms.version };
  const moved = (part: string) => new Error(`the checkpoint of ${part} moved during its reset`);
  if (terms.transactional) {
    await withinTransaction(adapter, async (tx) => {
      await terms.reset({ handle: tx.handle });
      for (const event of parked) await tx.unparkEvent(event.name, event.id);
      for (const part of names) {
        if (!await tx.putCheckpoint(part, saved.get(part) ?? null, update)) throw moved(part);
      }
    });
  } else {
    // Checkpoints first; a crash before `reset` has run leaves the marker, and the reset
    // is done again.
    for (const part of names) {
      if (!await adapter.putCheckpoint(part, saved.get(part) ?? null, update)) throw moved(part);
    }
    for (const event of parked) await adapter.unparkEvent(event.name, event.id);
    await terms.reset();
  }
  for (const checkpoint of found.foreign) await adapter.deleteCheckpoint(checkpoint.name);
}
