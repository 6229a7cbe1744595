/**
 * Checks of what callers hand to the store, before anything is validated or written.
 * Bad arguments are `TypeError` / `RangeError`; unknown types are `UnknownEventError`.
 *
 * @module
 */

import { SYSTEM_STREAM } from "../events/system.ts";
import type { ExpectedRevision } from "../events/expected_revision.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import type { PendingEvent } from "../events/record.ts";
import { type Clock, isIsoTime, systemClock } from "../events/clock.ts";
import { forgottenImport } from "./_forgotten.ts";

const STORE_FIELDS = [
  "revision",
  "position",
  "recorded",
  "outdated",
  "version",
  "storedVersion",
  "forgotten",
] as const;

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

/**
 * Checks a name the store keeps in a plain column (a stream, type, id or relation key):
 * a non-empty string that every store gives back exactly, so without U+0000 (SQLite
 * reads cut at it, PostgreSQL refuses it) and without a lone surrogate (UTF-8 cannot hold one).
 *
 * @param value what the caller passed
 * @param what the name of the field, for the message
 * @returns the name
 * @throws {TypeError} naming the field when it is not such a string
 */
export function checkName(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(`${what} must be a non-empty string, got ${describe(value)}`);
  }
  if (value.includes("\0")) {
    throw new TypeError(`${what} ${JSON.stringify(value)} holds U+0000, which no store keeps exactly`);
  }
  if (!value.isWellFormed()) {
    throw new TypeError(`${what} ${JSON.stringify(value)} holds a lone surrogate, which UTF-8 cannot hold`);
  }
  return value;
}

let lastCreated: string | undefined;
let lastClock: Clock | undefined;

/**
 * Checks a `created` timestamp against the store's clock: with the built-in clocks,
 * ISO-8601 in UTC with milliseconds, exactly as they write it (`2026-01-01T00:00:00.000Z`),
 * naming a real date; with a clock of one's own, its {@linkcode Clock.accepts}, or any
 * non-empty well-formed string when it has none. One form per store, because `outdated`
 * compares these strings.
 *
 * @param value what the caller passed
 * @param what where it came from, for the message
 * @param clock the store's clock
 * @returns the timestamp
 * @throws {TypeError} when it is not a string of that form
 */
export function checkCreated(value: unknown, what: string, clock: Clock = systemClock): string {
  // Events of one call usually share their millisecond: check each distinct value once.
  if (value === lastCreated && clock === lastClock) return value as string;
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(`${what} needs a non-empty "created" timestamp string, got ${describe(value)}`);
  }
  if (clock.accepts === undefined) checkName(value, `"created" of ${what}`);
  else if (!clock.accepts(value)) {
    throw new TypeError(
      `${what} has "created" ${JSON.stringify(value)}: expected ${
        clock.accepts === isIsoTime
          ? 'an ISO-8601 UTC time with milliseconds and a real date, like "2026-01-01T00:00:00.000Z"'
          : "a time in the form of the store's clock"
      }`,
    );
  }
  lastCreated = value;
  lastClock = clock;
  return value;
}

/**
 * Checks one event handed to `pushManyEvents` or `import` and returns it as a pending event.
 *
 * @param events the definitions
 * @param value what the caller passed
 * @param index its place in the call, for messages
 * @param imported whether the event comes from elsewhere (store fields are then ignored, and
 *   `id` and `created` are required)
 * @param clock the store's clock, whose form `created` must have
 */
export function checkEvent(
  events: AnyEventFactory,
  value: unknown,
  index: number,
  imported: boolean,
  clock: Clock = systemClock,
): PendingEvent {
  const where = `event #${index}`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${where} must be an event object, got ${describe(value)}`);
  }
  const e = value as Record<string, unknown>;
  checkName(e.type, `"type" of ${where}`);
  // An import may name a type by an old name (renamedFrom): it is stored as given. A type
  // known only to a permissive factory (the CLI's) has no version of its own to check.
  const known = imported ? events.resolve(e.type as string) : undefined;
  const definition = known ?? events.get(e.type as string);
  const label = `${where} ("${e.type}")`;
  checkName(e.stream, `"stream" of ${label}`);
  if (!imported && e.stream === SYSTEM_STREAM) {
    throw new TypeError(`"stream" of ${label} is "${SYSTEM_STREAM}", where the store keeps its own records`);
  }
  checkName(e.id, `"id" of ${label}`);
  checkCreated(e.created, label, clock);
  if (!imported) {
    for (const field of STORE_FIELDS) {
      if (e[field] !== undefined) {
        throw new TypeError(
          `${label} carries "${field}", which the store assigns; pass events from store.event() or use import() for stored records`,
        );
      }
    }
  }
  const pending: PendingEvent = {
    id: e.id as string,
    stream: e.stream as string,
    type: e.type as string,
    data: e.data ?? null,
    meta: e.meta ?? null,
    created: e.created as string,
    version: imported && e.version !== undefined
      ? importedVersion(e.version, known === undefined ? Infinity : definition.currentVersion, label)
      : definition.currentVersion,
  };
  if (!imported || e.forgotten === undefined || e.forgotten === false) return pending;
  if (e.forgotten !== true) {
    throw new TypeError(`"forgotten" of ${label} must be a boolean, got ${describe(e.forgotten)}`);
  }
  return forgottenImport(events, pending);
}

/**
 * The version an imported record's data is at: a whole number up to the definition's.
 *
 * @param version the value given
 * @param current the definition's current version
 * @param label the record, for messages
 */
function importedVersion(version: unknown, current: number, label: string): number {
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    throw new TypeError(
      `"version" of ${label} must be a whole number from 1, got ${JSON.stringify(version)}`,
    );
  }
  if (version > current) {
    throw new RangeError(
      `${label} is at version ${version}, newer than its definition (version ${current}): import it with newer code`,
    );
  }
  return version;
}

/**
 * Checks one expected revision.
 *
 * @param expected the value given
 * @param stream the stream it is for, for messages
 */
export function checkExpected(expected: unknown, stream: string): ExpectedRevision {
  if (expected === "any" || expected === "exists") return expected;
  if (typeof expected === "number") {
    if (!Number.isSafeInteger(expected) || expected < 0) {
      throw new RangeError(
        `Expected revision of stream "${stream}" must be a whole number >= 0, "any" or "exists", got ${expected}`,
      );
    }
    return expected;
  }
  throw new TypeError(
    `Expected revision of stream "${stream}" must be a whole number >= 0, "any" or "exists", got ${
      JSON.stringify(expected)
    }`,
  );
}

/**
 * Resolves the `expectedRevision` option into one expectation per stream of the call.
 *
 * @param option one value for every stream, or a record by stream
 * @param streams the streams of the call
 */
export function expectations(
  option: ExpectedRevision | Readonly<Record<string, ExpectedRevision>> | undefined,
  streams: Iterable<string>,
): Map<string, ExpectedRevision> {
  const out = new Map<string, ExpectedRevision>();
  if (option === undefined) return out;
  if (typeof option === "object" && option !== null) {
    const proto = Object.getPrototypeOf(option);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(
        `expectedRevision must be a number, "any", "exists" or a record of them by stream, got ${
          describe(option)
        }`,
      );
    }
    const entries = Object.entries(option);
    if (entries.length === 0) {
      throw new TypeError("expectedRevision is a record naming no stream: leave it out to expect nothing");
    }
    for (const [stream, expected] of entries) {
      out.set(checkName(stream, "a stream of expectedRevision"), checkExpected(expected, stream));
    }
    return out;
  }
  for (const stream of streams) out.set(stream, checkExpected(option, stream));
  return out;
}

/**
 * Checks a read's `limit`.
 *
 * @param limit the value given
 * @returns the limit, `Infinity` when left out
 * @throws {TypeError} when it is not a number
 * @throws {RangeError} when it is negative, fractional or not finite
 */
export function checkLimit(limit: unknown): number {
  if (limit === undefined) return Infinity;
  if (typeof limit !== "number") throw new TypeError(`limit must be a number, got ${describe(limit)}`);
  if (!(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new RangeError(`limit must be a whole number >= 0, got ${limit}`);
  }
  return limit;
}

/**
 * Checks a stream read's `fromRevision`.
 *
 * @param from the value given
 * @returns it (`undefined` when left out)
 * @throws {TypeError} when it is not a number
 * @throws {RangeError} when it is negative, fractional or not finite
 */
export function checkRevision(from: unknown): number | undefined {
  if (from === undefined) return undefined;
  if (typeof from !== "number") throw new TypeError(`fromRevision must be a number, got ${describe(from)}`);
  if (!(Number.isSafeInteger(from) && from >= 0)) {
    throw new RangeError(`fromRevision must be a whole number >= 0, got ${from}`);
  }
  return from;
}

/**
 * Checks a list of names given to a read (`types`, `streams`).
 *
 * @param value the value given
 * @param what the option's name, for the message
 * @returns it (`undefined` when left out)
 * @throws {TypeError} when it is not an array of names
 */
export function checkNames(value: unknown, what: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    throw new TypeError(`${what} must be an array of strings, got ${describe(value)}`);
  }
  for (const name of value) checkName(name, `an entry of ${what}`);
  return value;
}
