/**
 * Scavenging: removing for good what the streams' retention rules hide. It walks the
 * streams that have metadata and truncates each one below its floor (`_retention.ts`: the
 * same floor reads start at), in transactions of at most `batchSize` events, reading the
 * stream's status again before each one, so a rule changed meanwhile is taken into
 * account. A stream's floor when the run reaches it bounds the run there. It stops
 * between transactions when its signal aborts: what it removed was hidden already, and a
 * later run goes on where it stopped.
 *
 * @module
 */

import { delay } from "../async.ts";
import type { Adapter } from "../contract/mod.ts";
import { Retention } from "./_retention.ts";

/** Options of `scavenge`. */
export interface ScavengeOptions {
  /** Stops the run between two transactions; the result then says `complete: false`. */
  readonly signal?: AbortSignal;
  /** At most this many events removed per transaction (default 1000). */
  readonly batchSize?: number;
  /** Called after every transaction with the counts so far. */
  readonly onProgress?: (progress: ScavengeProgress) => void;
}

/** Counts of a scavenge run so far. */
export interface ScavengeProgress {
  /** Streams with metadata looked at. */
  readonly streams: number;
  /** Events removed. */
  readonly removed: number;
  /** Transactions committed. */
  readonly transactions: number;
}

/** What a scavenge run did. */
export interface ScavengeResult extends ScavengeProgress {
  /** Streams that had events removed. */
  readonly truncated: number;
  /** False when the signal stopped the run before every stream was done. */
  readonly complete: boolean;
}

const NAMES_PER_PAGE = 100;
/** How often a run gives the event loop a turn, so a signal (Ctrl-C) can be delivered over a synchronous driver. */
const TURN_MS = 20;

function checkBatch(value: unknown): number {
  if (value === undefined) return 1000;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(
      `batchSize must be a whole number from 1, got ${JSON.stringify(value) ?? typeof value}`,
    );
  }
  return value;
}

function checkOptions(options: unknown): ScavengeOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError("scavenge options must be an object");
  }
  const { signal, onProgress } = options as ScavengeOptions;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("signal must be an AbortSignal");
  }
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new TypeError("onProgress must be a function");
  }
  return options as ScavengeOptions;
}

/**
 * Removes what the retention rules of every stream with metadata hide now.
 *
 * @param adapter the storage
 * @param now the time ages are told by, ms since the epoch
 * @param options signal, batch size, progress
 * @returns the counts, and whether every stream was done
 * @throws {TypeError} for an adapter without stream lifecycle support, or bad options
 * @throws {RangeError} for a bad batch size
 */
export async function scavenge(
  adapter: Adapter,
  now: () => number,
  options: ScavengeOptions = {},
): Promise<ScavengeResult> {
  const { signal, onProgress } = checkOptions(options);
  const batch = checkBatch(options.batchSize);
  const { streamStatus, streamsWithMetadata } = adapter;
  if (typeof streamStatus !== "function" || typeof streamsWithMetadata !== "function") {
    throw new TypeError(
      `scavenge needs an adapter with stream metadata; the ${adapter.kind} adapter has none`,
    );
  }
  const retention = new Retention(() => adapter, now);
  let streams = 0, removed = 0, transactions = 0, truncated = 0;
  const result = (complete: boolean): ScavengeResult => ({
    streams,
    removed,
    transactions,
    truncated,
    complete,
  });
  let turned = performance.now();
  const turn = async () => {
    if (signal === undefined || performance.now() - turned < TURN_MS) return;
    await delay(0);
    turned = performance.now();
  };
  /** The next cut of `stream`: its floor now, at most `batch` events on, never past `target`. */
  const nextCut = async (
    stream: string,
    target: number,
  ): Promise<{ before: number; floor: number } | undefined> => {
    const status = (await streamStatus.call(adapter, [stream])).get(stream);
    if (status === undefined || status.metadata === undefined) return undefined;
    const first = Math.max(1, status.truncatedBefore, status.deletedAt + 1);
    // Looking no further than this batch reaches: each batch reads only its own events.
    const floor = Math.min(await retention.floorOf(stream, status, Math.min(target, first + batch)), target);
    const before = Math.min(floor, first + batch);
    return before > first ? { before, floor } : undefined;
  };
  let after: string | undefined;
  for (;;) {
    if (signal?.aborted) return result(false);
    const names = await streamsWithMetadata.call(adapter, after, NAMES_PER_PAGE);
    for (const stream of names) {
      streams++;
      let cutHere = 0;
      // The floor when the stream is reached bounds this run: appends meanwhile move the
      // floor of a busy stream on, and the next run takes what they hide.
      let target = Infinity;
      for (;;) {
        if (signal?.aborted) return result(false);
        const cut = await nextCut(stream, target);
        if (cut === undefined) break;
        target = Math.min(target, cut.floor);
        const gone = await adapter.transaction(async (tx) => {
          if (typeof tx.truncateStream !== "function") {
            throw new TypeError(`the ${adapter.kind} adapter's transactions cannot truncate streams`);
          }
          return await tx.truncateStream(stream, cut.before);
        });
        removed += gone;
        cutHere += gone;
        transactions++;
        onProgress?.({ streams, removed, transactions });
        await turn();
      }
      if (cutHere > 0) truncated++;
    }
    if (names.length < NAMES_PER_PAGE) return result(true);
    after = names[names.length - 1];
  }
}
