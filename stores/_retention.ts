/**
 * Retention: the rules a stream's metadata sets (`maxAge`, `maxCount`), what they hide
 * now, and the checks of the metadata a user gives. What the rules hide is always the
 * oldest part of the stream, below one revision (its floor): `maxCount` hides the
 * revisions more than `maxCount` below the head, `maxAge` the oldest run of events
 * created before `now - maxAge` (up to the first one younger; ages are taken to rise with
 * revisions, and an older one after it stays). Reads of named streams start at the floor
 * from the moment the rules are set (a status lookup per page, and for `maxAge` a read of
 * the first events kept); `scavenge` (`_scavenge.ts`) truncates below it for good; a fold
 * that would need events below it throws as for a truncated stream. All three use the
 * same floor, so they agree.
 *
 * @module
 */

import type { Adapter, StreamMetadata, StreamStatus } from "../contract/mod.ts";
import { TruncatedStreamError } from "../errors.ts";
import { type Clock, isIsoTime } from "../events/clock.ts";

const RULES = ["maxAge", "maxCount"] as const;

/** A `created` time in ms since the epoch; `NaN` for one that is not an ISO-8601 time (a custom clock's). */
function timeOf(created: string): number {
  return isIsoTime(created) ? Date.parse(created) : Number.NaN;
}

/** Revisions of a stream below this one are hidden by its rules (1: none are). */
export type Floor = number;

/** The largest `maxCount`: revisions are 32-bit on PostgreSQL. */
const MAX_COUNT = 2 ** 31 - 1;
/** Events read per step while looking for the first one `maxAge` keeps. */
const AGE_PAGE = 100;

/**
 * Checks the metadata given to `setStreamMetadata`.
 *
 * @param metadata what the caller gave
 * @param clock the store's clock: `maxAge` needs times it can compare
 * @returns the metadata, with only the rules that are set
 * @throws {TypeError} for something other than an object of known rules, or `maxAge` with a clock whose times are not dates
 * @throws {RangeError} for a rule that is not a whole number from 1 (`maxCount`: up to 2^31 - 1)
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
    const most = rule === "maxCount" ? MAX_COUNT : Number.MAX_SAFE_INTEGER;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > most) {
      throw new RangeError(
        `${rule} must be a whole number from 1 to ${most}${rule === "maxAge" ? " (milliseconds)" : ""}, got ${
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
 * Whether an event was created before `cutoff`; an event whose `created` is not an
 * ISO-8601 time (a custom clock's) never is.
 *
 * @param created the event's `created`
 * @param cutoff ms since the epoch
 */
function expired(created: string, cutoff: number): boolean {
  return timeOf(created) < cutoff;
}

/** The retention of one store: the floors of its streams, read from its adapter. */
export class Retention {
  readonly #adapter: () => Adapter;
  readonly #clock: () => number;

  /**
   * Creates it.
   *
   * @param adapter the store's adapter, once the store is known to be open
   * @param clock the time ages are told by: the store's clock, or ms since the epoch
   */
  constructor(adapter: () => Adapter, clock: Clock | (() => number)) {
    this.#adapter = adapter;
    this.#clock = typeof clock === "function" ? clock : () => timeOf(clock.now());
  }

  /** The time ages are told by now, ms since the epoch (`NaN` for a clock of other strings). */
  now(): number {
    return this.#clock();
  }

  /**
   * The floor of each of `streams` whose rules hide something now; the others (and every
   * stream of an adapter without a lifecycle part) are left out.
   *
   * @param streams the streams read
   */
  async floors(streams: readonly string[]): Promise<Map<string, Floor>> {
    const out = new Map<string, Floor>();
    const adapter = this.#adapter();
    if (typeof adapter.streamStatus !== "function" || streams.length === 0) return out;
    const status = await adapter.streamStatus(streams);
    for (const [stream, known] of status) {
      if (known.metadata === undefined) continue;
      const floor = await this.floorOf(stream, known);
      if (floor > firstStored(known)) out.set(stream, floor);
    }
    return out;
  }

  /**
   * The first revision `stream`'s rules keep now (its first stored revision when they
   * hide nothing).
   *
   * @param stream the stream
   * @param status its status, with its rules
   * @param upTo look no further: a floor at or past it is answered as found so far (at least `upTo`)
   */
  async floorOf(stream: string, status: StreamStatus, upTo = Infinity): Promise<Floor> {
    const rules = status.metadata;
    let floor = firstStored(status);
    if (rules?.maxCount !== undefined) floor = Math.max(floor, status.revision - rules.maxCount + 1);
    const now = this.now();
    if (rules?.maxAge === undefined || Number.isNaN(now) || floor > status.revision) return floor;
    const cutoff = now - rules.maxAge;
    while (floor < upTo) {
      const page = await this.#adapter().readStream(stream, {
        fromRevision: floor,
        direction: "forward",
        limit: AGE_PAGE,
      });
      const kept = page.find((record) => !expired(record.created, cutoff));
      if (kept !== undefined) return kept.revision;
      if (page.length < AGE_PAGE) return status.revision + 1;
      floor = page[page.length - 1].revision + 1;
    }
    return floor;
  }

  /**
   * Throws when a fold of `stream` that covered revisions up to `from` would need events
   * after it that the stream no longer shows: removed by truncation, or below its floor.
   * A delete is no gap: the stream starts anew after it. Asked only when the fold's first
   * event is not the next revision, or it read none.
   *
   * @param stream the stream
   * @param snapshot the fold's snapshot name, for the error
   * @param from the last revision the fold covered (its snapshot's, or 0)
   * @throws {TruncatedStreamError} naming the snapshot the fold would need
   */
  async checkFold(stream: string, snapshot: string, from: number): Promise<void> {
    const status = (await this.#adapter().streamStatus?.([stream]))?.get(stream);
    if (status === undefined) return;
    const covered = Math.max(from, status.deletedAt);
    const floor = status.metadata === undefined ? status.truncatedBefore : await this.floorOf(stream, status);
    if (floor - 1 > covered) {
      throw new TruncatedStreamError(stream, snapshot, floor, floor > status.truncatedBefore);
    }
  }
}

/** The first revision a stream may still store: after its delete and its truncation. */
function firstStored(status: StreamStatus): number {
  return Math.max(1, status.truncatedBefore, status.deletedAt + 1);
}
