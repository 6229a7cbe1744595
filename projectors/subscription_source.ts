/**
 * What a subscription needs of its store (an `EventStore` is one), and where a store
 * keeps its running subscriptions so that closing it stops them.
 *
 * @module
 */

import type { AnyEventFactory, EventRecordOf } from "../events/factory.ts";
import type { Adapter, Partition } from "../contract/mod.ts";
import type { Telemetry } from "../contract/telemetry.ts";

/**
 * What a subscription needs of its store; an `EventStore` is one.
 *
 * @example
 * ```ts
 * import { EventFactory, EventStore, type SubscriptionSource } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const events = new EventFactory([]);
 * const source: SubscriptionSource<typeof events, unknown> = new EventStore({ adapter: new MemoryAdapter(), events });
 * ```
 *
 * @typeParam TEvents the event factory
 * @typeParam THandle the adapter's transaction handle, as the subscription's `tx()` types
 *   it (the store that makes the subscription knows it: `TransactionHandleOf` its adapter)
 */
export interface SubscriptionSource<TEvents extends AnyEventFactory, THandle = unknown> {
  /** The store's adapter (checkpoints, parked events, leases, transactions, wake-ups). */
  readonly adapter: Adapter;
  /** Pages of the log after a position, in position order. */
  readAllPages(
    options: { after?: string; settle?: boolean; types?: readonly string[]; partition?: Partition },
  ): AsyncIterable<EventRecordOf<TEvents>[]>;
  /** Calls `listener` after each commit of this store (a wake-up; the records are read from the log). */
  onEventsInserted(listener: () => void): { unsubscribe(): void };
  /** Where the subscription reports its pages and handled events (the store's telemetry). */
  readonly telemetry?: Telemetry;
}

/**
 * Where running subscriptions are kept, so that closing their store stops them (a `Set` is one).
 *
 * @example
 * ```ts
 * import type { SubscriptionTracker } from "@eventfold/eventfold";
 * const running: SubscriptionTracker = new Set<{ stop(): Promise<void> }>();
 * ```
 */
export interface SubscriptionTracker {
  /** A subscription started. */
  add(subscription: { stop(): Promise<void> }): unknown;
  /** A subscription ended. */
  delete(subscription: { stop(): Promise<void> }): unknown;
}
