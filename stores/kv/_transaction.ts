/**
 * One write transaction of a `KvAdapter`, in the commit-checked model: reads answer from
 * committed state and are remembered, writes are staged, and the commit (`_commit.ts`)
 * checks what was read before anything is written.
 *
 * @module
 */

import type { EventRecord } from "../../events/record.ts";
import {
  type AdapterTransaction,
  type CheckpointUpdate,
  type ParkedEvent,
  type RelationChange,
  type StreamMetadata,
  StreamTombstonedError,
} from "../../contract/mod.ts";
import {
  stageCheckpoint,
  type StagedInsert,
  stageInsert,
  stagePark,
  stageUnpark,
} from "../../contract/_staging.ts";
import { checkKey, checkSubject } from "../_key_input.ts";
import type { KvContext } from "./_context.ts";
import { EMPTY_HEAD, type Head, type StreamMeta } from "./_layout.ts";
import { getAll } from "./_io.ts";
import { readDocument } from "./_documents.ts";
import { decodeRecord, grouped } from "./_records.ts";
import { checkKeySize } from "./_limits.ts";

/**
 * The transaction handle of a `KvAdapter`, for a subscription's read-model writes
 * (`subscription.tx()`): keys read through it are checked at commit, keys set or deleted
 * through it commit with the events and the checkpoint, or not at all. Use keys outside
 * the adapter's prefix.
 */
export interface KvTransaction {
  /** The database (reads through it are not part of the transaction). */
  readonly kv: Deno.Kv;
  /** Reads `key` as committed (or as set in this transaction); the commit checks it did not move. */
  get<T>(key: Deno.KvKey): Promise<Deno.KvEntryMaybe<T>>;
  /** Sets `key` to `value` when the transaction commits. */
  set(key: Deno.KvKey, value: unknown): void;
  /** Deletes `key` when the transaction commits. */
  delete(key: Deno.KvKey): void;
}

/** A stream's meta entry as read. */
export type MetaEntry = Deno.KvEntryMaybe<StreamMeta>;

/** The empty meta of a stream never written. */
export const NO_META: StreamMeta = {
  revision: 0,
  stored: 0,
  deletedAt: 0,
  tombstoned: false,
  truncatedBefore: 1,
};

/** Checkpoint document as stored. */
export interface StoredCheckpoint {
  /** Position. */
  readonly position: string | null;
  /** When saved. */
  readonly updated: string;
  /** Version, when given. */
  readonly version?: number;
  /** The state through the codec, when given. */
  readonly state?: Uint8Array;
}

/** What one transaction read and staged. */
export class Staging {
  /** Marks the head's claim of this transaction (its turn, or a big commit's). */
  readonly token: string = crypto.randomUUID();
  /** The head as first read (every later read is checked against it at commit). */
  head: Deno.KvEntryMaybe<Head> | undefined;
  /** Streams' meta entries as read. */
  readonly metas: Map<string, MetaEntry> = new Map();
  /** Staged inserts. */
  readonly inserts: StagedInsert[] = [];
  /** Staged relation changes, in order. */
  readonly relations: RelationChange[] = [];
  /** Versionstamps of checkpoints read by `putCheckpoint`. */
  readonly checkpointReads: Map<string, string | null> = new Map();
  /** Checkpoints read, as read. */
  readonly checkpointValues: Map<string, StoredCheckpoint | undefined> = new Map();
  /** Staged checkpoints. */
  readonly checkpoints: Map<string, CheckpointUpdate> = new Map();
  /** Staged parkings (`undefined` unparks), by `[name, id]`. */
  readonly parked: Map<string, ParkedEvent | undefined> = new Map();
  /** Staged stream removals. */
  readonly removals: Map<string, { revision: number; tombstone: boolean }> = new Map();
  /** Staged truncations: the first revision to keep. */
  readonly truncations: Map<string, number> = new Map();
  /** Staged metadata. */
  readonly metadata: Map<string, StreamMetadata> = new Map();
  /** Data keys read (versionstamp) and staged. */
  readonly keyReads: Map<string, string | null> = new Map();
  /** Data keys to store. */
  readonly keys: Map<string, Uint8Array> = new Map();
  /** Keys read through the handle, with the versionstamp read. */
  readonly userReads: Map<string, { key: Deno.KvKey; versionstamp: string | null }> = new Map();
  /** Writes through the handle, by key (`undefined` deletes). */
  readonly userWrites: Map<string, { key: Deno.KvKey; value: unknown }> = new Map();

  readonly #ctx: KvContext;

  /**
   * Creates it.
   *
   * @param ctx the database
   */
  constructor(ctx: KvContext) {
    this.#ctx = ctx;
  }

  /** Whether the commit must check and write the head. */
  get touchesLog(): boolean {
    return this.head !== undefined || this.inserts.length > 0 || this.removals.size > 0 ||
      this.truncations.size > 0 || this.metadata.size > 0 || this.keys.size > 0;
  }

  /** Reads the head once, before any other read of the log. */
  async readHead(): Promise<Head> {
    this.head ??= await this.#ctx.kv.get<Head>(this.#ctx.layout.head());
    return this.head.value ?? EMPTY_HEAD;
  }

  /** The meta of each stream, read once per transaction. */
  async metaOf(streams: readonly string[]): Promise<StreamMeta[]> {
    await this.readHead();
    const missing = [...new Set(streams.filter((stream) => !this.metas.has(stream)))];
    for (const stream of missing) {
      checkKeySize(this.#ctx.layout.revision(stream, 0, 0), `Stream name "${stream.slice(0, 40)}..."`);
    }
    const entries = await getAll<StreamMeta>(
      this.#ctx.kv,
      missing.map((stream) => this.#ctx.layout.stream(stream)),
    );
    missing.forEach((stream, i) => this.metas.set(stream, entries[i]));
    return streams.map((stream) => this.metas.get(stream)!.value ?? NO_META);
  }

  /** Which of `ids` are stored (verified against the log, so a pointer left by a crashed commit is none). */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    const head = await this.readHead();
    return await storedIds(this.#ctx, ids, head.position);
  }

  /** The greatest `created` of `type` in `stream` (each stream read once per call). */
  async latestCreated(pairs: readonly { stream: string; type: string }[]): Promise<(string | null)[]> {
    const streams = [...new Set(pairs.map((pair) => pair.stream))];
    const metas = await this.metaOf(streams);
    const latest = new Map<string, string>();
    for (const [i, stream] of streams.entries()) {
      const meta = metas[i];
      if (meta.stored === 0) continue;
      const { layout, kv, codec } = this.#ctx;
      const list = kv.list<Uint8Array>({
        start: layout.revision(stream, 1),
        end: layout.revision(stream, meta.revision + 1),
      });
      for await (const { chunks } of grouped(list)) {
        const record = decodeRecord(codec, chunks);
        if (record === undefined) continue;
        const key = JSON.stringify([stream, record.type]);
        const seen = latest.get(key);
        if (seen === undefined || record.created > seen) latest.set(key, record.created);
      }
    }
    return pairs.map((pair) => latest.get(JSON.stringify([pair.stream, pair.type])) ?? null);
  }

  /** The transaction object the work gets. */
  transaction(): AdapterTransaction<KvTransaction> {
    const ctx = this.#ctx;
    const handle: KvTransaction = {
      kv: ctx.kv,
      get: async <T>(key: Deno.KvKey) => {
        const id = JSON.stringify(key, (_, v) => typeof v === "bigint" ? `${v}n` : v);
        const written = this.userWrites.get(id);
        if (written !== undefined) {
          return (written.value === undefined
            ? { key, value: null, versionstamp: null }
            : { key, value: written.value as T, versionstamp: "staged" }) as Deno.KvEntryMaybe<T>;
        }
        const entry = await ctx.kv.get<T>(key);
        if (!this.userReads.has(id)) this.userReads.set(id, { key, versionstamp: entry.versionstamp });
        return entry;
      },
      set: (key, value) => {
        this.userWrites.set(JSON.stringify(key, (_, v) => typeof v === "bigint" ? `${v}n` : v), {
          key,
          value,
        });
      },
      delete: (key) => {
        this.userWrites.set(JSON.stringify(key, (_, v) => typeof v === "bigint" ? `${v}n` : v), {
          key,
          value: undefined,
        });
      },
    };
    return {
      handle,
      revisions: async (streams) => {
        const metas = await this.metaOf(streams);
        const out = new Map<string, number>();
        for (const [i, stream] of streams.entries()) {
          if (metas[i].tombstoned) throw new StreamTombstonedError(stream);
          out.set(stream, metas[i].revision);
        }
        return out;
      },
      existing: (ids) => this.existing(ids),
      latestCreated: async (stream, type) => (await this.latestCreated([{ stream, type }]))[0],
      latestCreatedMany: (pairs) => this.latestCreated(pairs),
      insert: (records) => stageInsert(this.inserts, records),
      updateRelations: (changes) => Promise.resolve(void this.relations.push(...changes)),
      putCheckpoint: async (name, expected, next) => {
        if (!this.checkpointReads.has(name)) {
          const read = await readDocument<StoredCheckpoint>(ctx.kv, ctx.layout.checkpoint(name));
          this.checkpointReads.set(name, read.versionstamp);
          this.checkpointValues.set(name, read.value);
        }
        const committed = this.checkpointValues.get(name)?.position ?? null;
        return stageCheckpoint(this.checkpoints, name, expected, next, committed);
      },
      parkEvent: (event) => stagePark(this.parked, event),
      unparkEvent: (name, id) =>
        stageUnpark(
          this.parked,
          name,
          id,
          async () => (await readDocument(ctx.kv, ctx.layout.parked(name, id))).value !== undefined,
        ),
      removeStream: async (stream, { revision, tombstone }) => {
        await this.metaOf([stream]);
        this.removals.set(stream, { revision, tombstone });
      },
      truncateStream: async (stream, before) => {
        const [meta] = await this.metaOf([stream]);
        if (meta.revision === 0 && this.metas.get(stream)?.versionstamp === null) return 0;
        const cut = Math.min(before, meta.revision + 1);
        const start = Math.max(meta.truncatedBefore, meta.deletedAt + 1);
        this.truncations.set(stream, Math.max(cut, this.truncations.get(stream) ?? 0));
        return Math.max(0, cut - start);
      },
      setStreamMetadata: async (stream, metadata) => {
        await this.metaOf([stream]);
        this.metadata.set(stream, Object.freeze({ ...metadata }));
      },
      createKeys: async (given) => {
        const subjects = [...given.keys()];
        for (const [subject, key] of given) {
          checkSubject(subject);
          checkKey(key);
        }
        await this.readHead();
        const fresh = subjects.filter((subject) => !this.keyReads.has(subject) && !this.keys.has(subject));
        const entries = await getAll<Uint8Array>(ctx.kv, fresh.map((subject) => ctx.layout.dataKey(subject)));
        const held = new Map<string, Uint8Array>();
        fresh.forEach((subject, i) => {
          this.keyReads.set(subject, entries[i].versionstamp);
          if (entries[i].value !== null) held.set(subject, entries[i].value as Uint8Array);
        });
        const out = new Map<string, Uint8Array>();
        for (const [subject, key] of given) {
          const have = held.get(subject) ?? this.keys.get(subject);
          if (have === undefined) this.keys.set(subject, key.slice());
          out.set(subject, (have ?? key).slice());
        }
        return out;
      },
    };
  }
}

/**
 * Which of `ids` are stored at a position up to `head`, their log record carrying the id.
 *
 * @param ctx the database
 * @param ids the ids
 * @param head the head position
 */
export async function storedIds(ctx: KvContext, ids: readonly string[], head: number): Promise<Set<string>> {
  const unique = [...new Set(ids)];
  const entries = await getAll<number>(ctx.kv, unique.map((id) => ctx.layout.id(id)));
  const out = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    if (entry.value === null || entry.value > head) continue;
    if ((await recordAt(ctx, entry.value))?.id === unique[i]) out.add(unique[i]);
  }
  return out;
}

/**
 * The log record at `position`, if any.
 *
 * @param ctx the database
 * @param position the position
 */
export async function recordAt(ctx: KvContext, position: number): Promise<EventRecord | undefined> {
  const chunks: Uint8Array[] = [];
  for await (const entry of ctx.kv.list<Uint8Array>({ prefix: ctx.layout.log(position) })) {
    chunks[entry.key[entry.key.length - 1] as number] = entry.value;
  }
  return chunks.length === 0 ? undefined : decodeRecord(ctx.codec, chunks);
}
