/**
 * Clocks stamp events with `created` (when the producer made them). A clock returns a
 * string that sorts in time order: ISO-8601 with milliseconds by default.
 *
 * @module
 */

/** Where `created` timestamps come from. */
export interface Clock {
  /** The current time as a string that sorts (`<`) in time order. */
  now(): string;
  /**
   * Whether a `created` string handed in by a caller (an import, an event with its own
   * `created`) is in this clock's form. The built-in clocks accept ISO-8601 UTC with
   * milliseconds naming a real date; a clock without it accepts any non-empty string
   * (a hybrid logical clock's, say), since `outdated` only compares them.
   */
  accepts?(created: string): boolean;
}

/**
 * Whether a string is ISO-8601 UTC with milliseconds, exactly as `toISOString()` writes it,
 * naming a real date (`2026-02-30T...` is not one).
 *
 * @param created the string
 * @returns true when it is
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isIsoTime } from "@eventfold/eventfold";
 * assert(isIsoTime("2026-01-01T00:00:00.000Z") && !isIsoTime("yesterday") && !isIsoTime("2026-02-30T00:00:00.000Z"));
 * ```
 */
export function isIsoTime(created: string): boolean {
  if (created.length !== 24) return false;
  const ms = Date.parse(created);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === created;
}

/**
 * The system clock: ISO-8601 UTC with milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "@eventfold/eventfold";
 * assert(systemClock.now().endsWith("Z"));
 * ```
 */
export const systemClock: Clock = { now: isoNow, accepts: isIsoTime };

let lastMs = NaN;
let lastIso = "";

/** The current time as ISO-8601; formatted once per millisecond, however many events share it. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** A clock tests move by hand. */
export interface FakeClock extends Clock {
  /** Moves the clock forward. @param ms milliseconds */
  tick(ms: number): void;
  /** Sets the clock. @param at an ISO-8601 time */
  set(at: string): void;
}

/**
 * A clock that stands still until told to move, for tests where time matters.
 *
 * @param start the time it shows first (ISO-8601)
 * @returns a {@linkcode FakeClock}
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fakeClock } from "@eventfold/eventfold";
 * const clock = fakeClock("2026-01-01T00:00:00.000Z");
 * clock.tick(1500);
 * assert(clock.now() === "2026-01-01T00:00:01.500Z");
 * ```
 */
export function fakeClock(start = "2026-01-01T00:00:00.000Z"): FakeClock {
  let at = Date.parse(start);
  return {
    now: () => new Date(at).toISOString(),
    accepts: isIsoTime,
    tick: (ms) => void (at += ms),
    set: (time) => void (at = Date.parse(time)),
  };
}
