/**
 * The commit of one transaction of the IndexedDB adapter: in one readwrite IndexedDB
 * transaction, it checks every revision and checkpoint the work read and every id it
 * inserts, then writes everything staged. It awaits only its own requests, so IndexedDB
 * keeps the transaction open until the last write; another commit over the same object
 * stores waits for it (readwrite transactions with overlapping scopes run one at a time).
 *
 * @module
 */

import type { EventRecord } from "../../events/record.ts";
import { insertChecks, type StagedInsert } from "../../contract/_staging.ts";
import {
  type CheckpointUpdate,
  DuplicateIdError,
  formatPosition,
  type ParkedEvent,
  type RelationChange,
  RevisionConflictError,
  type StreamMetadata,
} from "../../contract/mod.ts";
import {
  CHECKPOINTS,
  COMMIT_STORES,
  done,
  EVENTS,
  type IdbDatabase,
  type IdbTransaction,
  keyRange,
  KEYS,
  PARKED,
  RELATIONS,
  run,
  SNAPSHOTS,
  STREAMS,
  walk,
} from "./_idb.ts";

/** An event as stored: the record without its position, plus the key its position comes from. */
export interface StoredEvent extends Omit<EventRecord, "position" | "storedVersion"> {
  /** The key IndexedDB assigned (auto-increment): the position, as a number. */
  readonly seq: number;
}

/**
 * A stream's row: the highest revision it ever had, how many of its events are stored,
 * and its lifecycle (what `streamStatus` answers). A stream given only metadata has one
 * with revision 0.
 */
export interface StreamRow {
  readonly stream: string;
  readonly revision: number;
  readonly count: number;
  readonly deletedAt?: number;
  readonly tombstoned?: boolean;
  readonly truncatedBefore?: number;
  readonly metadata?: StreamMetadata;
}

/** A lifecycle change staged in a transaction, applied at commit before the inserts. */
export type LifecycleChange =
  | { readonly op: "remove"; readonly stream: string; readonly revision: number; readonly tombstone: boolean }
  | { readonly op: "truncate"; readonly stream: string; readonly before: number }
  | { readonly op: "metadata"; readonly stream: string; readonly metadata: StreamMetadata };

/** A data key's row. */
export interface KeyRow {
  readonly subject: string;
  readonly key: Uint8Array;
}

/** A checkpoint's row. */
export interface CheckpointRow {
  readonly name: string;
  readonly position: string | null;
  readonly updated: string;
  readonly state?: unknown;
  readonly version?: number;
}

/** What one transaction read from committed state; the commit checks it still holds. */
export interface Reads {
  /** Revision answered per stream (the first answer). */
  readonly revisions: Map<string, number>;
  /** Checkpoint seen per name (the first look), as {@linkcode checkpointMark}. */
  readonly checkpoints: Map<string, string>;
}

/** What one transaction writes at its commit. */
export interface Writes {
  readonly inserts: StagedInsert[];
  readonly relations: RelationChange[];
  /** The last checkpoint put per name. */
  readonly checkpoints: Map<string, CheckpointUpdate>;
  /** Parked events per `[name, id]` key (JSON); `undefined` unparks. */
  readonly parked: Map<string, ParkedEvent | undefined>;
  /** Removals, truncations and metadata, in call order. */
  readonly lifecycle: LifecycleChange[];
  /** Keys of subjects that had none when read; the commit checks they still have none. */
  readonly keys: Map<string, Uint8Array>;
  readonly onCommit: (() => void)[];
}

/** A checkpoint as compared at commit: absent, or its position, time and version. */
export function checkpointMark(row: CheckpointRow | undefined): string {
  return row === undefined ? "absent" : JSON.stringify([row.position, row.updated, row.version ?? null]);
}

/** The row of a checkpoint set to `next` now. */
export function checkpointRow(name: string, next: CheckpointUpdate): CheckpointRow {
  const row: { -readonly [K in keyof CheckpointRow]: CheckpointRow[K] } = {
    name,
    position: next.position,
    updated: new Date().toISOString(),
  };
  if (next.state !== undefined) row.state = next.state;
  if (next.version !== undefined) row.version = next.version;
  return row;
}

/** A stored event as the contract's record. */
export function recordOf(stored: StoredEvent): EventRecord {
  return {
    id: stored.id,
    stream: stored.stream,
    type: stored.type,
    data: stored.data,
    meta: stored.meta,
    revision: stored.revision,
    position: formatPosition(stored.seq),
    created: stored.created,
    recorded: stored.recorded,
    outdated: stored.outdated,
    imported: stored.imported,
    version: stored.version,
  };
}

/** Checks what the work read, in the commit's transaction. */
async function check(tx: IdbTransaction, reads: Reads, writes: Writes): Promise<void> {
  const { expected, ids, repeated } = insertChecks(reads.revisions, writes.inserts);
  const streams = tx.objectStore(STREAMS);
  for (const [stream, revision] of expected) {
    const row = await done(streams.get(stream)) as StreamRow | undefined;
    // A tombstone set meanwhile: the retry's read of the revisions reports it.
    if ((row?.revision ?? 0) !== revision || row?.tombstoned === true) {
      throw new RevisionConflictError(stream);
    }
  }
  const keys = tx.objectStore(KEYS);
  for (const subject of writes.keys.keys()) {
    // Another writer gave the subject a key first: the retry seals with that one.
    if (await done(keys.getKey(subject)) !== undefined) throw new RevisionConflictError(`$key:${subject}`);
  }
  const byId = tx.objectStore(EVENTS).index("id");
  for (const id of ids) {
    if (await done(byId.getKey(id)) !== undefined) repeated.add(id);
  }
  if (repeated.size > 0) throw new DuplicateIdError([...repeated]);
  const checkpoints = tx.objectStore(CHECKPOINTS);
  for (const [name, mark] of reads.checkpoints) {
    const row = await done(checkpoints.get(name)) as CheckpointRow | undefined;
    if (checkpointMark(row) !== mark) throw new RevisionConflictError("$checkpoint:" + name);
  }
}

/** The stream rows a commit reads and changes, written back at its end. */
class Rows {
  readonly #store;
  readonly #rows = new Map<string, StreamRow>();

  constructor(tx: IdbTransaction) {
    this.#store = tx.objectStore(STREAMS);
  }

  async get(stream: string): Promise<StreamRow> {
    const cached = this.#rows.get(stream);
    if (cached !== undefined) return cached;
    const row = (await done(this.#store.get(stream)) as StreamRow | undefined) ??
      { stream, revision: 0, count: 0 };
    this.#rows.set(stream, row);
    return row;
  }

  set(row: StreamRow): void {
    this.#rows.set(row.stream, row);
  }

  flush(): void {
    for (const row of this.#rows.values()) {
      // A stream never written, removed or truncated, whose metadata is gone, is unknown again.
      const blank = row.revision === 0 && row.metadata === undefined && row.deletedAt === undefined &&
        row.truncatedBefore === undefined && row.tombstoned === undefined;
      if (blank) this.#store.delete(row.stream);
      else this.#store.put(row);
    }
  }
}

/** Deletes the events of `stream` with a revision up to `through`; returns how many. */
async function removeEvents(tx: IdbTransaction, stream: string, through: number): Promise<number> {
  let removed = 0;
  const range = keyRange().bound([stream, -Infinity], [stream, through]);
  await walk(tx.objectStore(EVENTS).index("stream").openCursor(range), (cursor) => {
    cursor.delete();
    removed++;
    return true;
  });
  return removed;
}

/** Deletes every row of `store` whose `stream` index matches. */
async function removeByStream(tx: IdbTransaction, store: string, stream: string): Promise<void> {
  const keys = await done(tx.objectStore(store).index("stream").getAll(stream)) as {
    key?: string;
    name?: string;
  }[];
  for (const row of keys) {
    tx.objectStore(store).delete(store === RELATIONS ? [row.key, stream] : [row.name, stream]);
  }
}

async function applyLifecycle(tx: IdbTransaction, rows: Rows, change: LifecycleChange): Promise<void> {
  const row = await rows.get(change.stream);
  if (change.op === "metadata") {
    const { metadata: _, ...rest } = row;
    rows.set(
      Object.keys(change.metadata).length === 0 ? rest : { ...rest, metadata: { ...change.metadata } },
    );
    return;
  }
  if (change.op === "truncate") {
    const before = Math.min(change.before, row.revision + 1);
    const removed = await removeEvents(tx, change.stream, before - 1);
    rows.set({
      ...row,
      count: row.count - removed,
      truncatedBefore: Math.max(row.truncatedBefore ?? 1, before),
    });
    return;
  }
  const removed = await removeEvents(tx, change.stream, change.revision);
  await removeByStream(tx, SNAPSHOTS, change.stream);
  await removeByStream(tx, RELATIONS, change.stream);
  rows.set({
    ...row,
    revision: Math.max(row.revision, change.revision),
    count: row.count - removed,
    deletedAt: change.revision,
    tombstoned: row.tombstoned === true || change.tombstone,
  });
}

/** Writes what was staged, in the commit's transaction; returns the stored records per insert. */
async function apply(tx: IdbTransaction, writes: Writes): Promise<EventRecord[][]> {
  const recorded = new Date().toISOString();
  const events = tx.objectStore(EVENTS);
  const rows = new Rows(tx);
  for (const change of writes.lifecycle) await applyLifecycle(tx, rows, change);
  for (const [subject, key] of writes.keys) tx.objectStore(KEYS).put({ subject, key } satisfies KeyRow);
  const stored: EventRecord[][] = [];
  for (const insert of writes.inserts) {
    const out: EventRecord[] = [];
    for (const record of insert.records) {
      const value: Omit<StoredEvent, "seq"> = {
        id: record.id,
        stream: record.stream,
        type: record.type,
        data: record.data,
        meta: record.meta,
        revision: record.revision,
        created: record.created,
        recorded,
        outdated: record.outdated,
        imported: record.imported === true,
        version: record.version ?? 1,
      };
      const seq = await done(events.add(value)) as number;
      // A copy, as a read would return: the caller's payload objects stay its own.
      out.push(
        recordOf({ ...value, data: structuredClone(value.data), meta: structuredClone(value.meta), seq }),
      );
      const head = await rows.get(record.stream);
      rows.set({ ...head, revision: Math.max(head.revision, record.revision), count: head.count + 1 });
    }
    stored.push(out);
  }
  rows.flush();
  const relations = tx.objectStore(RELATIONS);
  for (const change of writes.relations) {
    if (change.op === "insert") relations.put({ key: change.key, stream: change.stream });
    else relations.delete([change.key, change.stream]);
  }
  const checkpoints = tx.objectStore(CHECKPOINTS);
  for (const [name, next] of writes.checkpoints) checkpoints.put(checkpointRow(name, next));
  const parked = tx.objectStore(PARKED);
  for (const [key, event] of writes.parked) {
    if (event !== undefined) parked.put({ ...event });
    else parked.delete(JSON.parse(key));
  }
  return stored;
}

/** Whether the transaction writes anything at all. */
function writesAnything(writes: Writes): boolean {
  return writes.inserts.some((insert) => insert.records.length > 0) || writes.relations.length > 0 ||
    writes.checkpoints.size > 0 || writes.parked.size > 0 || writes.lifecycle.length > 0 ||
    writes.keys.size > 0;
}

/**
 * Checks and applies one transaction's reads and writes in one IndexedDB transaction.
 *
 * @param db the database
 * @param reads what the work read
 * @param writes what it staged
 * @returns the stored records of each insert, in staging order
 * @throws {RevisionConflictError} when a stream or a checkpoint the work read moved
 * @throws {DuplicateIdError} when an inserted id exists
 */
export async function commit(db: IdbDatabase, reads: Reads, writes: Writes): Promise<EventRecord[][]> {
  if (!writesAnything(writes) && reads.checkpoints.size === 0) {
    return writes.inserts.map(() => []);
  }
  return await run(db, COMMIT_STORES, "readwrite", async (tx) => {
    await check(tx, reads, writes);
    return await apply(tx, writes);
  });
}
