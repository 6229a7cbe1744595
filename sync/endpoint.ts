/**
 * What `sync` moves records between: a store in this process ({@linkcode local}) or one
 * behind a `syncHandler` (`remote`), both seen through one small interface.
 *
 * @module
 */

import type { EventStore } from "../stores/event_store.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import type { Adapter } from "../contract/adapter.ts";
import type { Watchable } from "../contract/event_log.ts";
import type { PendingEvent } from "../events/record.ts";
import { SUBJECT_FORGOTTEN } from "../events/system.ts";
import { forgottenData } from "../stores/_forgotten.ts";
import { echoes } from "./_echo.ts";
import { pause } from "./_pause.ts";

/** A record as sync carries it: what makes the event, and where it sits in its source's log. */
export interface SyncRecord {
  /** The event id, kept across stores. */
  readonly id: string;
  /** Its stream. */
  readonly stream: string;
  /** Its type. */
  readonly type: string;
  /** The version of its definition the payloads are at. */
  readonly version: number;
  /** When its producer made it (kept across stores). */
  readonly created: string;
  /** Its position in the source's log. */
  readonly position: string;
  /** The payload. */
  readonly data: unknown;
  /** The metadata. */
  readonly meta: unknown;
  /**
   * `true` for a record whose personal fields were forgotten at the source: it carries them
   * without ciphertext or key, at its stored version, and stays forgotten at the target.
   */
  readonly forgotten?: boolean;
}

/** One page of a source's log. */
export interface SyncBatch {
  /** The records to import, in log order. */
  readonly records: readonly SyncRecord[];
  /**
   * The source position this page reaches (the last position read, which may be past the
   * last record when records were left out as echoes or system events); `null` at the start.
   */
  readonly cursor: string | null;
}

/** What a pull asks for. */
export interface PullQuery {
  /** Positions after this one; `null` from the start. */
  readonly after: string | null;
  /** At most this many records read. */
  readonly limit: number;
  /** The id of the endpoint the records go to: what came from it is left out. */
  readonly peer: string;
  /**
   * When nothing is after `after`, how long (ms) to wait for the log to grow before
   * answering (a long poll); 0 or left out: answer at once.
   */
  readonly wait?: number;
  /** Aborts the request (a long poll then answers with what it has). */
  readonly signal?: AbortSignal;
}

/** What a push tells the target. */
export interface PushQuery {
  /** The id of the source: names the target's checkpoint `sync:<from>` and marks echoes. */
  readonly from: string;
  /** Aborts the request. */
  readonly signal?: AbortSignal;
}

/** What a push did at the target. */
export interface PushResult {
  /** How many records were stored. */
  readonly imported: number;
  /** How many the target held already. */
  readonly skipped: number;
}

/** One side of a sync: a store here ({@linkcode local}) or behind a `syncHandler` (`remote`). */
export interface SyncEndpoint {
  /** A stable identity: the checkpoint it keeps at a target is `sync:<id>`. */
  readonly id: string;
  /** Reads one page of the log after a position, leaving out what came from `peer`. */
  pull(query: PullQuery): Promise<SyncBatch>;
  /**
   * Imports a page (ids kept, hydrated, `outdated` decided here), then moves the
   * checkpoint `sync:<from>` to the page's cursor (never backwards).
   */
  push(batch: SyncBatch, query: PushQuery): Promise<PushResult>;
  /** The position of the checkpoint `sync:<from>` kept here; `null` when there is none. */
  checkpoint(from: string, signal?: AbortSignal): Promise<string | null>;
  /** Calls `listener` when the log may have grown; returns a function that stops it. Optional: sync polls too. */
  changes?(listener: () => void): () => void;
}

/** Options of {@linkcode local}. */
export interface LocalOptions {
  /**
   * The store's identity in sync, which names the checkpoint it keeps at its targets
   * (`sync:<id>`). By default the adapter's `location` (a SQLite path, a PostgreSQL URL),
   * or, for a memory store, a random id for this object. Give one when two nodes could
   * share a location (the same file path on two machines).
   */
  readonly id?: string;
}

/** The prefix of the checkpoints sync keeps at a target. */
export const CHECKPOINT_PREFIX = "sync:";

const ids = new WeakMap<object, string>();
const endpoints = new WeakMap<object, SyncEndpoint>();

/**
 * A store of this process as a sync endpoint. `sync` calls it for a bare store; call it
 * to give the store an `id`.
 *
 * @param store the store
 * @param options `id`
 * @returns the endpoint
 * @throws {TypeError} for an empty id
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { local } from "@eventfold/eventfold/sync";
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([event.type("tick")]) });
 * assert.equal(local(store, { id: "phone-1" }).id, "phone-1");
 * ```
 */
export function local<TEvents extends AnyEventFactory, TAdapter extends Adapter>(
  store: EventStore<TEvents, TAdapter>,
  options: LocalOptions = {},
): SyncEndpoint {
  if (options.id !== undefined && (typeof options.id !== "string" || options.id === "")) {
    throw new TypeError("local() id must be a non-empty string");
  }
  if (options.id === undefined && endpoints.has(store)) return endpoints.get(store)!;
  const id = options.id ?? storeId(store);
  const endpoint = new LocalEndpoint(store as unknown as EventStore<AnyEventFactory>, id);
  if (options.id === undefined) endpoints.set(store, endpoint);
  return endpoint;
}

function storeId(store: object & { readonly adapter: { readonly location?: string } }): string {
  const location = store.adapter.location;
  if (typeof location === "string" && location !== "" && !location.startsWith("memory:")) return location;
  let id = ids.get(store);
  if (id === undefined) ids.set(store, id = `memory:${crypto.randomUUID()}`);
  return id;
}

/**
 * Moves checkpoint `name` of a store to `position`, never backwards (positions sort).
 *
 * @param store the store
 * @param name the checkpoint
 * @param position the new position
 */
export async function advance(
  store: EventStore<AnyEventFactory>,
  name: string,
  position: string | null,
): Promise<void> {
  if (position === null) return;
  for (;;) {
    const current = (await store.checkpoints.get(name))?.position ?? null;
    if (current !== null && current >= position) return;
    if (await store.checkpoints.put(name, position, { expected: current })) return;
  }
}

class LocalEndpoint implements SyncEndpoint {
  readonly id: string;
  readonly #store: EventStore<AnyEventFactory>;

  constructor(store: EventStore<AnyEventFactory>, id: string) {
    this.#store = store;
    this.id = id;
  }

  async pull(query: PullQuery): Promise<SyncBatch> {
    return await pullFrom(this.#store, query);
  }

  async push(batch: SyncBatch, query: PushQuery): Promise<PushResult> {
    return await pushInto(this.#store, batch, query.from);
  }

  async checkpoint(from: string): Promise<string | null> {
    return (await this.#store.checkpoints.get(CHECKPOINT_PREFIX + from))?.position ?? null;
  }

  changes(listener: () => void): () => void {
    return changesOf(this.#store, listener);
  }
}

/**
 * Calls `listener` when the store's log may have grown: an append through this store
 * object, or a commit another connection made (the adapter's `watch`, where it has one).
 *
 * @param store the store
 * @param listener what to call
 * @returns a function that stops it
 */
function changesOf(store: EventStore<AnyEventFactory>, listener: () => void): () => void {
  const registration = store.onEventsInserted(() => listener());
  let unwatch: (() => void) | undefined;
  try {
    unwatch = (store.adapter as Watchable).watch?.(listener);
  } catch (error) {
    registration.unsubscribe();
    throw error;
  }
  return () => {
    registration.unsubscribe();
    unwatch?.();
  };
}

/**
 * How often a long poll reads again without a wake-up: an adapter's `watch` may start late
 * (Deno KV's) or miss a commit, so such a commit waits this long at most.
 */
export const LONG_POLL_CHECK_MS = 1_000;

/**
 * One page of a store's log for `peer`: system events (`$`-types, such as stream
 * deletions) other than forgets (`"$subject:forgotten"`) and the records that came in from
 * `peer` are left out; the cursor still moves past them. Forgotten records go at their
 * stored version, each personal field without its ciphertext. With `wait`, a read that
 * finds nothing after `after` waits for the log to grow (woken by appends and the
 * adapter's `watch`, reading again every second too) until `wait` ms have passed or
 * `signal` aborts, and then answers with what it has.
 *
 * @param store the store
 * @param query `after`, `limit`, `peer`, `wait`, `signal`
 * @param recheck how often a long poll reads again without a wake-up (ms)
 * @returns the page
 * @throws {TypeError} for a bad cursor
 */
export async function pullFrom(
  store: EventStore<AnyEventFactory>,
  query: PullQuery,
  recheck: number = LONG_POLL_CHECK_MS,
): Promise<SyncBatch> {
  const wait = query.wait ?? 0;
  if (!(wait > 0)) return await readPage(store, query);
  const deadline = Date.now() + wait;
  let changed = false;
  let ring: (() => void) | undefined;
  // Listening before the first read: a commit through this store, or one the adapter's
  // watch reports, between the read and the wait is not missed.
  const stop = changesOf(store, () => {
    changed = true;
    ring?.();
  });
  try {
    for (;;) {
      changed = false;
      const batch = await readPage(store, query);
      const left = deadline - Date.now();
      if (batch.cursor !== query.after || left <= 0 || query.signal?.aborted) return batch;
      if (changed) continue;
      await pause(Math.min(left, recheck), query.signal, (listener) => {
        ring = listener;
        return () => void (ring = undefined);
      });
    }
  } finally {
    stop();
  }
}

async function readPage(store: EventStore<AnyEventFactory>, query: PullQuery): Promise<SyncBatch> {
  const echo = echoes(store, query.peer);
  const records: SyncRecord[] = [];
  let cursor = query.after;
  let forgotten: string[] | undefined;
  for await (
    const r of store.readAll({ ...(query.after === null ? {} : { after: query.after }), limit: query.limit })
  ) {
    cursor = r.position;
    if ((r.type.startsWith("$") && r.type !== SUBJECT_FORGOTTEN) || echo.has(r.id)) continue;
    if (r.forgotten === true) (forgotten ??= []).push(r.id);
    records.push({
      id: r.id,
      stream: r.stream,
      type: r.type,
      version: r.version ?? 1,
      created: r.created,
      position: r.position,
      data: r.data,
      meta: r.meta,
    });
  }
  // Only now: a cursor the read refused forgets nothing.
  echo.passed(query.after);
  return { records: forgotten === undefined ? records : await asStored(store, records, forgotten), cursor };
}

/**
 * The forgotten records of a page as their store holds them (at the version stored, each
 * sealed field without its ciphertext), so the target keeps them forgotten whatever their
 * version: a forgotten record read at the current version may not be upcast from its own.
 */
async function asStored(
  store: EventStore<AnyEventFactory>,
  records: SyncRecord[],
  ids: readonly string[],
): Promise<SyncRecord[]> {
  const forgotten = new Set(ids);
  const stored = new Map((await store.adapter.getByIds(ids)).map((r) => [r.id, r]));
  return records.map((r) => {
    if (!forgotten.has(r.id)) return r;
    const raw = stored.get(r.id);
    // Removed since the read: its personal fields go as read, null.
    if (raw === undefined) return { ...r, forgotten: true };
    return {
      ...r,
      type: raw.type,
      version: raw.version ?? 1,
      data: forgottenData(raw.data),
      meta: raw.meta,
      forgotten: true,
    };
  });
}

/**
 * Imports a page into a store as coming from `from`, then moves `sync:<from>`.
 *
 * @param store the store
 * @param batch the page
 * @param from the source's id
 * @returns the counts
 * @throws {EventValidationError} for a record the store's definitions refuse; nothing is stored
 */
export async function pushInto(
  store: EventStore<AnyEventFactory>,
  batch: SyncBatch,
  from: string,
): Promise<PushResult> {
  let result: PushResult = { imported: 0, skipped: 0 };
  if (batch.records.length > 0) {
    const echo = echoes(store, from);
    const ids = batch.records.map((r) => r.id);
    echo.expect(ids);
    try {
      const pending: (PendingEvent & { readonly forgotten?: boolean })[] = batch.records.map((r) => ({
        id: r.id,
        stream: r.stream,
        type: r.type,
        version: r.version,
        created: r.created,
        data: r.data,
        meta: r.meta,
        ...(r.forgotten === true ? { forgotten: true } : {}),
      }));
      const { imported, skipped } = await store.import(pending);
      echo.settle(imported, skipped);
      result = { imported: imported.length, skipped: skipped.length };
    } catch (error) {
      echo.forget(ids);
      throw error;
    }
  }
  await advance(store, CHECKPOINT_PREFIX + from, batch.cursor);
  return result;
}
