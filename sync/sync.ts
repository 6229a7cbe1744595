/**
 * `sync`: replicates the log of one store into another, once or live.
 *
 * @module
 */

import { EventStore } from "../stores/event_store.ts";
import { local, type SyncBatch, type SyncEndpoint } from "./endpoint.ts";
import { isSyncTransportError } from "./errors.ts";
import { pause } from "./_pause.ts";

/** Either side of a sync: a store of this process, or an endpoint (`remote(url)`, `local(store, { id })`). */
// deno-lint-ignore no-explicit-any
export type SyncSide = SyncEndpoint | EventStore<any, any>;

/** Where a sync is. */
export interface SyncProgress {
  /** Records read from the source so far (echoes and system events other than forgets left out). */
  readonly pulled: number;
  /** Records the target stored. */
  readonly imported: number;
  /** Records the target held already. */
  readonly skipped: number;
  /** The source position reached (the target's checkpoint `sync:<source id>`). */
  readonly position: string | null;
  /** True when the last read found nothing new. */
  readonly caughtUp: boolean;
}

/** Options of {@linkcode sync}. */
export interface SyncOptions {
  /** The source: a store, `remote(url)` or `local(store, { id })`. */
  readonly from: SyncSide;
  /** The target: a store, `remote(url)` or `local(store, { id })`. */
  readonly to: SyncSide;
  /** Keep following the source's new events until `signal` aborts (default false: stop when caught up). */
  readonly live?: boolean;
  /** Stops the sync; the promise then resolves with the progress so far. */
  readonly signal?: AbortSignal;
  /** Records per page (one import each); 500 by default. */
  readonly batchSize?: number;
  /**
   * How long (ms) a caught-up live sync asks a remote source to hold its pull open until
   * new events come (a long poll: they arrive at once, with no polling); 20,000 by
   * default, 0 to poll every `interval` instead. A store of this process wakes the sync
   * itself and needs no wait.
   */
  readonly wait?: number;
  /**
   * How often (ms) a live sync reads a source again when nothing wakes it: a store of
   * this process whose adapter cannot tell of other processes' commits, or a server that
   * answers at once (`maxWait: 0`); 250 by default.
   */
  readonly interval?: number;
  /**
   * How many times in a row a failed transport (a dropped connection, a 5xx) is tried
   * again, with backoff, before the sync rejects; unlimited when live, 8 otherwise.
   */
  readonly retries?: number;
  /** Called after every page and every catch-up. */
  readonly onProgress?: (progress: SyncProgress) => void;
  /** Called with each transport failure that is tried again. */
  readonly onRetry?: (error: Error, attempt: number) => void;
}

function endpointOf(side: SyncSide, what: string): SyncEndpoint {
  if (side instanceof EventStore) return local(side);
  if (
    typeof side !== "object" || side === null || typeof (side as SyncEndpoint).pull !== "function" ||
    typeof (side as SyncEndpoint).push !== "function"
  ) {
    throw new TypeError(`sync() "${what}" must be an EventStore, remote(url) or local(store)`);
  }
  return side as SyncEndpoint;
}

/** The longest a timer can wait (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

function whole(
  value: number | undefined,
  fallback: number,
  name: string,
  min: number,
  max = Infinity,
): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new RangeError(
      `${name} must be a whole number >= ${min}${max === Infinity ? "" : ` and <= ${max}`}, got ${n}`,
    );
  }
  return n;
}

/**
 * Replicates the log of `from` into `to` through the target's `import()`: ids and `created`
 * kept, records hydrated at the target (so its `once` handlers stay silent) and `outdated`
 * decided there. It resumes from the checkpoint `sync:<source id>` kept at the target, which
 * moves after each imported page, so a stopped or failed sync starts again where it was and
 * a page sent twice is skipped by id.
 *
 * Both directions may run at once (`sync({ from: a, to: b })` with `sync({ from: b, to: a })`)
 * without echo: a record that came in from the other side is not sent back. How origin is
 * known: the store that imports a page remembers which ids came from which source (in
 * memory, per store object, from before the import until the other direction's cursor has
 * passed them), and a pull names its target (`peer`) so the source leaves those ids out;
 * a `syncHandler` does the same for its clients. After a process restart that memory is
 * empty: records imported but not yet passed go back once, and the other side skips them
 * by id.
 *
 * Erasure travels: a record whose personal fields were forgotten at the source stays
 * forgotten at the target, and a source's `forget(subject)` (its `"$subject:forgotten"`
 * record) destroys the target's key of the subject too, after the events before it in the
 * log. Other system events (stream deletions, workflow records) are not replicated.
 *
 * Failed transports (a dropped connection, a reply cut short, a 5xx) are tried again with
 * backoff; a refused request (`SyncRequestError`, a 4xx) or a record the target's
 * definitions refuse ends the sync with that error.
 *
 * @param options `from`, `to`, `live`, `signal`, `batchSize`, `wait`, `interval`, `retries`, `onProgress`, `onRetry`
 * @returns the progress when caught up (or, live, when `signal` aborted)
 * @throws {TypeError} for a side that is not a store or an endpoint, or a sync of an endpoint with itself
 * @throws {SyncRequestError} when the server refuses a request
 * @throws {SyncTransportError} after `retries` failed transports in a row
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { sync } from "@eventfold/eventfold/sync";
 * const events = new EventFactory([event.type("tick")]);
 * await using a = new EventStore({ adapter: new MemoryAdapter(), events });
 * await using b = new EventStore({ adapter: new MemoryAdapter(), events });
 * const record = await a.pushEvent(a.event({ type: "tick", stream: "s" }));
 * const progress = await sync({ from: a, to: b });
 * assert.equal(progress.imported, 1);
 * const [copy] = await b.getEvents();
 * assert(copy.id === record.id && copy.imported === true);
 * ```
 */
export async function sync(options: SyncOptions): Promise<SyncProgress> {
  const source = endpointOf(options?.from, "from");
  const target = endpointOf(options.to, "to");
  if (source.id === target.id) throw new TypeError(`sync() from and to are the same store (${source.id})`);
  const live = options.live ?? false;
  const signal = options.signal;
  const limit = whole(options.batchSize, 500, "batchSize", 1);
  const interval = whole(options.interval, 250, "interval", 0, MAX_TIMER_MS);
  // A store here wakes the sync through `changes`; a remote source holds the pull open.
  const asked = whole(options.wait, 20_000, "wait", 0, MAX_TIMER_MS);
  const wait = source.changes === undefined ? asked : 0;
  const retries = options.retries === undefined
    ? (live ? Infinity : 8)
    : whole(options.retries, 0, "retries", 0);
  let failures = 0;
  const retrying = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    for (;;) {
      if (signal?.aborted) return undefined;
      try {
        const result = await work();
        failures = 0;
        return result;
      } catch (error) {
        if (signal?.aborted) return undefined;
        if (!isSyncTransportError(error) || ++failures > retries) throw error;
        options.onRetry?.(error, failures);
        await pause(Math.min(2000, 25 * 2 ** Math.min(failures, 7)) * (0.5 + Math.random() / 2), signal);
      }
    }
  };
  let progress: SyncProgress = { pulled: 0, imported: 0, skipped: 0, position: null, caughtUp: false };
  const report = (next: SyncProgress): void => {
    progress = next;
    options.onProgress?.(progress);
  };
  const start = await retrying(() => target.checkpoint(source.id, signal));
  if (start === undefined) return progress;
  let cursor = start;
  progress = { ...progress, position: cursor };
  let caughtUp = false;
  for (;;) {
    const began = Date.now();
    const held = live && caughtUp ? wait : 0;
    const batch: SyncBatch | undefined = await retrying(() =>
      source.pull({ after: cursor, limit, peer: target.id, signal, ...(held > 0 ? { wait: held } : {}) })
    );
    if (batch === undefined) return progress;
    if (batch.cursor === cursor) {
      caughtUp = true;
      report({ ...progress, caughtUp: true });
      if (!live || signal?.aborted) return progress;
      // The next pull is held open at the source (a long poll); a source that answered a
      // held pull at once (it does not hold pulls) is read again after `interval`.
      const waited = Date.now() - began;
      if (wait === 0) await pause(interval, signal, source.changes?.bind(source));
      else if (held > 0 && waited < interval) await pause(interval - waited, signal);
      continue;
    }
    caughtUp = false;
    const pushed = await retrying(() => target.push(batch, { from: source.id, signal }));
    if (pushed === undefined) return progress;
    cursor = batch.cursor;
    report({
      pulled: progress.pulled + batch.records.length,
      imported: progress.imported + pushed.imported,
      skipped: progress.skipped + pushed.skipped,
      position: cursor,
      caughtUp: false,
    });
  }
}
