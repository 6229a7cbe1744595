/**
 * Taking and keeping a subscription's lease: one active instance per name.
 *
 * @module
 */

import type { Adapter, Lease } from "../contract/mod.ts";
import { TimeoutError } from "../errors.ts";
import { bounded, delay, OVERDUE } from "../async.ts";

/** How to take a lease. */
/** The lease options of a holder (a subscription, a relay), checked. */
export interface LeaseSettings {
  readonly owner: string;
  readonly leaseInterval: number;
  readonly leaseTtl: number;
}

/**
 * Checks `owner`, `leaseInterval` and `leaseTtl` (defaults: a random owner, 1000 ms, the
 * larger of 5000 ms and three intervals).
 *
 * @param options the holder's options
 * @param holder what holds the lease, for the message (`"subscription"`, `"relay"`)
 * @throws {TypeError} for an owner that is not a non-empty string
 * @throws {RangeError} for a time that is not a whole number of ms, or a time to live of at most two intervals
 */
export function leaseSettings(
  options: { readonly owner?: unknown; readonly leaseInterval?: unknown; readonly leaseTtl?: unknown },
  holder: string,
): LeaseSettings {
  const owner = options.owner ?? crypto.randomUUID();
  if (typeof owner !== "string" || owner.length === 0) {
    throw new TypeError(`owner must be a non-empty string, got ${JSON.stringify(owner)}`);
  }
  const ms = (name: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
      const got = typeof value === "number" ? String(value) : JSON.stringify(value);
      throw new RangeError(`${name} must be a whole number >= 1, got ${got}`);
    }
    return value;
  };
  const leaseInterval = ms("leaseInterval", options.leaseInterval, 1000);
  const leaseTtl = ms("leaseTtl", options.leaseTtl, Math.max(5000, 3 * leaseInterval));
  if (leaseTtl <= 2 * leaseInterval) {
    throw new RangeError(
      `leaseTtl (${leaseTtl} ms) must be more than twice leaseInterval (${leaseInterval} ms), ` +
        `or a live ${holder} could lose its lease between two renewals`,
    );
  }
  return { owner, leaseInterval, leaseTtl };
}

export interface LeaseTerms {
  readonly name: string;
  readonly owner: string;
  readonly ttl: number;
  readonly interval: number;
}

/**
 * Tries to take the lease every `interval` ms until it is taken or `signal` aborts.
 *
 * @param adapter the store
 * @param terms name, owner, time to live, interval
 * @param signal stops trying
 * @param waiting called after each try that found the lease held elsewhere
 * @returns the lease, or `undefined` when aborted
 */
export async function takeLease(
  adapter: Adapter,
  terms: LeaseTerms,
  signal: AbortSignal,
  waiting: () => unknown,
): Promise<Lease | undefined> {
  for (;;) {
    if (signal.aborted) return undefined;
    const lease = await adapter.acquireLease(terms.name, terms.owner, terms.ttl);
    if (lease !== undefined) {
      if (!signal.aborted) return lease;
      await lease.release();
      return undefined;
    }
    await waiting();
    await delay(terms.interval, signal);
  }
}

/** The lease was lost while held: renewed too late, or its session (connection) ended. */
export class LeaseLostError extends Error {
  /**
   * Creates it.
   *
   * @param name the subscription name
   * @param options the store's error, when the renewal failed
   */
  constructor(name: string, options?: ErrorOptions) {
    super(
      options?.cause === undefined
        ? `Subscription "${name}" lost its lease (not renewed in time, or its connection was reset); taking it again`
        : `Subscription "${name}" could not renew its lease: ${errorMessage(options.cause)}; taking it again`,
      options,
    );
    this.name = "LeaseLostError";
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Renews `lease` every `interval` ms. A renewal that says it is lost, fails (the store
 * cannot confirm it: better stop than risk two holders) or does not answer within
 * `timeout` ms calls `lost` once, with the reason.
 *
 * @returns a function that stops renewing, after the renewal in flight (waiting at most `timeout` for it)
 */
export function keepLease(
  lease: Lease,
  terms: { readonly name: string; readonly interval: number; readonly timeout: number },
  lost: (error: LeaseLostError) => void,
): () => Promise<void> {
  let stopped = false;
  let renewing: Promise<void> | undefined;
  const give = (cause?: unknown) => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    lost(new LeaseLostError(terms.name, cause === undefined ? undefined : { cause }));
  };
  const timer = setInterval(() => {
    if (renewing !== undefined || stopped) return;
    const renewal = bounded(lease.renew(), terms.timeout).then((held) => {
      if (held === OVERDUE) give(new TimeoutError("renewing a subscription lease", terms.timeout));
      else if (!held) give();
    }, give);
    renewing = renewal.finally(() => {
      renewing = undefined;
    });
  }, terms.interval);
  return async () => {
    stopped = true;
    clearInterval(timer);
    if (renewing !== undefined) await renewing;
  };
}
