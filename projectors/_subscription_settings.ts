/**
 * Checks a subscription's options and fills in the defaults.
 *
 * @module
 */

import { leaseSettings } from "./_subscription_lease.ts";
import type { SavedState, SubscriptionErrorContext, SubscriptionOptions } from "./subscription_options.ts";

/** Options with every default filled in. */
function flag(name: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(`${name} must be true or false, got ${JSON.stringify(value)}`);
  }
  return value === true;
}

export interface Settings {
  readonly transactional: boolean;
  readonly sequential: boolean;
  readonly attempts: number;
  readonly backoff: number;
  readonly maxBackoff: number;
  readonly onFailure: "park" | "stop" | "park-stream";
  readonly version: number | undefined;
  readonly state: SavedState | undefined;
  readonly reset: (() => unknown) | undefined;
  readonly resumeFresh: boolean;
  readonly pollInterval: number;
  readonly readTimeout: number;
  readonly leaseInterval: number;
  readonly leaseTtl: number;
  readonly owner: string;
  readonly onError: ((error: unknown, context: SubscriptionErrorContext) => void) | undefined;
}

function whole(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number >= ${min}, got ${value}`);
  }
  return value;
}

function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[]): T {
  if (value === undefined) return allowed[0];
  if (!allowed.includes(value)) {
    throw new TypeError(
      `${name} must be ${allowed.map((a) => JSON.stringify(a)).join(" or ")}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function optionalFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`${name} must be a function, got ${typeof value}`);
  }
}

/**
 * Checks `options` and fills in the defaults.
 *
 * @throws {TypeError} for an option of the wrong kind
 * @throws {RangeError} for a number out of range
 */
export function settle(options: SubscriptionOptions): Settings {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("subscribe options must be an object");
  }
  const state = options.state;
  if (state !== undefined && (typeof state?.save !== "function" || typeof state?.restore !== "function")) {
    throw new TypeError("state must be { save(): unknown, restore(saved): void }");
  }
  if (state !== undefined && options.transactional === true) {
    throw new TypeError(
      "state and transactional do not go together: a saved state is an in-memory read model, " +
        "transactional is for a read model in the store's database",
    );
  }
  optionalFunction("reset", options.reset);
  optionalFunction("onError", options.onError);
  if (options.version !== undefined && !Number.isSafeInteger(options.version)) {
    throw new RangeError(`version must be a whole number, got ${options.version}`);
  }
  const { owner, leaseInterval, leaseTtl } = leaseSettings(options, "holder");
  const backoff = whole("backoff", options.backoff, 100, 0);
  return {
    transactional: options.transactional === true,
    sequential: flag("sequential", options.sequential),
    attempts: whole("attempts", options.attempts, 3, 1),
    backoff,
    maxBackoff: whole("maxBackoff", options.maxBackoff, Math.max(30_000, backoff), backoff),
    onFailure: oneOf("onFailure", options.onFailure, ["park", "stop", "park-stream"] as const),
    version: options.version,
    state,
    reset: options.reset,
    resumeFresh: oneOf("resumeAs", options.resumeAs, ["hydrated", "fresh"] as const) === "fresh",
    pollInterval: whole("pollInterval", options.pollInterval, 1000, 1),
    readTimeout: whole("readTimeout", options.readTimeout, 30_000, 1),
    leaseInterval,
    leaseTtl,
    owner,
    onError: options.onError,
  };
}
