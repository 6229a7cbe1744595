/**
 * {@linkcode KvAdapter}: the store on Deno KV.
 *
 * @module
 */

import { StoreClosedError, StoreOpenError } from "../../errors.ts";
import type { EventRecord } from "../../events/record.ts";
import {
  type Adapter,
  type AdapterStats,
  type AdapterTransaction,
  type Checkpoint,
  type CheckpointUpdate,
  isRevisionConflictError,
  type Lease,
  type LogPageQuery,
  type ParkedEvent,
  type RelationChange,
  type Snapshot,
  type StreamPageQuery,
  type StreamStatus,
} from "../../contract/mod.ts";
import { type Codec, resolveCodec } from "../codec.ts";
import { checkKey, checkSubject } from "../_key_input.ts";
import type { KvContext } from "./_context.ts";
import { Layout } from "./_layout.ts";
import { type KvSource, openKv } from "./_open.ts";
import { type KvTransaction, Staging, type StoredCheckpoint } from "./_transaction.ts";
import { commit, giveTurnBack, takeTurn } from "./_commit.ts";
import * as reads from "./_reads.ts";
import { acquireLease, checkpointOf, heldLeases, listCheckpoints, listParked } from "./_subscriptions.ts";
import { deleteSnapshot, getSnapshot, putSnapshot } from "./_snapshots.ts";
import { documentDeletes, readDocument } from "./_documents.ts";
import { getAll } from "./_io.ts";
import { apply } from "./_mutations.ts";
import { HeadWatch } from "./_watch.ts";
import { patient } from "./_busy.ts";

/** Options of {@linkcode KvAdapter}. */
export interface KvAdapterOptions {
  /**
   * How payloads are encoded: `"cbor"` (the default for a new database), `"json"` or a
   * {@linkcode Codec}. The codec is recorded in the database; asking for another one than
   * the recorded one is a `StoreOpenError`.
   */
  readonly codec?: "cbor" | "json" | Codec;
  /**
   * The key parts every key of the store starts with (default `["eventfold"]`), so that
   * several stores, or a store and other data, share one database.
   */
  readonly prefix?: readonly Deno.KvKeyPart[];
}

/**
 * The Deno KV store. Give it an open `Deno.Kv` (used, never closed), a file path,
 * `":memory:"`, or a URL (KV Connect: Deno Deploy, a self-hosted denokv); Deno must run
 * with `--unstable-kv` (or `"unstable": ["kv"]` in `deno.json`).
 *
 * - Transactions are commit-checked (`atomic()`): reads are remembered and checked at
 *   commit through the head key's versionstamp; a conflict surfaces as a
 *   `RevisionConflictError` from `transaction()`, and the store retries or reports a
 *   `ConcurrencyError`. In-transaction listeners are refused.
 * - Positions count up in commit order (a counter in the head key, which every commit of
 *   events checks): a log read never skips a commit, across processes too.
 * - Values over 64 KiB are stored in chunks; an append too big for one `atomic()` (1000
 *   mutations, 800 KiB) is written past the head in several and made visible in one last
 *   atomic; what cannot be split is refused with a `RangeError` naming the limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { KvAdapter } from "@eventfold/eventfold/kv";
 *
 * const events = new EventFactory([event.type("user:created")]);
 * await using store = new EventStore({ adapter: new KvAdapter(":memory:"), events });
 * await store.pushEvent(store.event({ type: "user:created", stream: "u1" }));
 * assert((await store.stats()).events === 1);
 * ```
 */
export class KvAdapter implements Adapter<KvTransaction>, AsyncDisposable {
  /** Always `"kv"`. */
  readonly kind = "kv";
  /** Conflicts surface at commit (see the class docs). */
  readonly transactionModel = "commit-checked";
  /** `readLog` honours `partition`. */
  readonly partitionReads = true;
  /** The path or URL (without a password), or `"kv:"` for a handed-in database. */
  readonly location: string;
  /**
   * The same as `location`.
   *
   * @deprecated use `location`; `source` goes in the next release.
   */
  get source(): string {
    return this.location;
  }
  /** The payload codec asked for (the recorded one must be the same). */
  readonly codec: Codec;

  readonly #ctx: Promise<KvContext>;
  readonly #owned: boolean;
  readonly #watch = new HeadWatch();
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * Opens the store (the database opens in the background; an opening error comes from
   * the first call).
   *
   * @param source an open `Deno.Kv`, a file path, `":memory:"`, or a URL
   * @param options codec and key prefix
   * @throws {StoreOpenError} when Deno runs without `--unstable-kv` (no `Deno.openKv`);
   *   from the first call, when the database cannot be opened or its codec differs
   * @throws {TypeError} for a source that is none of those, or an unknown codec
   */
  constructor(source: KvSource, options: KvAdapterOptions = {}) {
    this.codec = resolveCodec(options.codec);
    const prefix = options.prefix ?? ["eventfold"];
    if (!Array.isArray(prefix)) throw new TypeError("KvAdapter: prefix must be an array of key parts");
    const opened = openKv(source);
    this.location = opened.location;
    this.#owned = opened.owned;
    const layout = new Layout(prefix);
    this.#ctx = opened.kv.then(async (database) => {
      const kv = patient(database);
      try {
        await recordCodec(kv, layout, this.codec, this.location);
      } catch (error) {
        if (opened.owned) kv.close();
        throw error;
      }
      return { kv, layout, codec: this.codec, contention: { streak: 0 } };
    });
    this.#ctx.catch(() => {});
  }

  async #open(): Promise<KvContext> {
    if (this.#closed) throw new StoreClosedError("KV adapter");
    const ctx = await this.#ctx;
    if (this.#closed) throw new StoreClosedError("KV adapter");
    return ctx;
  }

  /**
   * Runs `work` with reads remembered and writes staged, then commits them in one
   * checked commit (or, for a big append, a claimed series of them; see the class docs).
   *
   * @param work what to do; it must wait on nothing but the transaction's own calls
   * @returns what `work` returned, after the commit
   * @throws {RevisionConflictError} when a stream or checkpoint read moved before the commit
   * @throws {DuplicateIdError} when an inserted id is stored
   * @throws {RangeError} when what must commit together is over a KV limit
   */
  async transaction<T>(work: (tx: AdapterTransaction<KvTransaction>) => Promise<T>): Promise<T> {
    const ctx = await this.#open();
    const staging = new Staging(ctx);
    try {
      if (ctx.contention.streak >= 2) await takeTurn(ctx, staging);
      const result = await work(staging.transaction());
      await this.#open();
      const stored = await commit(ctx, staging);
      staging.inserts.forEach((insert, i) => insert.resolve(stored[i] ?? []));
      return result;
    } catch (error) {
      for (const insert of staging.inserts) insert.reject(error);
      await giveTurnBack(ctx, staging).catch(() => {});
      throw error;
    }
  }

  /** One page of a stream, in revision order (or reversed). */
  async readStream(stream: string, query: StreamPageQuery): Promise<EventRecord[]> {
    return await reads.readStream(await this.#open(), stream, query);
  }

  /** One page of the log, in position order (or reversed). */
  async readLog(query: LogPageQuery): Promise<EventRecord[]> {
    return await reads.readLog(await this.#open(), query);
  }

  /** Stored events by id. */
  async getByIds(ids: readonly string[]): Promise<EventRecord[]> {
    return await reads.getByIds(await this.#open(), ids);
  }

  /** How many events sort after `position`. */
  async countAfter(position: string | null): Promise<number> {
    return await reads.countAfter(await this.#open(), position);
  }

  /** Counts and the head position. */
  async stats(): Promise<AdapterStats> {
    return await reads.stats(await this.#open());
  }

  /** What is known of each stream beyond its events. */
  async streamStatus(streams: readonly string[]): Promise<Map<string, StreamStatus>> {
    return await reads.streamStatus(await this.#open(), streams);
  }

  /** The streams with metadata, in key order, after `after`. */
  async streamsWithMetadata(after: string | undefined, limit: number): Promise<string[]> {
    return await reads.streamsWithMetadata(await this.#open(), after, limit);
  }

  /** Streams linked to any of `keys`. */
  async getStreamsByKeys(keys: readonly string[]): Promise<string[]> {
    const { kv, layout } = await this.#open();
    const out = new Set<string>();
    for (const key of new Set(keys)) {
      for await (const entry of kv.list({ prefix: layout.relation(key) })) {
        out.add(entry.key[entry.key.length - 1] as string);
      }
    }
    return [...out];
  }

  /** Applies relation changes in one atomic commit. */
  async updateRelations(changes: readonly RelationChange[]): Promise<void> {
    await this.transaction((tx) => tx.updateRelations(changes));
  }

  /** The snapshot (`name`, `stream`). */
  async getSnapshot(name: string, stream: string): Promise<Snapshot | undefined> {
    return await getSnapshot(await this.#open(), name, stream);
  }

  /** Saves a snapshot. */
  async putSnapshot(snapshot: Snapshot): Promise<void> {
    await putSnapshot(await this.#open(), snapshot);
  }

  /** Removes a snapshot. */
  async deleteSnapshot(name: string, stream: string): Promise<void> {
    await deleteSnapshot(await this.#open(), name, stream);
  }

  /** The checkpoint `name`. */
  async getCheckpoint(name: string): Promise<Checkpoint | undefined> {
    const ctx = await this.#open();
    const { value } = await readDocument<StoredCheckpoint>(ctx.kv, ctx.layout.checkpoint(name));
    return value === undefined ? undefined : checkpointOf(ctx, name, value);
  }

  /** All checkpoints, by name. */
  async listCheckpoints(): Promise<Checkpoint[]> {
    return await listCheckpoints(await this.#open());
  }

  /** Compare-and-set of a checkpoint (checked at commit against its versionstamp). */
  async putCheckpoint(name: string, expected: string | null, next: CheckpointUpdate): Promise<boolean> {
    for (;;) {
      try {
        return await this.transaction((tx) => tx.putCheckpoint(name, expected, next));
      } catch (error) {
        // Another setter committed in between: read again, and (most likely) lose.
        if (!isRevisionConflictError(error)) throw error;
      }
    }
  }

  /** Removes a checkpoint. */
  async deleteCheckpoint(name: string): Promise<void> {
    const { kv, layout } = await this.#open();
    await apply(kv.atomic(), await documentDeletes(kv, layout.checkpoint(name))).commit();
  }

  /** Parks an event, replacing an earlier parking of it. */
  async parkEvent(event: ParkedEvent): Promise<void> {
    await this.transaction((tx) => tx.parkEvent(event));
  }

  /** Parked events of `name` (of all when absent), in position order. */
  async listParked(name?: string): Promise<ParkedEvent[]> {
    return await listParked(await this.#open(), name);
  }

  /** Removes a parked event; returns whether it was parked. */
  async unparkEvent(name: string, id: string): Promise<boolean> {
    return await this.transaction((tx) => tx.unparkEvent(name, id));
  }

  /**
   * Takes the lease on `name` for `owner` unless another owner holds it. A lease is a key
   * written with `expireIn: ttl`: an unrenewed lease expires after `ttl` ms.
   */
  async acquireLease(name: string, owner: string, ttl: number): Promise<Lease | undefined> {
    const ctx = await this.#open();
    const lease = await acquireLease(ctx, name, owner, ttl);
    if (lease === undefined) return undefined;
    return {
      renew: async () => !this.#closed && await lease.renew(),
      release: async () => {
        if (!this.#closed) await lease.release();
      },
    };
  }

  /** Which of `names` are leased now, through any adapter over the database. */
  async heldLeases(names: readonly string[]): Promise<string[]> {
    return await heldLeases(await this.#open(), names);
  }

  /** The data keys of the subjects that have one. */
  async getKeys(subjects: readonly string[]): Promise<Map<string, Uint8Array>> {
    const { kv, layout } = await this.#open();
    const entries = await getAll<Uint8Array>(kv, subjects.map((subject) => layout.dataKey(subject)));
    const out = new Map<string, Uint8Array>();
    subjects.forEach((subject, i) => {
      if (entries[i].value !== null) out.set(subject, (entries[i].value as Uint8Array).slice());
    });
    return out;
  }

  /** Stores `key` for `subject` unless it has one; returns the key it has. */
  async createKey(subject: string, key: Uint8Array): Promise<Uint8Array> {
    checkSubject(subject);
    checkKey(key);
    for (;;) {
      try {
        return await this.transaction(async (tx) =>
          (await tx.createKeys!(new Map([[subject, key]]))).get(subject)!
        );
      } catch (error) {
        if (!isRevisionConflictError(error)) throw error;
      }
    }
  }

  /**
   * Destroys the key of `subject`. KV keeps no older version of a value readable, but a
   * local file may hold the freed bytes until SQLite reuses the page.
   */
  async deleteKey(subject: string): Promise<boolean> {
    const { kv, layout } = await this.#open();
    const key = layout.dataKey(subject);
    for (;;) {
      const current = await kv.get(key);
      if (current.value === null) return false;
      if ((await kv.atomic().check(current).delete(key).commit()).ok) return true;
    }
  }

  /**
   * Calls `listener` after each commit of events, through `kv.watch` on the head key (it
   * sees commits of other processes on the same database too).
   *
   * @returns stops watching
   */
  watch(listener: () => void): () => void {
    if (this.#closed) throw new StoreClosedError("KV adapter");
    return this.#watch.watch(this.#ctx, listener);
  }

  /** Closes the database if this adapter opened it. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** The same as {@linkcode KvAdapter.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    this.#watch.close();
    let ctx: KvContext;
    try {
      ctx = await this.#ctx;
    } catch {
      return;
    }
    if (this.#owned) ctx.kv.close();
  }
}

/** Records the codec in a new database, or checks that it is the recorded one. */
async function recordCodec(kv: Deno.Kv, layout: Layout, codec: Codec, location: string): Promise<void> {
  for (;;) {
    const recorded = await kv.get<string>(layout.codec());
    if (recorded.value !== null) {
      if (recorded.value !== codec.name) {
        throw new StoreOpenError(
          location,
          `its events are encoded with the "${recorded.value}" codec, not "${codec.name}"`,
        );
      }
      return;
    }
    if ((await kv.atomic().check(recorded).set(layout.codec(), codec.name).commit()).ok) return;
  }
}
