/**
 * Snapshots: one chunked document per (name, stream), with an index by stream so that a
 * deleted stream's snapshots go with it.
 *
 * @module
 */

import type { Snapshot } from "../../contract/mod.ts";
import type { KvContext } from "./_context.ts";
import { documentDeletes, documentWrites, readDocument } from "./_documents.ts";
import { checkKeySize } from "./_limits.ts";
import { apply, fits, overLimit, totals } from "./_mutations.ts";

interface StoredSnapshot {
  readonly state: Uint8Array;
  readonly revision: number | null;
  readonly position: string | null;
  readonly version: number;
}

/** The snapshot (`name`, `stream`). */
export async function getSnapshot(
  ctx: KvContext,
  name: string,
  stream: string,
): Promise<Snapshot | undefined> {
  const { value } = await readDocument<StoredSnapshot>(ctx.kv, ctx.layout.snapshot(name, stream));
  if (value === undefined) return undefined;
  return {
    name,
    stream,
    state: ctx.codec.decode(value.state),
    revision: value.revision,
    position: value.position,
    version: value.version,
  };
}

/**
 * Saves a snapshot, replacing the one there.
 *
 * @throws {RangeError} when the state is too big for one atomic commit (about 800 KiB)
 */
export async function putSnapshot(ctx: KvContext, snapshot: Snapshot): Promise<void> {
  checkKeySize(ctx.layout.snapshot(snapshot.name, snapshot.stream, 0), "The snapshot's name and stream");
  const stored: StoredSnapshot = {
    state: ctx.codec.encode(snapshot.state),
    revision: snapshot.revision,
    position: snapshot.position,
    version: snapshot.version,
  };
  const writes = [
    ...documentWrites(ctx.layout.snapshot(snapshot.name, snapshot.stream), stored),
    { key: ctx.layout.snapshotOf(snapshot.stream, snapshot.name), value: true },
  ];
  if (!fits(totals(writes))) {
    throw overLimit(totals(writes), `The snapshot "${snapshot.name}" of "${snapshot.stream}"`);
  }
  await apply(ctx.kv.atomic(), writes).commit();
}

/** Removes a snapshot. */
export async function deleteSnapshot(ctx: KvContext, name: string, stream: string): Promise<void> {
  const deletes = await documentDeletes(ctx.kv, ctx.layout.snapshot(name, stream));
  await apply(ctx.kv.atomic(), [...deletes, { key: ctx.layout.snapshotOf(stream, name) }]).commit();
}
