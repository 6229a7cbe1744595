/**
 * What a subscription reports: where it is (its state and `info()`), the store
 * error it last met, and what `replayParked()` and `dropParked()` did.
 *
 * @module
 */

import type { ParkedEvent } from "../contract/mod.ts";

/**
 * Where a subscription is:
 *
 * - `"starting"`: taking its lease for the first time;
 * - `"waiting-for-lease"`: another instance (here or in another process) holds the name;
 * - `"catching-up"`: reading history from its checkpoint (delivered hydrated);
 * - `"live"`: caught up, following new events (delivered fresh);
 * - `"paused"`: holding the lease, delivering nothing until `resume()`;
 * - `"retrying"`: a store call failed (a lost connection, a restarting server, a locked
 *   file): it waits out a backoff, then takes its lease again and goes on from its
 *   checkpoint (`info().lastError` says what failed; `onError` was told);
 * - `"stopped"`: not running (before `start()` or after `stop()`);
 * - `"failed"`: a handler failed for good with `onFailure: "stop"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SubscriptionState } from "@eventfold/eventfold";
 * const healthy = (state: SubscriptionState): boolean => state !== "failed";
 * assert(healthy("live"));
 * ```
 */
export type SubscriptionState =
  | "starting"
  | "waiting-for-lease"
  | "catching-up"
  | "live"
  | "paused"
  | "retrying"
  | "stopped"
  | "failed";

/**
 * What `subscription.info()` reports.
 *
 * @example
 * ```ts
 * import type { SubscriptionInfo } from "@eventfold/eventfold";
 * const behind = (info: SubscriptionInfo): boolean => info.state === "failed" || info.lag > 10_000;
 * ```
 */
export interface SubscriptionInfo {
  /** The subscription name. */
  readonly name: string;
  /** This instance's owner id. */
  readonly owner: string;
  /** Where it is. */
  readonly state: SubscriptionState;
  /** The last position handled or parked with every earlier one (the checkpoint; `null` before any). */
  readonly position: string | null;
  /** Events readable now after `position` (`NaN` when the store cannot be asked: see `lastError`). */
  readonly lag: number;
  /** How many events of this subscription are parked (`NaN` when the store cannot be asked). */
  readonly parked: number;
  /** The error that made it fail, or the store error it is recovering from now. */
  readonly error?: string;
  /**
   * The last store error seen (by the subscription, or by this `info()` call when the
   * store did not answer it), kept after recovery for health reports.
   */
  readonly lastError?: SubscriptionStoreError;
  /**
   * For a partitioned subscription, each partition: `position` and `parked` are those of
   * the whole subscription's slowest partition and of all partitions.
   */
  readonly partitions?: readonly PartitionInfo[];
}

/**
 * One partition of a partitioned subscription, in its `info()`.
 *
 * @example
 * ```ts
 * import type { PartitionInfo } from "@eventfold/eventfold";
 * const line = (p: PartitionInfo) => `${p.index}: ${p.here ? p.state : "elsewhere"} at ${p.position}`;
 * ```
 */
export interface PartitionInfo {
  /** Which partition, from 0. */
  readonly index: number;
  /** The name its checkpoint, lease and parked events are kept under (`name#index/count`). */
  readonly name: string;
  /**
   * Whether this instance runs it now, holding its lease (`false` while it waits for the
   * lease of one dealt to it, or another instance has it).
   */
  readonly here: boolean;
  /** Its state in this instance (`"stopped"` when it is not dealt to it). */
  readonly state: SubscriptionState;
  /** Its saved checkpoint (`null` before any). */
  readonly position: string | null;
  /** How many of its events are parked. */
  readonly parked: number;
}

/**
 * A store error a subscription met, as `info().lastError` reports it.
 *
 * @example
 * ```ts
 * import type { SubscriptionStoreError } from "@eventfold/eventfold";
 * const line = ({ message, time, attempt }: SubscriptionStoreError) => `${time} (try ${attempt}): ${message}`;
 * ```
 */
export interface SubscriptionStoreError {
  /** The error's name and message. */
  readonly message: string;
  /** When it happened (ISO 8601). */
  readonly time: string;
  /** How many store calls in a row had failed then (1 for the first of an outage). */
  readonly attempt: number;
  /** Whether the subscription has recovered since (handled or read the log again). */
  readonly recovered: boolean;
}

/**
 * What `subscription.replayParked()` did.
 *
 * @example
 * ```ts
 * import type { ReplayResult } from "@eventfold/eventfold";
 * const summary = ({ replayed, failed }: ReplayResult) => `${replayed.length} replayed, ${failed.length} still parked`;
 * ```
 */
export interface ReplayResult {
  /** Ids of the parked events whose handlers now succeeded (no longer parked). */
  readonly replayed: string[];
  /** Events that failed again and stay parked (with the new error and attempt count). */
  readonly failed: ParkedEvent[];
}

/**
 * What `subscription.dropParked(id)` did: the event it removed without handling it, and
 * (with `onFailure: "park-stream"`) the replay of the events its stream held behind it.
 *
 * @example
 * ```ts
 * import type { DropResult } from "@eventfold/eventfold";
 * const summary = ({ dropped, replayed, failed }: DropResult) =>
 *   dropped === null ? "it was not parked" : `dropped ${dropped.id}, ${replayed.length} replayed, ${failed.length} failed`;
 * ```
 */
export interface DropResult extends ReplayResult {
  /** The parked event removed, as it was stored; `null` when no event with that id was parked (nothing changed). */
  readonly dropped: ParkedEvent | null;
}
