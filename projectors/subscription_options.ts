/**
 * The options of a subscription: how it delivers, retries, parks, leases and
 * saves state, and what its `onError` listener is told. What it reports (`info()`,
 * `replayParked()`, its states) is in `subscription_info.ts`, re-exported here.
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";

export type {
  DropResult,
  PartitionInfo,
  ReplayResult,
  SubscriptionInfo,
  SubscriptionState,
  SubscriptionStoreError,
} from "./subscription_info.ts";

/**
 * A read model kept whole in memory and saved as a blob with each checkpoint: on start
 * it is restored and the subscription goes on from the checkpoint. Since the blob and
 * the checkpoint are saved together, the restored read model has seen every event up to
 * the checkpoint exactly once, even after a crash.
 *
 * @example
 * ```ts
 * import type { SavedState } from "@eventfold/eventfold";
 * const totals = new Map<string, number>();
 * const state: SavedState = {
 *   save: () => Object.fromEntries(totals),
 *   restore: (saved) => Object.entries(saved as Record<string, number>).forEach(([k, n]) => totals.set(k, n)),
 * };
 * ```
 */
export interface SavedState {
  /** Returns the whole read model to save (anything the store's codec encodes; not `undefined`). */
  save(): unknown;
  /** Puts a saved read model back, before the first event is delivered. */
  restore(state: unknown): void | Promise<void>;
}

/**
 * What `onError` is told besides the error.
 *
 * @example
 * ```ts
 * import type { SubscriptionErrorContext } from "@eventfold/eventfold";
 * const log = (error: unknown, { subscription, record, attempt, action }: SubscriptionErrorContext) =>
 *   console.warn(subscription, record?.id, attempt, action, error);
 * ```
 */
export interface SubscriptionErrorContext {
  /** The subscription name. */
  readonly subscription: string;
  /** The event a handler failed on (absent for a store error). */
  readonly record?: EventRecord;
  /**
   * How many times the handlers of `record` were tried so far; for a store error, how
   * many store calls in a row failed in this outage (1 for its first report).
   */
  readonly attempt?: number;
  /** For a retry or a store error: how long it waits before trying again, in ms. */
  readonly delay?: number;
  /**
   * What happens next: `"retry"` the event after a backoff, `"park"` it, `"stop"` the
   * subscription (state `"failed"`), or `"recover"` from a store error (read, checkpoint,
   * lease, transaction, watch) by trying again after a backoff, for as long as it takes:
   * a store error never parks an event nor stops the subscription.
   */
  readonly action: "retry" | "park" | "stop" | "recover";
}

/**
 * Options of `store.subscribe(name, projector, options)`.
 *
 * @typeParam THandle the adapter's transaction handle (for `transactional` handlers)
 * @example
 * ```ts
 * import type { SubscriptionOptions } from "@eventfold/eventfold";
 *
 * const readModel = new Map<string, number>();
 * const options: SubscriptionOptions = {
 *   attempts: 5,
 *   backoff: 200,
 *   onFailure: "park",
 *   version: 2,
 *   reset: () => readModel.clear(),
 *   state: {
 *     save: () => [...readModel],
 *     restore: (saved) => (saved as [string, number][]).forEach(([key, n]) => readModel.set(key, n)),
 *   },
 * };
 * ```
 */
export interface SubscriptionOptions {
  /** Start at once (default `true`); `false` waits for `start()` or `rebuild()`. */
  readonly start?: boolean;
  /**
   * Cut the log into this many partitions by a stable hash of the stream (see
   * `partitionOf`), each with its own lease and checkpoint (named `name#index/count`), so
   * that every running instance of this name, in any process, handles a share of them;
   * partitions move when an instance joins, stops or dies. A stream is handled by one
   * instance at a time, in revision order. `state` (a read model saved whole) cannot be
   * split and is refused. Changing the number for an existing name is refused unless the
   * subscription is rebuilt (`rebuild()`). An integer from 1 to 1024; absent: one
   * instance handles everything.
   */
  readonly partitions?: number;
  /**
   * Run each batch of events (a page of the log) in one store transaction, handlers and
   * checkpoint together: a handler writes its read model through `subscription.tx()` (the
   * adapter's transaction handle), and the writes commit with the checkpoint or not at
   * all, so a read model in the same database sees each event exactly once. A failing
   * batch is rolled back and replayed event by event, each in its own transaction.
   * Default `false`: the checkpoint is saved after the batch (at-least-once).
   */
  readonly transactional?: boolean;
  /**
   * Deliver one event at a time, in log order (default `false`: the events of different
   * streams are delivered side by side, each stream in order). For handlers whose state
   * spans streams, such as a workflow's instances.
   */
  readonly sequential?: boolean;
  /** How many times an event's handlers are tried before it is parked or the subscription stops (default 3). */
  readonly attempts?: number;
  /** Delay before the first retry in ms, doubling with each retry (default 100). */
  readonly backoff?: number;
  /**
   * Longest delay between retries, and between recoveries from store errors, in ms
   * (default 30000). Recoveries start at `backoff` (at least 50 ms), double with each
   * store error in a row, and are shortened by up to half at random (jitter).
   */
  readonly maxBackoff?: number;
  /**
   * After the last attempt: `"park"` the event (stored with its error, listed by
   * `parked()`, replayable with `replayParked()`, removable with `dropParked()`) and go on,
   * or `"stop"` with state `"failed"`, the checkpoint just before the event (default
   * `"park"`). With `"park"`, a parked event no longer holds its stream back: later events
   * of its stream are handled without it.
   *
   * `"park-stream"` parks the event and holds its stream: later events of that stream are
   * not handled but parked behind it ("held": `attempts: 0`, an error naming the parked
   * event that holds them), while other streams flow and the checkpoint moves on. The
   * stream flows again once none of its events is parked: `replayParked()` replays a
   * stream's parked events in order and stops that stream at the first one that fails
   * again; `dropParked(id)` removes one and replays what it held back. Every stream with a
   * parked event is held, also after a restart (the held streams are loaded with the
   * checkpoint) and in `transactional` mode (the held events are parked in the page's
   * transaction). A rebuild drops the parked events and releases every stream.
   */
  readonly onFailure?: "park" | "stop" | "park-stream";
  /**
   * The projection's version, saved with the checkpoint. On start, a checkpoint saved by
   * another version triggers a rebuild (`reset`, then a replay of everything).
   */
  readonly version?: number;
  /** The whole read model, saved with each checkpoint and restored on start. */
  readonly state?: SavedState;
  /**
   * Empties the read model before a rebuild. In `transactional` mode it runs in the
   * transaction that resets the checkpoint (`subscription.tx()` works in it).
   */
  readonly reset?: () => unknown;
  /**
   * How events behind a saved checkpoint are delivered when the subscription starts:
   * `"hydrated"` (default: catch-up is history, `once` handlers stay silent) or `"fresh"`
   * (events missed while no instance ran are delivered as new, so `once` side effects are
   * not lost to downtime). A first start without a checkpoint and a rebuild always replay hydrated.
   */
  readonly resumeAs?: "hydrated" | "fresh";
  /** How often a live subscription reads the log without a wake-up, in ms (default 1000). */
  readonly pollInterval?: number;
  /**
   * How long a page of the log may take to read before the read is given up as a store
   * error (reported, and tried again after a backoff), in ms (default 30000): a
   * connection that died without a word must not freeze the subscription.
   */
  readonly readTimeout?: number;
  /** How often the lease is renewed, and a waiting instance tries to take it, in ms (default 1000). */
  readonly leaseInterval?: number;
  /**
   * How long a lease lives without renewal, in ms (default 5000). Used by stores that
   * cannot tell when a holder dies (SQLite): another process takes over about this long
   * after the holder stopped renewing. Must be more than twice `leaseInterval`.
   */
  readonly leaseTtl?: number;
  /** This instance's id in lease rows and `info()` (default a random UUID). */
  readonly owner?: string;
  /**
   * Told about every handler failure and store error (each failed try of an outage, with
   * `action: "recover"`). Without it, parked events, failures and store errors are
   * written to the console (retries are not). It must not throw; what it throws is logged.
   */
  readonly onError?: (error: unknown, context: SubscriptionErrorContext) => void;
}
