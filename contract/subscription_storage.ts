/**
 * `SubscriptionStorage`: what durable subscriptions keep in the store: checkpoints (with
 * an optional saved read model), parked events, and leases that keep one holder per name.
 *
 * @module
 */

/** A named position a subscription has handled up to. */
export interface Checkpoint {
  /** The subscription name. */
  readonly name: string;
  /** The last position handled (`null` before any). */
  readonly position: string | null;
  /** When it was last saved (ISO-8601). */
  readonly updated: string;
  /** Optional saved state (a projection's whole read model), encoded by the adapter. */
  readonly state?: unknown;
  /** Version of that state. */
  readonly version?: number;
}

/**
 * The new value of a checkpoint, given to {@linkcode SubscriptionStorage.putCheckpoint}.
 *
 * @example
 * ```ts
 * import type { CheckpointUpdate } from "@eventfold/eventfold";
 * const startOver: CheckpointUpdate = { position: null, version: 2 };
 * ```
 */
export interface CheckpointUpdate {
  /** The last position handled (`null`: none, the subscription starts over). */
  readonly position: string | null;
  /** Optional saved state (a projection's whole read model), encoded by the adapter. */
  readonly state?: unknown;
  /** Version of the projection that saved it. */
  readonly version?: number;
}

/**
 * An event a subscription could not handle after its retries, set aside so the rest of
 * the log keeps flowing. Stored per (`name`, `id`); parking the same event again replaces it.
 *
 * @example
 * ```ts
 * import type { ParkedEvent } from "@eventfold/eventfold";
 * const describe = (event: ParkedEvent) => `${event.type} ${event.id} failed ${event.attempts}x: ${event.error}`;
 * ```
 */
export interface ParkedEvent {
  /** The subscription name. */
  readonly name: string;
  /** The event id. */
  readonly id: string;
  /** The event's position. */
  readonly position: string;
  /** The event's stream. */
  readonly stream: string;
  /** The event's type. */
  readonly type: string;
  /** Whether it was delivered hydrated (a replay delivers it the same way). */
  readonly hydrated: boolean;
  /** The last error, as text. */
  readonly error: string;
  /** How many times a handler was tried. */
  readonly attempts: number;
  /** When it was parked (ISO-8601). */
  readonly parked: string;
}

/**
 * A lease on a subscription name, from {@linkcode SubscriptionStorage.acquireLease}:
 * while it is held, no other holder (in this or another process) gets the same name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const adapter = new MemoryAdapter();
 * const lease = await adapter.acquireLease("read-model", "me", 5000);
 * assert(lease !== undefined && await adapter.acquireLease("read-model", "other", 5000) === undefined);
 * await lease.release();
 * ```
 */
export interface Lease {
  /**
   * Keeps the lease alive; call it more often than the lease's time to live. Resolves
   * `false` once the lease is lost (it expired and another holder took it, or the
   * connection that held it died); the holder must then stop handling events.
   */
  renew(): Promise<boolean>;
  /** Gives the lease up, so another holder can take it at once. Idempotent. */
  release(): Promise<void>;
}

/**
 * Checkpoint and parking writes that join an event-log transaction (see
 * {@linkcode EventLogTransaction}), so a subscription's read-model writes and its
 * progress commit together or not at all.
 */
export interface SubscriptionTransaction {
  /**
   * {@linkcode SubscriptionStorage.putCheckpoint} inside this transaction. A
   * commit-checked adapter answers from the state it read and checks again at commit: if
   * the checkpoint moved in between, the commit fails with a `RevisionConflictError`
   * whose stream is `"$checkpoint:" + name`.
   */
  putCheckpoint(name: string, expected: string | null, next: CheckpointUpdate): Promise<boolean>;
  /** {@linkcode SubscriptionStorage.parkEvent} inside this transaction. */
  parkEvent(event: ParkedEvent): Promise<void>;
  /** {@linkcode SubscriptionStorage.unparkEvent} inside this transaction. */
  unparkEvent(name: string, id: string): Promise<boolean>;
}

/**
 * The subscription part of an adapter.
 *
 * Invariants: `putCheckpoint` is a compare-and-set (two holders racing, one wins);
 * a checkpoint's state and version read back as put; parked events list in position
 * order; at most one live lease per name across every process sharing the store.
 */
export interface SubscriptionStorage {
  /** The checkpoint called `name`, if any. */
  getCheckpoint(name: string): Promise<Checkpoint | undefined>;
  /** All checkpoints, by name. */
  listCheckpoints(): Promise<Checkpoint[]>;
  /**
   * Sets checkpoint `name` to `next` only if it is at `expected` now (`null`: it must not
   * exist or have no position). Returns whether it was set.
   */
  putCheckpoint(name: string, expected: string | null, next: CheckpointUpdate): Promise<boolean>;
  /** Removes a checkpoint (nothing happens when there is none). */
  deleteCheckpoint(name: string): Promise<void>;
  /** Parks an event of subscription `event.name`, replacing an earlier parking of the same event. */
  parkEvent(event: ParkedEvent): Promise<void>;
  /** The parked events of subscription `name` (of every subscription when absent), in position order. */
  listParked(name?: string): Promise<ParkedEvent[]>;
  /** Removes a parked event; returns whether it was parked. */
  unparkEvent(name: string, id: string): Promise<boolean>;
  /**
   * Takes the lease on subscription `name` for `owner`, or returns `undefined` when
   * another owner holds it. Stores that cannot tell when a holder dies (SQLite) expire an
   * unrenewed lease after `ttl` ms; PostgreSQL holds a session advisory lock, released the
   * moment the holder's connection dies; memory holds it in the adapter.
   */
  acquireLease(name: string, owner: string, ttl: number): Promise<Lease | undefined>;
  /**
   * Which of `names` are leased now, by any holder in any process (an unrenewed SQLite
   * lease past its time to live is free). It only reads: it takes nothing and never
   * stands in another holder's way. Optional: without it, a partitioned subscription
   * finds the live members by taking each lease and giving it back.
   *
   * @param names lease names
   * @returns those held now, in the order given
   */
  heldLeases?(names: readonly string[]): Promise<string[]>;
}
