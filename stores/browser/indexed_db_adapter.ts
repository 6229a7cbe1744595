/**
 * `IndexedDbAdapter`: the store contract on IndexedDB, for browsers (pages, workers,
 * extensions). Commit-checked: reads inside a transaction see committed state, writes are
 * staged, and one readwrite IndexedDB transaction checks and applies them at the end.
 *
 * @module
 */

import { parkedOrder } from "../../contract/_parked_order.ts";
import { type CommitGuard, Turns } from "./_turns.ts";
import { stageCheckpoint, stageInsert, stagePark, stageUnpark } from "../../contract/_staging.ts";
import { StoreClosedError } from "../../errors.ts";
import type { EventRecord } from "../../events/record.ts";
import {
  type Adapter,
  type AdapterStats,
  type AdapterTransaction,
  type Checkpoint,
  type CheckpointUpdate,
  type Lease,
  type LogPageQuery,
  type ParkedEvent,
  parsePosition,
  type RelationChange,
  type Snapshot,
  type StreamPageQuery,
  type StreamStatus,
  StreamTombstonedError,
} from "../../contract/mod.ts";
import { checkKey, checkSubject } from "../_key_input.ts";
import { inPartition } from "../../contract/partitions.ts";
import {
  checkpointMark,
  type CheckpointRow,
  checkpointRow,
  commit,
  type KeyRow,
  type Reads,
  recordOf,
  type StoredEvent,
  type StreamRow,
  type Writes,
} from "./_commit.ts";
import {
  CHECKPOINTS,
  done,
  EVENTS,
  type IdbDatabase,
  type IdbTransaction,
  keyRange,
  KEYS,
  openDatabase,
  PARKED,
  RELATIONS,
  run,
  SNAPSHOTS,
  STREAMS,
  walk,
} from "./_idb.ts";
import { acquireLease, heldLeases } from "./_leases.ts";
import { Watchers } from "./_watch.ts";

/**
 * The transaction handle of an {@linkcode IndexedDbAdapter}: work staged with `onCommit`
 * runs only once the transaction committed.
 */
export interface IndexedDbTransaction {
  /** Runs `apply` after the commit (in staging order); dropped when the transaction fails. */
  onCommit(apply: () => void): void;
}

function checkpointOf(row: CheckpointRow): Checkpoint {
  const checkpoint: { -readonly [K in keyof Checkpoint]: Checkpoint[K] } = {
    name: row.name,
    position: row.position,
    updated: row.updated,
  };
  if ("state" in row && row.state !== undefined) checkpoint.state = row.state;
  if (row.version !== undefined) checkpoint.version = row.version;
  return checkpoint;
}

/**
 * Keeps events in an IndexedDB database of the given name. Several adapters (tabs,
 * workers) may open the same database: their commits are checked against each other,
 * and `watch` hears the others' commits through a `BroadcastChannel`.
 *
 * Payloads are stored as IndexedDB stores them (the structured clone), so `Date`,
 * `bigint`, `Map`, `Set`, typed arrays, `undefined`, `-0` and `NaN` come back exactly.
 * Leases expire after their time to live unless renewed (a closed tab cannot release).
 * Streams can be deleted, truncated and given retention rules, and data keys for
 * crypto-shredding are kept in the database (created in the append that needs them).
 *
 * @example
 * ```ts
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { IndexedDbAdapter } from "@eventfold/eventfold/browser";
 * const events = new EventFactory([event.type("tick")]);
 * if ("indexedDB" in globalThis) {
 *   await using store = new EventStore({ adapter: new IndexedDbAdapter("my-app"), events });
 *   await store.pushEvent(store.event({ type: "tick", stream: "s" }));
 * }
 * ```
 */
export class IndexedDbAdapter implements Adapter<IndexedDbTransaction> {
  /** Always `"indexeddb"`. */
  readonly kind = "indexeddb";
  /** Always `"commit-checked"`: conflicts surface at commit. */
  readonly transactionModel = "commit-checked";
  /** `readLog` honours `partition`. */
  readonly partitionReads = true;
  /** `"indexeddb:<name>"`. */
  readonly location: string;
  /** The database name. */
  readonly name: string;
  #db: Promise<IdbDatabase> | undefined;
  #closed = false;
  readonly #watchers: Watchers;
  readonly #turns: Turns;

  /**
   * Creates it; the database opens (and is created) on first use.
   *
   * @param name the IndexedDB database name
   * @throws {TypeError} when `name` is not a non-empty string
   */
  constructor(name: string) {
    if (typeof name !== "string" || name.length === 0) {
      throw new TypeError(`IndexedDbAdapter needs a database name, got ${JSON.stringify(name)}`);
    }
    this.name = name;
    this.location = `indexeddb:${name}`;
    this.#watchers = new Watchers(name);
    this.#turns = new Turns(name);
  }

  /**
   * The same as `location`.
   *
   * @deprecated use `location`.
   */
  get source(): string {
    return this.location;
  }

  #open(): Promise<IdbDatabase> {
    if (this.#closed) return Promise.reject(new StoreClosedError(`IndexedDB adapter "${this.name}"`));
    this.#db ??= openDatabase(this.name).then((db) => {
      // Another tab upgrading or deleting the database: let it, this adapter is done.
      db.onversionchange = () => db.close();
      return db;
    });
    return this.#db;
  }

  async #read<T>(
    stores: string | readonly string[],
    work: (tx: IdbTransaction) => Promise<T>,
  ): Promise<T> {
    return await run(await this.#open(), stores, "readonly", work);
  }

  async #write<T>(
    stores: string | readonly string[],
    work: (tx: IdbTransaction) => Promise<T>,
  ): Promise<T> {
    return await run(await this.#open(), stores, "readwrite", work);
  }

  /**
   * Runs `work` with reads answered from committed state and writes staged, then checks
   * and commits them in one IndexedDB transaction.
   *
   * @throws {RevisionConflictError} when a stream read or inserted into, or a checkpoint
   *   put, moved since it was read
   * @throws {DuplicateIdError} when an inserted id exists at commit
   */
  async transaction<T>(work: (tx: AdapterTransaction<IndexedDbTransaction>) => Promise<T>): Promise<T> {
    const db = await this.#open();
    return await this.#turns.run((guard) => this.#transaction(db, work, guard));
  }

  async #transaction<T>(
    db: IdbDatabase,
    work: (tx: AdapterTransaction<IndexedDbTransaction>) => Promise<T>,
    guard: CommitGuard,
  ): Promise<T> {
    const reads: Reads = { revisions: new Map(), checkpoints: new Map() };
    const writes: Writes = {
      inserts: [],
      relations: [],
      checkpoints: new Map(),
      parked: new Map(),
      lifecycle: [],
      keys: new Map(),
      onCommit: [],
    };
    let result: T;
    try {
      result = await work(this.#staging(reads, writes));
      if (this.#closed) throw new StoreClosedError(`IndexedDB adapter "${this.name}"`);
      // Commits of events take turns with other tabs' (./_turns.ts); others go at once.
      const events = writes.inserts.length > 0 || writes.lifecycle.length > 0;
      const stored = events ? await guard(() => commit(db, reads, writes)) : await commit(db, reads, writes);
      writes.inserts.forEach((insert, i) => insert.resolve(stored[i]));
    } catch (error) {
      for (const insert of writes.inserts) insert.reject(error);
      throw error;
    }
    if (writes.inserts.some((insert) => insert.records.length > 0)) this.#watchers.announce();
    for (const apply of writes.onCommit) apply();
    return result;
  }

  #staging(reads: Reads, writes: Writes): AdapterTransaction<IndexedDbTransaction> {
    const remember = (stream: string, revision: number): number => {
      if (!reads.revisions.has(stream)) reads.revisions.set(stream, revision);
      return revision;
    };
    const latest = async (pairs: readonly { stream: string; type: string }[]): Promise<(string | null)[]> => {
      const found = await this.#read([EVENTS, STREAMS], async (tx) => {
        const out: { revision: number; latest: string | null }[] = [];
        for (const { stream, type } of pairs) {
          const row = await done(tx.objectStore(STREAMS).get(stream)) as StreamRow | undefined;
          let max: string | null = null;
          const range = keyRange().bound([stream, type], [stream, type, []]);
          await walk(tx.objectStore(EVENTS).index("created").openCursor(range, "prev"), (cursor) => {
            max = (cursor.value as StoredEvent).created;
            return false;
          });
          out.push({ revision: row?.revision ?? 0, latest: max });
        }
        return out;
      });
      return found.map((answer, i) => {
        remember(pairs[i].stream, answer.revision);
        return answer.latest;
      });
    };
    return {
      handle: { onCommit: (apply) => void writes.onCommit.push(apply) },
      revisions: async (streams) => {
        const rows = await this.#read(STREAMS, async (tx) => {
          const store = tx.objectStore(STREAMS);
          const out: (StreamRow | undefined)[] = [];
          for (const stream of streams) out.push(await done(store.get(stream)) as StreamRow | undefined);
          return out;
        });
        const tombstoned = rows.find((row) => row?.tombstoned === true);
        if (tombstoned !== undefined) throw new StreamTombstonedError(tombstoned.stream);
        return new Map(streams.map((stream, i) => [stream, remember(stream, rows[i]?.revision ?? 0)]));
      },
      existing: async (ids) => new Set((await this.getByIds(ids)).map((record) => record.id)),
      latestCreated: async (stream, type) => (await latest([{ stream, type }]))[0],
      latestCreatedMany: latest,
      insert: (records) => stageInsert(writes.inserts, records),
      updateRelations: (changes) => Promise.resolve(void writes.relations.push(...changes)),
      removeStream: (stream, { revision, tombstone }) =>
        Promise.resolve(void writes.lifecycle.push({ op: "remove", stream, revision, tombstone })),
      truncateStream: async (stream, before) => {
        const row = await this.#read(STREAMS, (tx) => done(tx.objectStore(STREAMS).get(stream))) as
          | StreamRow
          | undefined;
        // A stream never written stays unknown; past its end, truncation stops at its revision.
        if (row === undefined || row.revision === 0) return 0;
        remember(stream, row.revision);
        const upTo = Math.min(before, row.revision + 1) - 1;
        writes.lifecycle.push({ op: "truncate", stream, before });
        const range = keyRange().bound([stream, -Infinity], [stream, upTo]);
        return await this.#read(EVENTS, (tx) => done(tx.objectStore(EVENTS).index("stream").count(range)));
      },
      setStreamMetadata: (stream, metadata) =>
        Promise.resolve(void writes.lifecycle.push({ op: "metadata", stream, metadata: { ...metadata } })),
      createKeys: async (given) => {
        for (const [subject, key] of given) {
          checkSubject(subject);
          checkKey(key);
        }
        const held = await this.getKeys([...given.keys()]);
        const out = new Map<string, Uint8Array>();
        for (const [subject, key] of given) {
          const have = held.get(subject) ?? writes.keys.get(subject);
          if (have === undefined) writes.keys.set(subject, key.slice());
          out.set(subject, (have ?? key).slice());
        }
        return out;
      },
      putCheckpoint: async (name, expected, next) => {
        const row = await this.#read(CHECKPOINTS, (tx) => done(tx.objectStore(CHECKPOINTS).get(name))) as
          | CheckpointRow
          | undefined;
        if (!reads.checkpoints.has(name)) reads.checkpoints.set(name, checkpointMark(row));
        return stageCheckpoint(writes.checkpoints, name, expected, next, row?.position ?? null);
      },
      parkEvent: (event) => stagePark(writes.parked, event),
      unparkEvent: (name, id) =>
        stageUnpark(
          writes.parked,
          name,
          id,
          () =>
            this.#read(PARKED, async (tx) =>
              await done(tx.objectStore(PARKED).getKey([name, id])) !== undefined),
        ),
    };
  }

  /** What is known of each stream beyond its events (streams never written, deleted or given metadata are left out). */
  streamStatus(streams: readonly string[]): Promise<Map<string, StreamStatus>> {
    return this.#read(STREAMS, async (tx) => {
      const store = tx.objectStore(STREAMS);
      const out = new Map<string, StreamStatus>();
      for (const stream of streams) {
        const row = await done(store.get(stream)) as StreamRow | undefined;
        if (row === undefined) continue;
        const status: StreamStatus = {
          revision: row.revision,
          deletedAt: row.deletedAt ?? 0,
          tombstoned: row.tombstoned ?? false,
          truncatedBefore: row.truncatedBefore ?? 1,
        };
        out.set(stream, row.metadata === undefined ? status : { ...status, metadata: row.metadata });
      }
      return out;
    });
  }

  /** The streams with metadata, in name order, after `after`. */
  streamsWithMetadata(after: string | undefined, limit: number): Promise<string[]> {
    const range = after === undefined ? undefined : keyRange().lowerBound(after, true);
    return this.#read(STREAMS, async (tx) => {
      const out: string[] = [];
      if (limit <= 0) return out;
      await walk(tx.objectStore(STREAMS).openCursor(range), (cursor) => {
        const row = cursor.value as StreamRow;
        if (row.metadata !== undefined) out.push(row.stream);
        return out.length < limit;
      });
      return out;
    });
  }

  /** The data keys of the subjects that have one. */
  getKeys(subjects: readonly string[]): Promise<Map<string, Uint8Array>> {
    return this.#read(KEYS, async (tx) => {
      const store = tx.objectStore(KEYS);
      const out = new Map<string, Uint8Array>();
      for (const subject of subjects) {
        const row = await done(store.get(subject)) as KeyRow | undefined;
        if (row !== undefined) out.set(subject, row.key);
      }
      return out;
    });
  }

  /** Stores `key` for `subject` unless it has one; returns the key it has now. */
  createKey(subject: string, key: Uint8Array): Promise<Uint8Array> {
    checkSubject(subject);
    checkKey(key);
    return this.#write(KEYS, async (tx) => {
      const store = tx.objectStore(KEYS);
      const row = await done(store.get(subject)) as KeyRow | undefined;
      if (row !== undefined) return row.key;
      await done(store.put({ subject, key: key.slice() } satisfies KeyRow));
      return key.slice();
    });
  }

  /**
   * Destroys the key of `subject`: no later read finds it. IndexedDB gives no way to
   * overwrite the freed bytes on disk; the browser's storage engine reclaims them when it
   * compacts.
   */
  deleteKey(subject: string): Promise<boolean> {
    return this.#write(KEYS, async (tx) => {
      const store = tx.objectStore(KEYS);
      const row = await done(store.get(subject)) as KeyRow | undefined;
      if (row === undefined) return false;
      row.key.fill(0);
      await done(store.put(row));
      await done(store.delete(subject));
      return true;
    });
  }

  /** One page of a stream, in revision order. */
  readStream(stream: string, query: StreamPageQuery): Promise<EventRecord[]> {
    const forward = query.direction === "forward";
    const types = query.types ? new Set(query.types) : undefined;
    const range = forward
      ? keyRange().bound([stream, query.fromRevision ?? 1], [stream, Infinity])
      : keyRange().bound([stream, -Infinity], [stream, query.fromRevision ?? Infinity]);
    return this.#read(EVENTS, async (tx) => {
      const out: EventRecord[] = [];
      if (query.limit <= 0) return out;
      await walk(
        tx.objectStore(EVENTS).index("stream").openCursor(range, forward ? "next" : "prev"),
        (cursor) => {
          const event = cursor.value as StoredEvent;
          if (!types || types.has(event.type)) out.push(recordOf(event));
          return out.length < query.limit;
        },
      );
      return out;
    });
  }

  /** One page of the log, in position order. */
  readLog(query: LogPageQuery): Promise<EventRecord[]> {
    const forward = query.direction === "forward";
    const types = query.types ? new Set(query.types) : undefined;
    const streams = query.streams ? new Set(query.streams) : undefined;
    const partition = query.partition;
    const after = query.after ?? query.cursor;
    const bound = after === undefined ? undefined : parsePosition(after);
    const range = bound === undefined
      ? undefined
      : forward
      ? keyRange().lowerBound(bound, true)
      : keyRange().upperBound(bound, true);
    return this.#read(EVENTS, async (tx) => {
      const out: EventRecord[] = [];
      if (query.limit <= 0) return out;
      await walk(tx.objectStore(EVENTS).openCursor(range, forward ? "next" : "prev"), (cursor) => {
        const event = cursor.value as StoredEvent;
        if (
          (!types || types.has(event.type)) && (!streams || streams.has(event.stream)) &&
          (!partition || inPartition(event.stream, partition))
        ) {
          out.push(recordOf(event));
        }
        return out.length < query.limit;
      });
      return out;
    });
  }

  /** Stored events by id (missing ids are left out). */
  getByIds(ids: readonly string[]): Promise<EventRecord[]> {
    return this.#read(EVENTS, async (tx) => {
      const index = tx.objectStore(EVENTS).index("id");
      const out: EventRecord[] = [];
      for (const id of ids) {
        const event = await done(index.get(id)) as StoredEvent | undefined;
        if (event !== undefined) out.push(recordOf(event));
      }
      return out;
    });
  }

  /** How many events sort after `position` (all for `null`). */
  countAfter(position: string | null): Promise<number> {
    const range = position === null ? undefined : keyRange().lowerBound(parsePosition(position), true);
    return this.#read(EVENTS, (tx) => done(tx.objectStore(EVENTS).count(range)));
  }

  /** Counts and head position. */
  stats(): Promise<AdapterStats> {
    return this.#read([EVENTS, STREAMS], async (tx) => {
      const events = await done(tx.objectStore(EVENTS).count());
      // Deleted streams and streams given only metadata keep a row with no events.
      let streams = 0;
      await walk(tx.objectStore(STREAMS).openCursor(), (cursor) => {
        if ((cursor.value as StreamRow).count > 0) streams++;
        return true;
      });
      let head: string | null = null;
      await walk(tx.objectStore(EVENTS).openCursor(undefined, "prev"), (cursor) => {
        head = recordOf(cursor.value as StoredEvent).position;
        return false;
      });
      return { events, streams, head };
    });
  }

  /** Streams linked to any of `keys`, without repeats. */
  getStreamsByKeys(keys: readonly string[]): Promise<string[]> {
    return this.#read(RELATIONS, async (tx) => {
      const out = new Set<string>();
      for (const key of keys) {
        const rows = await done(tx.objectStore(RELATIONS).getAll(keyRange().bound([key], [key, []]))) as {
          stream: string;
        }[];
        for (const row of rows) out.add(row.stream);
      }
      return [...out];
    });
  }

  /** Applies relation changes on their own, all or none. */
  updateRelations(changes: readonly RelationChange[]): Promise<void> {
    return this.transaction((tx) => tx.updateRelations(changes));
  }

  /** The snapshot saved as (`name`, `stream`), if any. */
  async getSnapshot(name: string, stream: string): Promise<Snapshot | undefined> {
    const row = await this.#read(SNAPSHOTS, (tx) => done(tx.objectStore(SNAPSHOTS).get([name, stream])));
    return row as Snapshot | undefined;
  }

  /** Saves a snapshot, replacing the one with the same (`name`, `stream`). */
  putSnapshot(snapshot: Snapshot): Promise<void> {
    const row: Snapshot = {
      name: snapshot.name,
      stream: snapshot.stream,
      state: snapshot.state,
      revision: snapshot.revision,
      position: snapshot.position,
      version: snapshot.version,
    };
    return this.#write(SNAPSHOTS, async (tx) => void await done(tx.objectStore(SNAPSHOTS).put(row)));
  }

  /** Removes a snapshot. */
  deleteSnapshot(name: string, stream: string): Promise<void> {
    return this.#write(
      SNAPSHOTS,
      async (tx) => void await done(tx.objectStore(SNAPSHOTS).delete([name, stream])),
    );
  }

  /** The checkpoint `name`, if any. */
  async getCheckpoint(name: string): Promise<Checkpoint | undefined> {
    const row = await this.#read(CHECKPOINTS, (tx) => done(tx.objectStore(CHECKPOINTS).get(name)));
    return row === undefined ? undefined : checkpointOf(row as CheckpointRow);
  }

  /** All checkpoints, by name. */
  async listCheckpoints(): Promise<Checkpoint[]> {
    const rows = await this.#read(CHECKPOINTS, (tx) => done(tx.objectStore(CHECKPOINTS).getAll()));
    return (rows as CheckpointRow[]).map(checkpointOf);
  }

  /** Compare-and-set of a checkpoint, in one IndexedDB transaction. */
  putCheckpoint(name: string, expected: string | null, next: CheckpointUpdate): Promise<boolean> {
    return this.#write(CHECKPOINTS, async (tx) => {
      const store = tx.objectStore(CHECKPOINTS);
      const row = await done(store.get(name)) as CheckpointRow | undefined;
      if ((row?.position ?? null) !== expected) return false;
      await done(store.put(checkpointRow(name, next)));
      return true;
    });
  }

  /** Removes a checkpoint. */
  deleteCheckpoint(name: string): Promise<void> {
    return this.#write(CHECKPOINTS, async (tx) => void await done(tx.objectStore(CHECKPOINTS).delete(name)));
  }

  /** Parks an event, replacing an earlier parking of it. */
  parkEvent(event: ParkedEvent): Promise<void> {
    return this.#write(PARKED, async (tx) => void await done(tx.objectStore(PARKED).put({ ...event })));
  }

  /** The parked events of `name` (or all), in position order. */
  async listParked(name?: string): Promise<ParkedEvent[]> {
    const range = name === undefined ? undefined : keyRange().bound([name], [name, []]);
    const rows = await this.#read(
      PARKED,
      (tx) => done(tx.objectStore(PARKED).getAll(range)),
    ) as ParkedEvent[];
    return rows.sort(parkedOrder);
  }

  /** Removes a parked event; returns whether it was parked. */
  unparkEvent(name: string, id: string): Promise<boolean> {
    return this.#write(PARKED, async (tx) => {
      const store = tx.objectStore(PARKED);
      const was = await done(store.getKey([name, id])) !== undefined;
      if (was) await done(store.delete([name, id]));
      return was;
    });
  }

  /**
   * Takes the lease on `name` for `owner` unless another owner holds an unexpired one (in
   * this or another tab). An unrenewed lease expires after `ttl` ms.
   */
  async acquireLease(name: string, owner: string, ttl: number): Promise<Lease | undefined> {
    return await acquireLease(await this.#open(), name, owner, ttl);
  }

  /** Which of `names` are leased now (unexpired), in the order given. */
  async heldLeases(names: readonly string[]): Promise<string[]> {
    return await heldLeases(await this.#open(), names);
  }

  /**
   * Calls `listener` after another adapter over the same database (another tab, worker
   * or adapter) commits events.
   *
   * @returns a function that stops watching
   */
  watch(listener: () => void): () => void {
    return this.#watchers.watch(listener);
  }

  /** Closes the database connection and stops watching. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchers.close();
    const db = this.#db;
    this.#db = undefined;
    if (db !== undefined) (await db.catch(() => undefined))?.close();
  }

  /** {@linkcode IndexedDbAdapter.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
