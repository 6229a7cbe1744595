/**
 * Positions and times given on the command line, and the filter they make. Positions
 * may be written short (`42` for `0000000000000042`); `head` means the newest position
 * when the command starts. Times are ISO-8601 and compared with an event's `created`
 * (or `recorded` with `--time-field recorded`).
 *
 * @module
 */

import { type Adapter, type EventRecord, formatPosition } from "../mod.ts";
import { UsageError } from "./_errors.ts";

/** Which timestamp of an event time bounds compare with. */
export type TimeField = "created" | "recorded";

/**
 * Reads a position as the store writes it, padding a short number.
 *
 * @param text what the user wrote
 * @param adapter the store (its kind decides the position format)
 * @param flag the flag, for messages
 * @returns the position, or `undefined` for `head` of an empty store
 * @throws {UsageError} when it is not a position of this kind of store
 */
export async function readPosition(
  text: string,
  adapter: Adapter,
  flag: string,
): Promise<string | undefined> {
  if (text === "head") return (await adapter.stats()).head ?? undefined;
  const position = parsePosition(text, adapter);
  if (position === undefined) {
    throw new UsageError(
      `${flag}: ${JSON.stringify(text)} is not a position of a ${adapter.kind} store; ` +
        `accepted: ${positionForms(adapter)} or head (the newest position)`,
    );
  }
  return position;
}

function parsePosition(text: string, adapter: Adapter): string | undefined {
  if (adapter.kind === "sqlite" || adapter.kind === "memory") {
    return /^\d{1,16}$/.test(text) ? formatPosition(Number(text)) : undefined;
  }
  if (adapter.kind === "postgres") {
    const match = /^(\d{1,20})\.(\d{1,19})$/.exec(text);
    return match === null ? undefined : `${match[1].padStart(20, "0")}.${match[2].padStart(19, "0")}`;
  }
  return text;
}

function positionForms(adapter: Adapter): string {
  return adapter.kind === "postgres"
    ? 'a position as "events" prints it (transaction.sequence, such as 812.42)'
    : 'a position as "events" prints it (0000000000000042, or short: 42)';
}

/**
 * Reads an ISO-8601 time.
 *
 * @param text what the user wrote (`2026-01-31`, `2026-01-31T12:00:00Z`...)
 * @param flag the flag, for messages
 * @returns the time as `toISOString()` gives it
 * @throws {UsageError} when it is not a time
 */
export function readTime(text: string, flag: string): string {
  const ms = /^\d{4}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `${flag}: ${JSON.stringify(text)} is not an ISO-8601 time (for example 2026-01-31T12:00:00Z)`,
    );
  }
  return new Date(ms).toISOString();
}

/**
 * Reads the value of a flag that takes a position or a time (`--until` of `events` and
 * `replay`): a position (inclusive), `head` (the newest position when the command
 * starts) or an ISO-8601 time.
 *
 * @param text what the user wrote
 * @param adapter the store
 * @param flag the flag, for messages
 * @returns which one it is, and its value (an empty position for `head` of an empty store)
 * @throws {UsageError} when it is none of them, listing what is accepted
 */
export async function readPositionOrTime(
  text: string,
  adapter: Adapter,
  flag: string,
): Promise<{ position?: string; time?: string }> {
  if (/^\d{4}-\d{2}/.test(text)) return { time: readTime(text, flag) };
  if (text === "head") return { position: (await adapter.stats()).head ?? "" };
  const position = parsePosition(text, adapter);
  if (position === undefined) {
    throw new UsageError(
      `${flag}: ${JSON.stringify(text)} is neither a position nor a time; accepted: ${
        positionForms(adapter)
      }, ` +
        "head (the newest position), or an ISO-8601 time (2026-01-31, 2026-01-31T12:00:00Z)",
    );
  }
  return { position };
}

/** Limits on the events a command reads. */
export interface Bounds {
  /** Only positions above this one. */
  readonly after?: string;
  /** Only positions below this one. */
  readonly before?: string;
  /** Only positions up to and including this one. */
  readonly through?: string;
  /** Only events whose time is at or after this one. */
  readonly since?: string;
  /** Only events whose time is at or before this one. */
  readonly until?: string;
  /** Which timestamp `since` and `until` compare with. */
  readonly timeField: TimeField;
}

/**
 * Whether a record read in position order is past the position bounds: reading can stop.
 *
 * @param record the record
 * @param bounds the bounds
 * @returns true when no later record can match
 */
export function pastEnd(record: EventRecord, bounds: Bounds): boolean {
  return (bounds.before !== undefined && record.position >= bounds.before) ||
    (bounds.through !== undefined && record.position > bounds.through);
}

/**
 * Whether a record lies within the time bounds.
 *
 * @param record the record
 * @param bounds the bounds
 * @returns true when it matches
 */
export function inTime(record: EventRecord, bounds: Bounds): boolean {
  const time = record[bounds.timeField];
  return (bounds.since === undefined || time >= bounds.since) &&
    (bounds.until === undefined || time <= bounds.until);
}

/**
 * Reads the `--time-field` flag.
 *
 * @param value the flag's value
 * @returns `created` (default) or `recorded`
 * @throws {UsageError} for anything else
 */
export function timeField(value: string | undefined): TimeField {
  if (value === undefined || value === "created") return "created";
  if (value === "recorded") return "recorded";
  throw new UsageError(`--time-field must be created or recorded, got ${JSON.stringify(value)}`);
}
