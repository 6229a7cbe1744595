/**
 * Retention: the rules a stream's metadata sets (`maxAge`, `maxCount`), what they hide
 * now, and the checks of the metadata a user gives. Reads of named streams hide what the
 * rules say is gone from the moment they are set (one status lookup per page, run beside
 * the page read); `scavenge` (`_scavenge.ts`) removes it for good; a fold that would miss
 * hidden events throws as it does for a truncated stream, so the two agree.
 *
 * @module
 */

import type { Adapter, StreamMetadata, StreamStatus } from "../contract/mod.ts";
import { TruncatedStreamError } from "../errors.ts";
import { type Clock, isIsoTime } from "../events/clock.ts";
import type { EventRecord } from "../events/record.ts";

/** What a stream's rules hide at one moment. */
export interface Hidden {
  /** Revisions below this one are hidden (by `maxCount`); 1 when none are. */
  readonly below: number;
  /** Events created before this time (ms since the epoch) are hidden (by `maxAge`). */
  readonly olderThan?: number;
}

const RULES = ["maxAge", "maxCount"] as const;

/** A `created` time in ms since the epoch; `NaN` for one that is not an ISO-8601 time (a custom clock's). */
function timeOf(created: string): number {
  return isIsoTime(created) ? Date.parse(created) : Number.NaN;
}

/**
 * Checks the metadata given to `setStreamMetadata`.
 *
 * @param metadata what the caller gave
 * @param clock the store's clock: `maxAge` needs times it can compare
 * @returns the metadata, with only the rules that are set
 * @throws {TypeError} for something other than an object of known rules, or `maxAge` with a clock whose times are not dates
 * @throws {RangeError} for a rule that is not a whole number from 1
 */
export function checkMetadata(metadata: unknown, clock: Clock): StreamMetadata {
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new TypeError(
      `stream metadata must be an object such as { maxCount: 100 }, got ${
        metadata === null ? "null" : Array.isArray(metadata) ? "an array" : typeof metadata
      }`,
    );
  }
  const given = metadata as Record<string, unknown>;
  const unknown = Object.keys(given).filter((key) => !(RULES as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new TypeError(
      `unknown stream metadata ${
        unknown.map((key) => JSON.stringify(key)).join(", ")
      }: the rules are maxAge and maxCount`,
    );
  }
  const out: { maxAge?: number; maxCount?: number } = {};
  for (const rule of RULES) {
    const value = given[rule];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(
        `${rule} must be a whole number from 1${rule === "maxAge" ? " (milliseconds)" : ""}, got ${
          JSON.stringify(value) ?? typeof value
        }`,
      );
    }
    out[rule] = value;
  }
  if (out.maxAge !== undefined && Number.isNaN(timeOf(clock.now()))) {
    throw new TypeError("maxAge needs a clock whose times are dates; this store's clock gives other strings");
  }
  return out;
}

/**
 * What a stream's rules hide at `now`.
 *
 * @param status the stream's status, with its metadata
 * @param now the time, ms since the epoch (`NaN`: ages cannot be told, `maxAge` hides nothing)
 * @returns what is hidden, `undefined` when nothing is
 */
export function hiddenAt(status: StreamStatus, now: number): Hidden | undefined {
  const rules = status.metadata;
  if (rules === undefined) return undefined;
  const below = rules.maxCount === undefined ? 1 : Math.max(1, status.revision - rules.maxCount + 1);
  const olderThan = rules.maxAge === undefined || Number.isNaN(now) ? undefined : now - rules.maxAge;
  if (below === 1 && olderThan === undefined) return undefined;
  return olderThan === undefined ? { below } : { below, olderThan };
}

/**
 * Whether a record is hidden by its stream's rules.
 *
 * @param record the record
 * @param hidden what the rules hide
 */
export function isHidden(record: Pick<EventRecord, "revision" | "created">, hidden: Hidden): boolean {
  return record.revision < hidden.below ||
    (hidden.olderThan !== undefined && timeOf(record.created) < hidden.olderThan);
}

/** The retention of one store: what its streams' rules hide, read from its adapter. */
export class Retention {
  readonly #adapter: () => Adapter;
  readonly #clock: Clock;

  /**
   * Creates it.
   *
   * @param adapter the store's adapter, once the store is known to be open
   * @param clock the store's clock: the time ages are told by
   */
  constructor(adapter: () => Adapter, clock: Clock) {
    this.#adapter = adapter;
    this.#clock = clock;
  }

  /** The time ages are told by now, ms since the epoch (`NaN` for a clock of other strings). */
  now(): number {
    return timeOf(this.#clock.now());
  }

  /**
   * What the rules of each of `streams` hide now; streams whose rules hide nothing (and
   * all streams of an adapter without a lifecycle part) are left out.
   *
   * @param streams the streams read
   */
  async hidden(streams: readonly string[]): Promise<Map<string, Hidden>> {
    const out = new Map<string, Hidden>();
    const adapter = this.#adapter();
    if (typeof adapter.streamStatus !== "function" || streams.length === 0) return out;
    const status = await adapter.streamStatus(streams);
    const now = this.now();
    for (const [stream, known] of status) {
      const hidden = hiddenAt(known, now);
      if (hidden !== undefined) out.set(stream, hidden);
    }
    return out;
  }

  /**
   * Throws when a fold of `stream` that covered revisions up to `from` would miss events
   * after it that the stream no longer shows: removed by truncation, or hidden by its
   * rules. A delete is no gap: the stream starts anew after it. Asked only when the
   * fold's first event is not the next revision, or it read none.
   *
   * @param stream the stream
   * @param snapshot the fold's snapshot name, for the error
   * @param from the last revision the fold covered (its snapshot's, or 0)
   * @param first the first revision the fold read, if any
   * @throws {TruncatedStreamError} naming the snapshot the fold would need
   */
  async checkFold(stream: string, snapshot: string, from: number, first: number | undefined): Promise<void> {
    const adapter = this.#adapter();
    const status = (await adapter.streamStatus?.([stream]))?.get(stream);
    if (status === undefined) return;
    const covered = Math.max(from, status.deletedAt);
    let kept = status.truncatedBefore;
    let retained = false;
    const hidden = hiddenAt(status, this.now());
    if (hidden !== undefined && hidden.below > kept) {
      kept = hidden.below;
      retained = true;
    }
    if (hidden?.olderThan !== undefined && kept - 1 <= covered) {
      const [next] = await adapter.readStream(stream, {
        fromRevision: Math.max(covered + 1, kept),
        direction: "forward",
        limit: 1,
      });
      if (next !== undefined && isHidden(next, hidden)) {
        kept = Math.max(kept, first ?? status.revision + 1);
        retained = true;
      }
    }
    if (kept - 1 > covered) throw new TruncatedStreamError(stream, snapshot, kept, retained);
  }
}
