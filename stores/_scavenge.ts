/**
 * Scavenging: removing for good what the streams' retention rules hide. It walks the
 * streams that have metadata and truncates each one below the first event its rules
 * keep, in transactions of at most `batchSize` events, reading the stream's status again
 * before each one, so a rule changed meanwhile or events appended meanwhile are taken
 * into account. It stops between transactions when its signal aborts: what it removed
 * was hidden already, and a later run goes on where it stopped.
 *
 * @module
 */

import { delay } from "../async.ts";
import type { Adapter } from "../contract/mod.ts";
import { hiddenAt, isHidden } from "./_retention.ts";

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
 * The revision to truncate `stream` before in its next transaction, or `undefined` when
 * nothing more of it is hidden: the first revision its rules keep, at most `batch` events
 * past the first one stored.
 */
async function nextCut(
  adapter: Required<Pick<Adapter, "streamStatus">> & Pick<Adapter, "readStream">,
  stream: string,
  now: number,
  batch: number,
): Promise<number | undefined> {
  const status = (await adapter.streamStatus([stream])).get(stream);
  if (status === undefined) return undefined;
  const hidden = hiddenAt(status, now);
  if (hidden === undefined) return undefined;
  const first = Math.max(status.truncatedBefore, status.deletedAt + 1);
  const limit = first + batch;
  let cut = Math.min(Math.max(first, hidden.below), limit);
  if (hidden.olderThan !== undefined && cut < limit) {
    // By age, the stored events from `cut` on, up to the first one young enough to keep.
    const page = await adapter.readStream(stream, {
      fromRevision: cut,
      direction: "forward",
      limit: limit - cut,
    });
    const kept = page.find((record) => !isHidden(record, hidden));
    if (kept !== undefined) cut = kept.revision;
    else if (page.length < limit - cut) cut = status.revision + 1;
    else cut = page[page.length - 1].revision + 1;
  }
  return cut > first ? cut : undefined;
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
  const lifecycle = {
    streamStatus: streamStatus.bind(adapter),
    readStream: adapter.readStream.bind(adapter),
  };
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
  let after: string | undefined;
  while (true) {
    if (signal?.aborted) return result(false);
    const names = await streamsWithMetadata.call(adapter, after, NAMES_PER_PAGE);
    if (names.length === 0) return result(true);
    for (const stream of names) {
      streams++;
      let cutHere = 0;
      while (true) {
        if (signal?.aborted) return result(false);
        const before = await nextCut(lifecycle, stream, now(), batch);
        if (before === undefined) break;
        const gone = await adapter.transaction(async (tx) => {
          if (typeof tx.truncateStream !== "function") {
            throw new TypeError(`the ${adapter.kind} adapter's transactions cannot truncate streams`);
          }
          return await tx.truncateStream(stream, before);
        });
        removed += gone;
        cutHere += gone;
        transactions++;
        onProgress?.({ streams, removed, transactions });
        await turn();
      }
      if (cutHere > 0) truncated++;
    }
    after = names[names.length - 1];
  }
}
