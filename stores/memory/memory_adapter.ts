/**
 * `MemoryAdapter`: the store contract held in memory, for tests, examples and
 * short-lived processes. Payloads are deep-copied in and out, so a caller mutating a
 * record or a snapshot never changes what the store holds.
 *
 * @module
 */

import { parkedOrder } from "../../contract/_parked_order.ts";
import { StoreClosedError } from "../../errors.ts";
import { checkKey, checkSubject } from "../_key_input.ts";
import type { EventRecord } from "../../events/record.ts";
import {
  type Adapter,
  type AdapterStats,
  type AdapterTransaction,
  type Checkpoint,
  type CheckpointUpdate,
  DuplicateIdError,
  formatPosition,
  type InsertableRecord,
  type Lease,
  type LogPageQuery,
  type ParkedEvent,
  parsePosition,
  type RelationChange,
  type Snapshot,
  type StreamMetadata,
  type StreamPageQuery,
  type StreamStatus,
  StreamTombstonedError,
} from "../../contract/mod.ts";
import { inPartition } from "../../contract/partitions.ts";

/**
 * The transaction handle in-transaction listeners get from a {@linkcode MemoryAdapter}:
 * work staged with `onCommit` runs only if the append commits.
 */
export interface MemoryTransaction {
  /** Runs `apply` when the transaction commits (in staging order); dropped on rollback. */
  onCommit(apply: () => void): void;
}

const copy = <T>(
  value: T,
): T => (value === null || typeof value !== "object" ? value : structuredClone(value));

const parkKey = (name: string, id: string): string => JSON.stringify([name, id]);

function checkpointOf(name: string, next: CheckpointUpdate): Checkpoint {
  const checkpoint: { -readonly [K in keyof Checkpoint]: Checkpoint[K] } = {
    name,
    position: next.position,
    updated: new Date().toISOString(),
  };
  if (next.state !== undefined) checkpoint.state = copy(next.state);
  if (next.version !== undefined) checkpoint.version = next.version;
  return checkpoint;
}

function copyCheckpoint(checkpoint: Checkpoint): Checkpoint {
  return "state" in checkpoint ? { ...checkpoint, state: copy(checkpoint.state) } : { ...checkpoint };
}

function publicRecord(record: EventRecord): EventRecord {
  return { ...record, data: copy(record.data), meta: copy(record.meta) };
}

/**
 * Keeps events in memory with the same behaviour as the database stores.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const events = new EventFactory([event.type("tick")]);
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * await store.pushEvent(store.event({ type: "tick", stream: "s" }));
 * assert((await store.stats()).events === 1);
 * ```
 */
export class MemoryAdapter implements Adapter<MemoryTransaction> {
  /** Always `"memory"`. */
  readonly kind = "memory";
  /** `readLog` honours `partition`. */
  readonly partitionReads = true;
  /** Always `"memory:"`. */
  readonly location = "memory:";
  /**
   * The same as `location`.
   *
   * @deprecated use `location`; `source` goes in the next release.
   */
  get source(): string {
    return this.location;
  }
  // Removed events leave holes: a position is its index + 1, a revision its index + 1.
  #log: (EventRecord | undefined)[] = [];
  #events = 0;
  #ids: Map<string, EventRecord> = new Map();
  #streams: Map<string, (EventRecord | undefined)[]> = new Map();
  /** Events stored per stream (a deleted or truncated stream holds fewer than its revision). */
  #stored: Map<string, number> = new Map();
  #lifecycle: Map<string, Omit<StreamStatus, "revision" | "metadata">> = new Map();
  #metadata: Map<string, StreamMetadata> = new Map();
  #keys: Map<string, Uint8Array> = new Map();
  #relations: Map<string, Set<string>> = new Map();
  #snapshots: Map<string, Snapshot> = new Map();
  #checkpoints: Map<string, Checkpoint> = new Map();
  #parked: Map<string, ParkedEvent> = new Map();
  #leases: Map<string, string> = new Map();
  #lock: Promise<unknown> = Promise.resolve();
  #closed = false;

  #open(): void {
    if (this.#closed) throw new StoreClosedError("memory adapter");
  }

  /**
   * Runs `work` with writes staged; they apply together when it resolves. Transactions
   * run one at a time.
   */
  transaction<T>(work: (tx: AdapterTransaction<MemoryTransaction>) => Promise<T>): Promise<T> {
    this.#open();
    const run = this.#lock.then(() => this.#run(work));
    this.#lock = run.catch(() => {});
    return run;
  }

  async #run<T>(work: (tx: AdapterTransaction<MemoryTransaction>) => Promise<T>): Promise<T> {
    const staged: EventRecord[] = [];
    const stagedIds = new Set<string>();
    const changes: RelationChange[] = [];
    const onCommit: (() => void)[] = [];
    // Checkpoint and parking changes of this transaction: later calls in it see them, commit applies them.
    const checkpoints = new Map<string, Checkpoint>();
    const parked = new Map<string, ParkedEvent | undefined>();
    const removals: (() => void)[] = [];
    const keys = new Map<string, Uint8Array>();
    const revisionOf = (stream: string) => {
      if (this.#lifecycle.get(stream)?.tombstoned) throw new StreamTombstonedError(stream);
      let revision = this.#streams.get(stream)?.length ?? 0;
      for (const record of staged) if (record.stream === stream) revision = record.revision;
      return revision;
    };
    const tx: AdapterTransaction<MemoryTransaction> = {
      handle: { onCommit: (apply) => void onCommit.push(apply) },
      revisions: (streams) => {
        try {
          return Promise.resolve(new Map(streams.map((stream) => [stream, revisionOf(stream)])));
        } catch (error) {
          return Promise.reject(error);
        }
      },
      existing: (ids) => Promise.resolve(new Set(ids.filter((id) => this.#ids.has(id) || stagedIds.has(id)))),
      latestCreated: (stream, type) => {
        let latest: string | null = null;
        for (const record of [...(this.#streams.get(stream) ?? []), ...staged]) {
          if (
            record !== undefined && record.stream === stream && record.type === type &&
            (latest === null || record.created > latest)
          ) {
            latest = record.created;
          }
        }
        return Promise.resolve(latest);
      },
      insert: (records) => Promise.resolve(this.#stage(records, staged, stagedIds)),
      updateRelations: (list) => Promise.resolve(void changes.push(...list)),
      removeStream: (stream, { revision, tombstone }) => {
        removals.push(() => this.#remove(stream, revision, revision, tombstone));
        return Promise.resolve();
      },
      truncateStream: (stream, before) => {
        const records = this.#streams.get(stream);
        // A stream never written stays unknown; past its end, truncation stops at its revision.
        if (records === undefined) return Promise.resolve(0);
        before = Math.min(before, records.length + 1);
        const removed = records.slice(0, before - 1).filter((record) => record !== undefined).length;
        removals.push(() => this.#remove(stream, before - 1, undefined, false));
        return Promise.resolve(removed);
      },
      setStreamMetadata: (stream, metadata) => {
        const kept = Object.freeze({ ...metadata });
        removals.push(() => {
          if (Object.keys(kept).length === 0) this.#metadata.delete(stream);
          else this.#metadata.set(stream, kept);
        });
        return Promise.resolve();
      },
      createKeys: (given) => {
        const out = new Map<string, Uint8Array>();
        for (const [subject, key] of given) {
          checkSubject(subject);
          checkKey(key);
          // Transactions (and createKey, which is one) run one at a time: nothing else adds keys meanwhile.
          const held = this.#keys.get(subject) ?? keys.get(subject);
          if (held === undefined) keys.set(subject, key.slice());
          out.set(subject, (held ?? key).slice());
        }
        return Promise.resolve(out);
      },
      putCheckpoint: (name, expected, next) => {
        this.#open();
        const current = checkpoints.has(name) ? checkpoints.get(name) : this.#checkpoints.get(name);
        if ((current?.position ?? null) !== expected) return Promise.resolve(false);
        checkpoints.set(name, checkpointOf(name, next));
        return Promise.resolve(true);
      },
      parkEvent: (event) => Promise.resolve(void parked.set(parkKey(event.name, event.id), { ...event })),
      unparkEvent: (name, id) => {
        const key = parkKey(name, id);
        const was = parked.has(key) ? parked.get(key) !== undefined : this.#parked.has(key);
        parked.set(key, undefined);
        return Promise.resolve(was);
      },
    };
    const result = await work(tx);
    this.#open();
    for (const remove of removals) remove();
    for (const [subject, key] of keys) this.#keys.set(subject, key);
    for (const record of staged) {
      this.#log.push(record);
      this.#events++;
      this.#ids.set(record.id, record);
      const stream = this.#streams.get(record.stream) ?? [];
      stream[record.revision - 1] = record;
      this.#streams.set(record.stream, stream);
      this.#stored.set(record.stream, (this.#stored.get(record.stream) ?? 0) + 1);
    }
    this.#applyRelations(changes);
    for (const [name, checkpoint] of checkpoints) this.#checkpoints.set(name, checkpoint);
    for (const [key, event] of parked) {
      if (event === undefined) this.#parked.delete(key);
      else this.#parked.set(key, event);
    }
    for (const apply of onCommit) apply();
    return result;
  }

  #stage(records: readonly InsertableRecord[], staged: EventRecord[], stagedIds: Set<string>): EventRecord[] {
    const duplicates = records.filter((record) => this.#ids.has(record.id) || stagedIds.has(record.id));
    if (duplicates.length > 0) throw new DuplicateIdError(duplicates.map((record) => record.id));
    const recorded = new Date().toISOString();
    const out: EventRecord[] = [];
    for (const record of records) {
      const stored: EventRecord = {
        id: record.id,
        stream: record.stream,
        type: record.type,
        data: copy(record.data),
        meta: copy(record.meta),
        revision: record.revision,
        position: formatPosition(this.#log.length + staged.length + 1),
        created: record.created,
        recorded,
        outdated: record.outdated,
        imported: record.imported === true,
        version: record.version ?? 1,
      };
      staged.push(stored);
      stagedIds.add(stored.id);
      out.push(publicRecord(stored));
    }
    return out;
  }

  /**
   * Removes the events of `stream` up to revision `through`; a delete (`deletedAt` given)
   * also removes its snapshots and relations. Revisions stay taken: the stream's array
   * keeps its length.
   */
  #remove(stream: string, through: number, deletedAt: number | undefined, tombstone: boolean): void {
    const records = this.#streams.get(stream) ?? [];
    for (let i = 0; i < Math.min(through, records.length); i++) {
      const record = records[i];
      if (record === undefined) continue;
      records[i] = undefined;
      this.#log[parsePosition(record.position) - 1] = undefined;
      this.#ids.delete(record.id);
      this.#events--;
      this.#stored.set(stream, this.#stored.get(stream)! - 1);
    }
    if (records.length < through) records.length = through;
    this.#streams.set(stream, records);
    const status = this.#lifecycle.get(stream) ?? { deletedAt: 0, tombstoned: false, truncatedBefore: 1 };
    if (deletedAt === undefined) {
      this.#lifecycle.set(stream, {
        ...status,
        truncatedBefore: Math.max(status.truncatedBefore, through + 1),
      });
      return;
    }
    this.#lifecycle.set(stream, { ...status, deletedAt, tombstoned: status.tombstoned || tombstone });
    for (const [key, snapshot] of this.#snapshots) {
      if (snapshot.stream === stream) this.#snapshots.delete(key);
    }
    for (const [key, streams] of this.#relations) {
      if (streams.delete(stream) && streams.size === 0) this.#relations.delete(key);
    }
  }

  /** What is known of each stream beyond its events. */
  streamStatus(streams: readonly string[]): Promise<Map<string, StreamStatus>> {
    this.#open();
    const out = new Map<string, StreamStatus>();
    for (const stream of streams) {
      const revision = this.#streams.get(stream)?.length ?? 0;
      const status = this.#lifecycle.get(stream) ?? { deletedAt: 0, tombstoned: false, truncatedBefore: 1 };
      const metadata = this.#metadata.get(stream);
      if (revision > 0 || this.#lifecycle.has(stream) || metadata !== undefined) {
        out.set(stream, metadata === undefined ? { revision, ...status } : { revision, ...status, metadata });
      }
    }
    return Promise.resolve(out);
  }

  /** The streams with metadata, in name order, after `after`. */
  streamsWithMetadata(after: string | undefined, limit: number): Promise<string[]> {
    this.#open();
    const names = [...this.#metadata.keys()].filter((name) => after === undefined || name > after).sort();
    return Promise.resolve(names.slice(0, limit));
  }

  #applyRelations(changes: readonly RelationChange[]): void {
    for (const change of changes) {
      const streams = this.#relations.get(change.key) ?? new Set();
      if (change.op === "insert") streams.add(change.stream);
      else streams.delete(change.stream);
      if (streams.size > 0) this.#relations.set(change.key, streams);
      else this.#relations.delete(change.key);
    }
  }

  /** One page of a stream in revision order. */
  readStream(stream: string, query: StreamPageQuery): Promise<EventRecord[]> {
    this.#open();
    const all = this.#streams.get(stream) ?? [];
    const types = query.types ? new Set(query.types) : undefined;
    const out: EventRecord[] = [];
    const forward = query.direction === "forward";
    let i = forward
      ? (query.fromRevision ?? 1) - 1
      : Math.min(all.length, query.fromRevision ?? all.length) - 1;
    for (; i >= 0 && i < all.length && out.length < query.limit; i += forward ? 1 : -1) {
      const record = all[i];
      if (record !== undefined && (!types || types.has(record.type))) out.push(publicRecord(record));
    }
    return Promise.resolve(out);
  }

  /** One page of the log in position order. */
  readLog(query: LogPageQuery): Promise<EventRecord[]> {
    this.#open();
    const types = query.types ? new Set(query.types) : undefined;
    const streams = query.streams ? new Set(query.streams) : undefined;
    const partition = query.partition;
    const forward = query.direction === "forward";
    const cursor = query.after === undefined ? undefined : parsePosition(query.after);
    let i = forward ? (cursor ?? 0) : Math.min(this.#log.length, (cursor ?? this.#log.length + 1) - 1) - 1;
    const out: EventRecord[] = [];
    for (; i >= 0 && i < this.#log.length && out.length < query.limit; i += forward ? 1 : -1) {
      const record = this.#log[i];
      if (record === undefined) continue;
      if (
        (!types || types.has(record.type)) && (!streams || streams.has(record.stream)) &&
        (!partition || inPartition(record.stream, partition))
      ) {
        out.push(publicRecord(record));
      }
    }
    return Promise.resolve(out);
  }

  /** Stored events by id. */
  getByIds(ids: readonly string[]): Promise<EventRecord[]> {
    this.#open();
    return Promise.resolve(ids.flatMap((id) => {
      const record = this.#ids.get(id);
      return record ? [publicRecord(record)] : [];
    }));
  }

  /** Streams linked to any of `keys`. */
  getStreamsByKeys(keys: readonly string[]): Promise<string[]> {
    this.#open();
    const out = new Set<string>();
    for (const key of keys) for (const stream of this.#relations.get(key) ?? []) out.add(stream);
    return Promise.resolve([...out]);
  }

  /** Applies relation changes, one transaction after another. */
  updateRelations(changes: readonly RelationChange[]): Promise<void> {
    return this.transaction((tx) => tx.updateRelations(changes));
  }

  /** The snapshot (`name`, `stream`). */
  getSnapshot(name: string, stream: string): Promise<Snapshot | undefined> {
    this.#open();
    const snapshot = this.#snapshots.get(JSON.stringify([name, stream]));
    return Promise.resolve(snapshot && { ...snapshot, state: copy(snapshot.state) });
  }

  /** Saves a snapshot. */
  putSnapshot(snapshot: Snapshot): Promise<void> {
    this.#open();
    this.#snapshots.set(JSON.stringify([snapshot.name, snapshot.stream]), {
      ...snapshot,
      state: copy(snapshot.state),
    });
    return Promise.resolve();
  }

  /** Removes a snapshot. */
  deleteSnapshot(name: string, stream: string): Promise<void> {
    this.#open();
    this.#snapshots.delete(JSON.stringify([name, stream]));
    return Promise.resolve();
  }

  /** The checkpoint `name`. */
  getCheckpoint(name: string): Promise<Checkpoint | undefined> {
    this.#open();
    const checkpoint = this.#checkpoints.get(name);
    return Promise.resolve(checkpoint && copyCheckpoint(checkpoint));
  }

  /** All checkpoints by name. */
  listCheckpoints(): Promise<Checkpoint[]> {
    this.#open();
    return Promise.resolve(
      [...this.#checkpoints.values()].sort((a, b) => a.name < b.name ? -1 : 1).map(copyCheckpoint),
    );
  }

  /**
   * Runs a change after the open transaction, as a database would make it wait for the
   * transaction's row locks; a compare-and-set then sees what that transaction committed.
   */
  #serial<T>(change: () => T): Promise<T> {
    this.#open();
    const run = this.#lock.then(() => {
      this.#open();
      return change();
    });
    this.#lock = run.catch(() => {});
    return run;
  }

  /** Compare-and-set of a checkpoint. */
  putCheckpoint(name: string, expected: string | null, next: CheckpointUpdate): Promise<boolean> {
    return this.#serial(() => {
      const current = this.#checkpoints.get(name)?.position ?? null;
      if (current !== expected) return false;
      this.#checkpoints.set(name, checkpointOf(name, next));
      return true;
    });
  }

  /** Removes a checkpoint. */
  deleteCheckpoint(name: string): Promise<void> {
    return this.#serial(() => void this.#checkpoints.delete(name));
  }

  /** Parks an event (replacing an earlier parking of it). */
  parkEvent(event: ParkedEvent): Promise<void> {
    return this.#serial(() => void this.#parked.set(parkKey(event.name, event.id), { ...event }));
  }

  /** Parked events of `name` (or all), in position order. */
  listParked(name?: string): Promise<ParkedEvent[]> {
    this.#open();
    const list = [...this.#parked.values()].filter((event) => name === undefined || event.name === name);
    list.sort(parkedOrder);
    return Promise.resolve(list.map((event) => ({ ...event })));
  }

  /** Removes a parked event. */
  unparkEvent(name: string, id: string): Promise<boolean> {
    return this.#serial(() => this.#parked.delete(parkKey(name, id)));
  }

  /** Takes the lease on `name` unless another owner of this adapter holds it (no expiry: one process). */
  acquireLease(name: string, owner: string, _ttl: number): Promise<Lease | undefined> {
    this.#open();
    const holder = this.#leases.get(name);
    if (holder !== undefined && holder !== owner) return Promise.resolve(undefined);
    this.#leases.set(name, owner);
    return Promise.resolve({
      renew: () => Promise.resolve(this.#leases.get(name) === owner),
      release: () => {
        if (this.#leases.get(name) === owner) this.#leases.delete(name);
        return Promise.resolve();
      },
    });
  }

  /** Which of `names` are leased now. */
  heldLeases(names: readonly string[]): Promise<string[]> {
    this.#open();
    return Promise.resolve(names.filter((name) => this.#leases.has(name)));
  }

  /** The data keys of the subjects that have one. */
  getKeys(subjects: readonly string[]): Promise<Map<string, Uint8Array>> {
    this.#open();
    const out = new Map<string, Uint8Array>();
    for (const subject of subjects) {
      const key = this.#keys.get(subject);
      if (key !== undefined) out.set(subject, key.slice());
    }
    return Promise.resolve(out);
  }

  /** Stores `key` for `subject` unless it has one; returns the key it has. A transaction of its own. */
  async createKey(subject: string, key: Uint8Array): Promise<Uint8Array> {
    this.#open();
    checkSubject(subject);
    checkKey(key);
    return await this.transaction(async (tx) =>
      (await tx.createKeys!(new Map([[subject, key]]))).get(subject)!
    );
  }

  /** Destroys the key of `subject` (its bytes are overwritten). */
  deleteKey(subject: string): Promise<boolean> {
    this.#open();
    const key = this.#keys.get(subject);
    if (key === undefined) return Promise.resolve(false);
    key.fill(0);
    this.#keys.delete(subject);
    return Promise.resolve(true);
  }

  /** Events after `position`. */
  countAfter(position: string | null): Promise<number> {
    this.#open();
    const from = position === null ? 0 : Math.min(this.#log.length, parsePosition(position));
    let count = 0;
    for (let i = from; i < this.#log.length; i++) if (this.#log[i] !== undefined) count++;
    return Promise.resolve(count);
  }

  /** Counts and head. */
  stats(): Promise<AdapterStats> {
    this.#open();
    let head: string | null = null;
    for (let i = this.#log.length - 1; i >= 0 && head === null; i--) head = this.#log[i]?.position ?? null;
    let streams = 0;
    for (const count of this.#stored.values()) if (count > 0) streams++;
    return Promise.resolve({ events: this.#events, streams, head });
  }

  /** Forgets nothing (memory ends with the process) but refuses later calls. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
