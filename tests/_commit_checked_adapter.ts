/**
 * `CommitCheckedAdapter`: a test adapter with the commit-checked transaction model of
 * `contract/adapter.ts` (the model of Deno KV's `atomic()` and IndexedDB), held in a
 * {@linkcode MemoryAdapter}. Reads inside a transaction answer from committed state
 * without locking and are remembered; writes are staged; when the work resolves, one
 * commit (one transaction of the inner adapter, so it is atomic) checks what was read
 * and inserted, then applies the staged writes. Positions exist only after it.
 *
 * @example
 * ```ts ignore
 * const adapter = new CommitCheckedAdapter({ beforeCommit: () => both.arrive() });
 * await using one = new EventStore({ adapter, events });
 * await using two = new EventStore({ adapter, events });
 * // two appends that read the same revision: the later commit fails and is retried
 * ```
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";
import {
  type Adapter,
  type AdapterStats,
  type AdapterTransaction,
  type Checkpoint,
  type CheckpointUpdate,
  DuplicateIdError,
  type Lease,
  type LogPageQuery,
  type ParkedEvent,
  type RelationChange,
  RevisionConflictError,
  type Snapshot,
  type StreamPageQuery,
} from "../contract/mod.ts";
import { MemoryAdapter, type MemoryTransaction } from "../stores/memory/mod.ts";
import {
  insertChecks,
  stageCheckpoint,
  type StagedInsert,
  stageInsert,
  stagePark,
  stageUnpark,
} from "../contract/_staging.ts";

/** Options of {@linkcode CommitCheckedAdapter}. */
export interface CommitCheckedOptions {
  /** The adapter that holds the committed state (default: a fresh `MemoryAdapter`). */
  readonly inner?: MemoryAdapter;
  /**
   * Awaited after a transaction's work resolved and before its commit: a test holds
   * transactions here to interleave them, so that a later commit meets what an earlier
   * one wrote.
   */
  readonly beforeCommit?: () => void | Promise<void>;
}

/** What one transaction read from committed state; the commit checks it still holds. */
interface Reads {
  /** Revision answered per stream (the first answer). */
  readonly revisions: Map<string, number>;
  /** Checkpoint seen per name by `putCheckpoint` (the first look). */
  readonly checkpoints: Map<string, string>;
}

/** What one transaction will write at its commit. */
interface Writes {
  readonly inserts: StagedInsert[];
  readonly relations: RelationChange[];
  /** The last checkpoint put per name (the commit puts it against the one read). */
  readonly checkpoints: Map<string, CheckpointUpdate>;
  /** Parked events per key; `undefined` unparks. */
  readonly parked: Map<string, ParkedEvent | undefined>;
  readonly onCommit: (() => void)[];
}

const PAGE = 1000;

/** A checkpoint as compared at commit: absent, or its position, time and version. */
const checkpointMark = (checkpoint: Checkpoint | undefined): string =>
  checkpoint === undefined
    ? "absent"
    : JSON.stringify([checkpoint.position, checkpoint.updated, checkpoint.version ?? null]);

/**
 * A commit-checked adapter over memory, for the conformance suite and the store's
 * commit-checked paths. Everything outside `transaction` goes to the inner adapter.
 */
export class CommitCheckedAdapter implements Adapter<MemoryTransaction> {
  /** `"memory"`: the state is the inner memory adapter's, and handles have its shape. */
  readonly kind = "memory";
  /** `"memory:commit-checked"`. */
  readonly location = "memory:commit-checked";
  /** Always `"commit-checked"`. */
  readonly transactionModel = "commit-checked";
  /** The adapter holding the committed state. */
  readonly inner: MemoryAdapter;
  readonly #beforeCommit?: () => void | Promise<void>;
  /** How many commits failed a check, for tests that want to see a real conflict. */
  conflicts = 0;

  /**
   * Creates it.
   *
   * @param options the inner adapter and the hook before each commit
   */
  constructor(options: CommitCheckedOptions = {}) {
    this.inner = options.inner ?? new MemoryAdapter();
    this.#beforeCommit = options.beforeCommit;
  }

  /**
   * The same as `location`.
   *
   * @deprecated use `location`.
   */
  get source(): string {
    return this.location;
  }

  /**
   * Runs `work` with reads answered from committed state and writes staged, then commits
   * them at once after checking that nothing read or inserted moved.
   *
   * @throws {RevisionConflictError} when a stream read or inserted into, or a checkpoint
   *   put, moved since it was read
   * @throws {DuplicateIdError} when an inserted id exists at commit
   */
  async transaction<T>(work: (tx: AdapterTransaction<MemoryTransaction>) => Promise<T>): Promise<T> {
    const reads: Reads = { revisions: new Map(), checkpoints: new Map() };
    const writes: Writes = {
      inserts: [],
      relations: [],
      checkpoints: new Map(),
      parked: new Map(),
      onCommit: [],
    };
    let result: T;
    try {
      result = await work(this.#staging(reads, writes));
      await this.#beforeCommit?.();
      const stored = await this.inner.transaction((tx) => this.#commit(tx, reads, writes));
      writes.inserts.forEach((insert, i) => insert.resolve(stored[i]));
    } catch (error) {
      for (const insert of writes.inserts) insert.reject(error);
      throw error;
    }
    return result;
  }

  #staging(reads: Reads, writes: Writes): AdapterTransaction<MemoryTransaction> {
    const remember = async (stream: string): Promise<number> => {
      const revision = await this.#revisionOf(stream);
      if (!reads.revisions.has(stream)) reads.revisions.set(stream, revision);
      return revision;
    };
    const latest = async (stream: string, type: string): Promise<string | null> => {
      await remember(stream);
      return await this.#latestCreated(stream, type);
    };
    return {
      handle: { onCommit: (apply) => void writes.onCommit.push(apply) },
      revisions: async (streams) => {
        const out = new Map<string, number>();
        for (const stream of streams) out.set(stream, await remember(stream));
        return out;
      },
      existing: async (ids) => new Set((await this.inner.getByIds(ids)).map((record) => record.id)),
      latestCreated: latest,
      latestCreatedMany: async (pairs) => {
        const out: (string | null)[] = [];
        for (const pair of pairs) out.push(await latest(pair.stream, pair.type));
        return out;
      },
      insert: (records) => stageInsert(writes.inserts, records),
      updateRelations: (changes) => Promise.resolve(void writes.relations.push(...changes)),
      putCheckpoint: async (name, expected, next) => {
        const committed = await this.inner.getCheckpoint(name);
        if (!reads.checkpoints.has(name)) reads.checkpoints.set(name, checkpointMark(committed));
        return stageCheckpoint(writes.checkpoints, name, expected, next, committed?.position ?? null);
      },
      parkEvent: (event) => stagePark(writes.parked, event),
      unparkEvent: (name, id) =>
        stageUnpark(
          writes.parked,
          name,
          id,
          async () => (await this.inner.listParked(name)).some((event) => event.id === id),
        ),
    };
  }

  /** Checks, then applies; runs inside one inner transaction, so no other commit interleaves. */
  async #commit(
    tx: AdapterTransaction<MemoryTransaction>,
    reads: Reads,
    writes: Writes,
  ): Promise<EventRecord[][]> {
    await this.#check(reads, writes);
    const stored: EventRecord[][] = [];
    for (const insert of writes.inserts) {
      stored.push(insert.records.length > 0 ? await tx.insert(insert.records) : []);
    }
    if (writes.relations.length > 0) await tx.updateRelations(writes.relations);
    for (const [name, next] of writes.checkpoints) {
      const committed = await this.inner.getCheckpoint(name);
      await tx.putCheckpoint(name, committed?.position ?? null, next);
    }
    for (const [key, event] of writes.parked) {
      if (event !== undefined) await tx.parkEvent(event);
      else {
        const [name, id] = JSON.parse(key) as [string, string];
        await tx.unparkEvent(name, id);
      }
    }
    for (const apply of writes.onCommit) tx.handle.onCommit(apply);
    return stored;
  }

  async #check(reads: Reads, writes: Writes): Promise<void> {
    const { expected, ids, repeated } = insertChecks(reads.revisions, writes.inserts);
    for (const [stream, revision] of expected) {
      if (await this.#revisionOf(stream) !== revision) {
        this.conflicts++;
        throw new RevisionConflictError(stream);
      }
    }
    for (const record of await this.inner.getByIds([...ids])) repeated.add(record.id);
    if (repeated.size > 0) {
      this.conflicts++;
      throw new DuplicateIdError([...repeated]);
    }
    for (const [name, mark] of reads.checkpoints) {
      if (checkpointMark(await this.inner.getCheckpoint(name)) !== mark) {
        this.conflicts++;
        throw new RevisionConflictError("$checkpoint:" + name);
      }
    }
  }

  async #revisionOf(stream: string): Promise<number> {
    const [last] = await this.inner.readStream(stream, { direction: "backward", limit: 1 });
    return last?.revision ?? 0;
  }

  async #latestCreated(stream: string, type: string): Promise<string | null> {
    let latest: string | null = null;
    for (let from = 1;; from += PAGE) {
      const page = await this.inner.readStream(stream, {
        direction: "forward",
        fromRevision: from,
        limit: PAGE,
      });
      for (const record of page) {
        if (record.type === type && (latest === null || record.created > latest)) latest = record.created;
      }
      if (page.length < PAGE) return latest;
    }
  }

  /** One page of a stream. */
  readStream(stream: string, query: StreamPageQuery): Promise<EventRecord[]> {
    return this.inner.readStream(stream, query);
  }

  /** One page of the log. */
  readLog(query: LogPageQuery): Promise<EventRecord[]> {
    return this.inner.readLog(query);
  }

  /** Stored events by id. */
  getByIds(ids: readonly string[]): Promise<EventRecord[]> {
    return this.inner.getByIds(ids);
  }

  /** Events after `position`. */
  countAfter(position: string | null): Promise<number> {
    return this.inner.countAfter(position);
  }

  /** Counts and head. */
  stats(): Promise<AdapterStats> {
    return this.inner.stats();
  }

  /** Closes the inner adapter. */
  close(): Promise<void> {
    return this.inner.close();
  }

  /** Closes the inner adapter (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Streams linked to any of `keys`. */
  getStreamsByKeys(keys: readonly string[]): Promise<string[]> {
    return this.inner.getStreamsByKeys(keys);
  }

  /** Relation changes on their own. */
  updateRelations(changes: readonly RelationChange[]): Promise<void> {
    return this.inner.updateRelations(changes);
  }

  /** A snapshot. */
  getSnapshot(name: string, stream: string): Promise<Snapshot | undefined> {
    return this.inner.getSnapshot(name, stream);
  }

  /** Saves a snapshot. */
  putSnapshot(snapshot: Snapshot): Promise<void> {
    return this.inner.putSnapshot(snapshot);
  }

  /** Removes a snapshot. */
  deleteSnapshot(name: string, stream: string): Promise<void> {
    return this.inner.deleteSnapshot(name, stream);
  }

  /** A checkpoint. */
  getCheckpoint(name: string): Promise<Checkpoint | undefined> {
    return this.inner.getCheckpoint(name);
  }

  /** All checkpoints. */
  listCheckpoints(): Promise<Checkpoint[]> {
    return this.inner.listCheckpoints();
  }

  /** Compare-and-set of a checkpoint. */
  putCheckpoint(name: string, expected: string | null, next: CheckpointUpdate): Promise<boolean> {
    return this.inner.putCheckpoint(name, expected, next);
  }

  /** Removes a checkpoint. */
  deleteCheckpoint(name: string): Promise<void> {
    return this.inner.deleteCheckpoint(name);
  }

  /** Parks an event. */
  parkEvent(event: ParkedEvent): Promise<void> {
    return this.inner.parkEvent(event);
  }

  /** Parked events. */
  listParked(name?: string): Promise<ParkedEvent[]> {
    return this.inner.listParked(name);
  }

  /** Removes a parked event. */
  unparkEvent(name: string, id: string): Promise<boolean> {
    return this.inner.unparkEvent(name, id);
  }

  /** Takes a lease. */
  acquireLease(name: string, owner: string, ttl: number): Promise<Lease | undefined> {
    return this.inner.acquireLease(name, owner, ttl);
  }
}
