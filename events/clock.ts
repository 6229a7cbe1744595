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
export const systemClock: Clock = { now: isoNow };

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
    tick: (ms) => void (at += ms),
    set: (time) => void (at = Date.parse(time)),
  };
}
