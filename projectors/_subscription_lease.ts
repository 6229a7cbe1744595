/**
 * Taking and keeping a subscription's lease: one active instance per name.
 *
 * @module
 */

import type { Adapter, Lease } from "../stores/adapter.ts";
import { sleep } from "./_subscription_timing.ts";

/** How to take a lease. */
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
    await sleep(terms.interval, signal);
  }
}

/**
 * Renews `lease` every `interval` ms. A renewal that says it is lost, or that fails
 * (the store cannot confirm it: better stop than risk two holders), calls `lost` once.
 *
 * @returns a function that stops renewing, after the renewal in flight
 */
export function keepLease(lease: Lease, interval: number, lost: () => void): () => Promise<void> {
  let stopped = false;
  let renewing: Promise<void> | undefined;
  const give = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    lost();
  };
  const timer = setInterval(() => {
    if (renewing !== undefined || stopped) return;
    renewing = lease.renew().then((held) => {
      if (!held) give();
    }, give).finally(() => {
      renewing = undefined;
    });
  }, interval);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await renewing;
  };
}
