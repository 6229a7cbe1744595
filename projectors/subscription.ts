/**
 * `Subscription`: a durable projection. It drives a {@linkcode Projector} from a saved
 * checkpoint through the store's log, catching up hydrated and then following live
 * events, with retries, parking, one active instance per name, rebuilds and
 * read-your-writes.
 *
 * @module
 */

import { AsyncContext, bounded, delay, jitteredDelay, Signal } from "../async.ts";
import { isStoreClosedError, SubscriptionStoppedError } from "../errors.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import type { Adapter, ParkedEvent, Partition } from "../contract/mod.ts";
import type { Projector } from "./projector.ts";
import { errorText } from "./_subscription_delivery.ts";
import { Follower } from "./_subscription_follow.ts";
import { Failed, Handling } from "./_subscription_handling.ts";
import { keepLease, type LeaseLostError, takeLease } from "./_subscription_lease.ts";
import { Progress } from "./_subscription_progress.ts";
import { report, type StoreErrorSeen } from "./_subscription_reports.ts";
import { type Settings, settle } from "./_subscription_settings.ts";
import { HOLDING, READING, Status } from "./_subscription_status.ts";
import { type WaitArguments, waitArguments, Waiters } from "./_subscription_waiters.ts";
import type { SubscriptionErrorContext, SubscriptionOptions } from "./subscription_options.ts";
import type {
  DropResult,
  ReplayResult,
  SubscriptionInfo,
  SubscriptionState,
  SubscriptionStoreError,
} from "./subscription_info.ts";
import type { SubscriptionSource, SubscriptionTracker } from "./subscription_source.ts";

export type { SubscriptionSource, SubscriptionTracker } from "./subscription_source.ts";

/**
 * What makes a subscription one part of a partitioned subscription (which
 * `store.subscribe(name, projector, { partitions })` makes; not for direct use).
 */
export interface SubscriptionPart {
  /** It reads only this partition's streams. */
  readonly partition: Partition;
  /** Where history ends for its runs (events after it are fresh). */
  readonly historyAt?: () => Promise<string | null | undefined>;
}

/**
 * A durable projection: made by `store.subscribe(name, projector, options)`, it runs the
 * projector over the store's log from a saved checkpoint.
 *
 * - **Delivery.** Events are read from the checkpoint in position order, a page at a
 *   time, always by position cursor (wake-ups from this store's commits, from other
 *   processes through the adapter's `watch`, and a polling interval only say "look"), so
 *   nothing is missed or repeated when it switches from catching up to live. Each stream
 *   is handled in order, different streams of a page concurrently. Events up to the
 *   log's head when the subscription starts (or rebuilds) are delivered hydrated (`once`
 *   handlers stay silent); later ones fresh, also when read during catch-up or after a
 *   recovery; an imported event is always hydrated and `outdated` comes from the record
 *   (both are stored).
 * - **Checkpoint.** Saved (compare-and-set) after each page; it never passes an event
 *   that was neither handled nor parked. With `transactional: true`, handlers write
 *   through {@linkcode Subscription.tx} and the writes commit with the checkpoint.
 * - **Failures.** A failing event (its handler threw) is retried with exponential
 *   backoff, then parked or the subscription stops (`onFailure`).
 * - **Outages.** A failing store call (a lost connection, a server restart, a locked or
 *   unreadable file; reading, saving the checkpoint, the lease, a transaction, the
 *   watch) is not the event's fault: it is reported (`onError` with `action: "recover"`,
 *   state `"retrying"`, `info().lastError`), then tried again after a backoff with
 *   jitter, for as long as it takes. The subscription takes its lease again and goes on
 *   from its checkpoint, so nothing is lost, and nothing is applied twice with
 *   `transactional: true`. It never says `"live"` while it cannot read.
 * - **One instance per name** across processes, by a lease (PostgreSQL: an advisory
 *   lock, taken over as soon as the holder's connection dies; SQLite: a lease row taken
 *   over `leaseTtl` after the holder stopped renewing it; memory: per adapter). Another
 *   instance waits in state `"waiting-for-lease"`, trying every `leaseInterval`.
 * - **Read your writes**: `const record = await store.pushEvent(...)`, then
 *   `await subscription.waitFor(record.position)`.
 *
 * It starts at once unless `start: false`. Stop it (or close the store, which stops its
 * subscriptions) to release the lease, timers and listeners; `await using` does that.
 *
 * @typeParam TEvents the event factory
 * @typeParam THandle the adapter's transaction handle, returned by {@linkcode Subscription.tx}
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore, Projector } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { z } from "zod";
 *
 * const events = new EventFactory([event.type("user:created").data(z.object({ name: z.string() }))]);
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * const names = new Map<string, string>();
 * const projector = new Projector<typeof events>();
 * projector.on("user:created", (record) => void names.set(record.stream, record.data.name));
 *
 * await using users = store.subscribe("users", projector, { reset: () => names.clear() });
 * const record = await store.pushEvent(store.event({ type: "user:created", stream: "u1", data: { name: "Ada" } }));
 * await users.waitFor(record.position, { timeout: 1000 });
 * assert.equal(names.get("u1"), "Ada");
 * ```
 */
export class Subscription<TEvents extends AnyEventFactory = AnyEventFactory, THandle = unknown>
  implements AsyncDisposable {
  /** The subscription name: its checkpoint, parked events and lease are kept under it. */
  readonly name: string;
  /** This instance's id (lease owner). */
  readonly owner: string;
  readonly #source: SubscriptionSource<TEvents, THandle>;
  readonly #adapter: Adapter;
  readonly #settings: Settings;
  readonly #tracker: SubscriptionTracker | undefined;
  readonly #scope = new AsyncContext<{ readonly handle: unknown }>();
  readonly #signal = new Signal();
  readonly #waiters = new Waiters();
  readonly #progress: Progress;
  readonly #follower: Follower<TEvents>;
  readonly #status = new Status();
  #failure: Failed | undefined;
  #lastError: StoreErrorSeen | undefined;
  #unwatch: (() => void) | undefined;
  #run: Promise<void> | undefined;
  #stop: AbortController | undefined;

  /**
   * Makes a subscription; `store.subscribe(name, projector, options)` is the usual way.
   *
   * @param source the store
   * @param name the subscription name
   * @param projector the handlers
   * @param options delivery, failure, lease and state options
   * @param tracker where the store keeps its running subscriptions
   * @param part for one partition of a partitioned subscription (which partition, where history ends)
   * @throws {TypeError} for an empty name, a missing projector or a bad option
   * @throws {RangeError} for a number option out of range
   */
  constructor(
    source: SubscriptionSource<TEvents, THandle>,
    name: string,
    projector: Projector<TEvents>,
    options: SubscriptionOptions = {},
    tracker?: SubscriptionTracker,
    part?: SubscriptionPart,
  ) {
    if (typeof name !== "string" || name.length === 0) {
      throw new TypeError(`A subscription needs a non-empty name, got ${JSON.stringify(name)}`);
    }
    if (typeof projector?.push !== "function") {
      throw new TypeError(
        "A subscription needs a Projector: store.subscribe(name, new Projector(), options)",
      );
    }
    this.#settings = settle(options);
    this.name = name;
    this.owner = this.#settings.owner;
    this.#source = source;
    this.#adapter = source.adapter;
    this.#tracker = tracker;
    this.#progress = new Progress(source.adapter, name, this.#settings, this.#waiters);
    const handling = new Handling({
      name,
      adapter: source.adapter,
      projector,
      settings: this.#settings,
      scope: this.#scope,
      progress: this.#progress,
      report: (error, context) => this.#report(error, context),
      telemetry: source.telemetry,
    });
    this.#follower = new Follower({
      name,
      source,
      settings: this.#settings,
      progress: this.#progress,
      handling,
      signal: this.#signal,
      status: this.#status,
      // A projector that tells its types (every Projector does) is read for those only.
      types: () => typeof projector.handledTypes === "function" ? projector.handledTypes() : undefined,
      partition: part?.partition,
      historyAt: part?.historyAt,
    });
    if (options.start !== false) this.start();
  }

  /**
   * Where it is now, without asking the store (see {@linkcode Subscription.info} for the
   * full report).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([]) });
   * const subscription = store.subscribe("audit", new Projector(), { start: false });
   * assert.equal(subscription.state, "stopped");
   * ```
   */
  get state(): SubscriptionState {
    return this.#status.current;
  }

  /**
   * The last position this instance has handled (or parked) with every earlier one:
   * `null` until its checkpoint is loaded, and while another instance holds the lease
   * (then {@linkcode Subscription.info} reports the saved checkpoint).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([]) });
   * const subscription = store.subscribe("audit", new Projector(), { start: false });
   * assert.equal(subscription.position, null);
   * ```
   */
  get position(): string | null {
    return this.#progress.position;
  }

  /**
   * Starts it (done by `subscribe` unless `start: false`): it takes the lease (or waits
   * for it), loads the checkpoint and goes. Does nothing while it runs; starts a stopped
   * or failed subscription again from its checkpoint.
   *
   * @throws {StoreClosedError} when the store is closed
   * @example
   * ```ts
   * import { EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([]) });
   * await using subscription = store.subscribe("audit", new Projector(), { start: false });
   * subscription.start();
   * ```
   */
  start(): void {
    if (this.#run !== undefined) return;
    const stop = new AbortController();
    const inserted = this.#source.onEventsInserted(() => this.#signal.notify());
    this.#stop = stop;
    this.#progress.position = null; // known again once the checkpoint is loaded
    this.#follower.begin();
    this.#progress.error = undefined;
    this.#failure = undefined;
    this.#status.set("starting");
    this.#tracker?.add(this);
    this.#run = this.#main(stop.signal).finally(() => this.#ended(inserted));
  }

  /**
   * Lets the page being handled finish and its checkpoint save, then delivers nothing
   * until {@linkcode Subscription.resume}. It keeps the lease.
   *
   * @returns when nothing is being handled any more
   * @example
   * ```ts
   * import { EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([]) });
   * await using subscription = store.subscribe("audit", new Projector());
   * await subscription.pause();
   * subscription.resume();
   * ```
   */
  pause(): Promise<void> {
    this.#follower.paused = true;
    this.#signal.notify();
    return this.#status.until(() => !HOLDING.has(this.#status.current) || this.#status.current === "paused");
  }

  /**
   * Goes on after {@linkcode Subscription.pause}.
   *
   * @example
   * ```ts
   * import { EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([]) });
   * await using subscription = store.subscribe("audit", new Projector());
   * await subscription.pause();
   * subscription.resume();
   * ```
   */
  resume(): void {
    this.#follower.paused = false;
    this.#signal.notify();
  }

  /**
   * Stops it: the page being handled finishes and its checkpoint is saved, then the
   * lease is released and its timers and listeners are removed. Pending `waitFor` calls
   * reject with `SubscriptionStoppedError`. Idempotent. Do not await it from inside one
   * of its own handlers (it waits for them).
   *
   * @returns when it has stopped
   * @example
   * ```ts
   * import { EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([]) });
   * const subscription = store.subscribe("audit", new Projector());
   * await subscription.stop();
   * ```
   */
  async stop(): Promise<void> {
    const run = this.#run;
    if (run === undefined) return;
    this.#stop?.abort();
    this.#signal.notify();
    await run;
  }

  /**
   * Rebuilds the read model: calls the `reset` option, resets the checkpoint (and drops
   * its parked events), replays every event hydrated (so `once` handlers stay silent),
   * then goes live. Starts the subscription if it is not running; waits for the lease.
   *
   * @returns when the replay has caught up with the log
   * @throws {SubscriptionStoppedError} when it is stopped, or fails, before that
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * await store.pushEvent(store.event({ type: "tick", stream: "s" }));
   * let ticks = 0;
   * const projector = new Projector<typeof events>();
   * projector.on("tick", () => void ticks++);
   * await using subscription = store.subscribe("ticks", projector, { start: false, reset: () => (ticks = 0) });
   * await subscription.rebuild();
   * assert.equal(ticks, 1);
   * ```
   */
  async rebuild(): Promise<void> {
    const done = this.#follower.request("rebuild");
    this.start();
    await done;
  }

  /**
   * Delivers parked events again (after a fix): each one with the flags it had, once;
   * one that succeeds is unparked, one that fails again stays parked with the new error.
   * Runs in the active instance, between pages.
   *
   * With `onFailure: "park-stream"` each stream's parked events (the failed one and those
   * held behind it) are replayed in position order; one that fails again stays parked
   * with its new error and attempt count, and the rest of its stream stays parked behind
   * it, untried. A stream none of whose events is parked any more flows again. `id`
   * replays its stream from its first parked event up to and including `id`, so nothing
   * overtakes an earlier parked event.
   *
   * @param id only this event (with `"park-stream"`: its stream up to it; default: every parked event of this subscription, in position order)
   * @returns the ids replayed and the events that failed again
   * @throws {SubscriptionStoppedError} when the subscription is not running or stops first
   * @example
   * ```ts
   * import { EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([]) });
   * await using subscription = store.subscribe("mailer", new Projector());
   * const { replayed, failed } = await subscription.replayParked();
   * console.log(`${replayed.length} replayed, ${failed.length} still parked`);
   * ```
   */
  async replayParked(id?: string): Promise<ReplayResult> {
    if (id !== undefined && (typeof id !== "string" || id.length === 0)) {
      throw new TypeError(`replayParked takes an event id, got ${JSON.stringify(id)}`);
    }
    if (this.#run === undefined) throw new SubscriptionStoppedError(this.name, "stopped");
    return (await this.#follower.request("replay", id))!;
  }

  /**
   * Removes a parked event without handling it (a poison event the read model is better
   * off without). With `onFailure: "park-stream"`, when it was the first parked event of
   * its stream, the events held behind it are replayed next, in order, stopping at the
   * first that fails again (as {@linkcode Subscription.replayParked} does); a stream with
   * nothing parked any more flows again. Dropping an event held behind an earlier parked
   * one only removes it. Runs in the active instance, between pages.
   *
   * @param id the parked event's id
   * @returns the event dropped (`null` when no event with this id was parked: nothing
   *   changed), and the ids replayed and events that failed again behind it
   * @throws {TypeError} for an id that is not a non-empty string
   * @throws {SubscriptionStoppedError} when the subscription is not running or stops first
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([]) });
   * await using subscription = store.subscribe("mailer", new Projector(), { onFailure: "park-stream" });
   * const { dropped } = await subscription.dropParked("no-such-event");
   * assert.equal(dropped, null);
   * ```
   */
  async dropParked(id: string): Promise<DropResult> {
    if (typeof id !== "string" || id.length === 0) {
      throw new TypeError(`dropParked takes the id of a parked event, got ${JSON.stringify(id)}`);
    }
    if (this.#run === undefined) throw new SubscriptionStoppedError(this.name, "stopped");
    // The drop request resolves with what Handling.drop returned.
    return (await this.#follower.request("drop", id)) as DropResult;
  }

  /**
   * The parked events of this subscription, in position order. With
   * `onFailure: "park-stream"` they include the events held behind a parked one of their
   * stream (`attempts: 0`, an error naming that event).
   *
   * @returns the events with their error, attempts and time
   * @example
   * ```ts
   * import { EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([]) });
   * await using subscription = store.subscribe("mailer", new Projector());
   * for (const parked of await subscription.parked()) console.log(parked.id, parked.error);
   * ```
   */
  async parked(): Promise<ParkedEvent[]> {
    return await this.#adapter.listParked(this.name);
  }

  /**
   * Where it is: state, checkpoint position, lag (events after it), parked count, and the
   * last store error it met (`lastError`, kept after it recovered). An instance waiting
   * for the lease reports the active instance's saved checkpoint. It answers while the
   * store is down: state `"retrying"` (never `"live"`), `lag` and `parked` `NaN`, and the
   * error that this call met as `lastError`.
   *
   * @returns the report
   * @throws {StoreClosedError} when the store is closed
   * @example
   * ```ts
   * import { EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([]) });
   * await using subscription = store.subscribe("audit", new Projector());
   * const { state, position, lag, parked } = await subscription.info();
   * console.log(state, position, lag, parked);
   * ```
   */
  async info(): Promise<SubscriptionInfo> {
    let state = this.#status.current;
    let position = HOLDING.has(state) ? this.#progress.position : this.#progress.saved;
    let lag = NaN;
    let parked = NaN;
    let unanswered: StoreErrorSeen | undefined;
    try {
      if (!HOLDING.has(state)) position = (await this.#adapter.getCheckpoint(this.name))?.position ?? null;
      const [count, list] = await Promise.all([
        this.#adapter.countAfter(position),
        this.#adapter.listParked(this.name),
      ]);
      lag = count;
      parked = list.length;
    } catch (error) {
      if (isStoreClosedError(error)) throw error;
      // The store does not answer: whatever the loop last saw, it cannot read now. Wake it
      // so it finds out for itself and reports the outage.
      if (READING.has(state)) state = "retrying";
      this.#signal.notify();
      const attempt = this.#progress.error === undefined ? 1 : (this.#lastError?.attempt ?? 1);
      unanswered = { error, time: new Date().toISOString(), attempt };
    }
    const error = this.#failure?.error ?? this.#progress.error ?? unanswered?.error;
    const last = unanswered ?? this.#lastError;
    const lastError: SubscriptionStoreError | undefined = last === undefined ? undefined : {
      message: errorText(last.error),
      time: last.time,
      attempt: last.attempt,
      recovered: unanswered === undefined && this.#progress.error === undefined,
    };
    return {
      name: this.name,
      owner: this.owner,
      state,
      position,
      lag,
      parked,
      ...(error === undefined ? {} : { error: errorText(error) }),
      ...(lastError === undefined ? {} : { lastError }),
    };
  }

  /**
   * Waits until this subscription has handled (or parked) `position` and everything
   * before it, so a read model reflects a write: the read-your-writes pattern is
   * `const record = await store.pushEvent(...); await subscription.waitFor(record.position)`.
   * Any position of the store works, also one of an event no handler takes.
   *
   * Or waits until `predicate()` (over the read model) holds after a batch was handled.
   * It is tried at once first unless `alreadySatisfied: false` (then only a batch handled
   * after the call can satisfy it); a predicate that throws rejects the wait.
   *
   * @param target a position of the store, or a predicate
   * @param options `timeout` in ms (default 5000; `Infinity` waits for ever); `alreadySatisfied` (predicates)
   * @returns once handled (at once when it already was)
   * @throws {TimeoutError} when the timeout passes first
   * @throws {SubscriptionStoppedError} when the subscription is not running, or stops first
   * @throws {TypeError} for a target that is neither a position string nor a function
   * @example
   * ```ts
   * import { event, EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * let ticks = 0;
   * const projector = new Projector<typeof events>();
   * projector.on("tick", () => void ticks++);
   * await using subscription = store.subscribe("ticks", projector);
   * const record = await store.pushEvent(store.event({ type: "tick" }));
   * await subscription.waitFor(record.position, { timeout: 1000 });
   * await store.pushEvent(store.event({ type: "tick" }));
   * await subscription.waitFor(() => ticks === 2, { timeout: 1000 });
   * ```
   */
  waitFor(
    target: string | (() => boolean | Promise<boolean>),
    options: { readonly timeout?: number; readonly alreadySatisfied?: boolean } = {},
  ): Promise<void> {
    let checked: WaitArguments;
    try {
      checked = waitArguments(target, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const { timeout, now } = checked;
    if (typeof target === "function") return this.#until(target, timeout, now);
    const position = target;
    const handled = this.#progress.position;
    if (handled !== null && position <= handled) return Promise.resolve();
    if (this.#run === undefined) {
      return Promise.reject(this.#ending());
    }
    return this.#waiters.add(
      position,
      timeout,
      () =>
        `waiting for subscription "${this.name}" to handle position ${position} (it is at ${this.#progress.position})`,
    );
  }

  async #until(holds: () => boolean | Promise<boolean>, timeout: number, now: boolean): Promise<void> {
    if (this.#run === undefined) {
      if (now && await holds()) return;
      throw this.#ending();
    }
    return await this.#waiters.watch(
      holds,
      timeout,
      () => `waiting for a predicate over subscription "${this.name}" (it is at ${this.#progress.position})`,
      now,
    );
  }

  /**
   * The adapter's transaction handle, inside a handler (or the `reset` hook) of a
   * `transactional` subscription: what the handler writes through it commits with the
   * checkpoint. On SQLite a `DatabaseSync`, on PostgreSQL a postgres.js transaction, in
   * memory a `MemoryTransaction` (stage writes with `onCommit`).
   *
   * @returns the handle of the running batch's transaction
   * @throws {TypeError} outside such a handler
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event, EventFactory, EventStore, Projector } from "@eventfold/eventfold";
   * import { MemoryAdapter } from "@eventfold/eventfold/memory";
   * const events = new EventFactory([event.type("tick")]);
   * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
   * let ticks = 0;
   * const projector = new Projector<typeof events>();
   * await using subscription = store.subscribe("ticks", projector, { transactional: true });
   * projector.on("tick", () => subscription.tx().onCommit(() => ticks++));
   * await subscription.waitFor((await store.pushEvent(store.event({ type: "tick" }))).position);
   * assert.equal(ticks, 1);
   * ```
   */
  tx(): THandle {
    const scope = this.#scope.get();
    if (scope === undefined) {
      throw new TypeError(
        `tx() is only available inside a handler of a transactional subscription ("${this.name}" ` +
          `${this.#settings.transactional ? "is not handling an event here" : "is not transactional"})`,
      );
    }
    // The handle of a transaction of the source's adapter, whose type the store gave.
    return scope.handle as THandle;
  }

  /** Stops it, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  // --- the run -------------------------------------------------------------------------

  async #main(stop: AbortSignal): Promise<void> {
    const { leaseTtl, leaseInterval, backoff, maxBackoff } = this.#settings;
    const terms = { name: this.name, owner: this.owner, ttl: leaseTtl, interval: leaseInterval };
    // A renewal (or release) still pending this long may have outlived the lease.
    const timeout = leaseTtl - leaseInterval;
    let attempt = 0;
    while (!stop.aborted) {
      try {
        this.#watch();
        const lease = await takeLease(this.#adapter, terms, stop, () => this.#waitingForLease());
        if (lease === undefined) return;
        const hold = new AbortController();
        let lost: LeaseLostError | undefined;
        const keep = keepLease(lease, { name: this.name, interval: leaseInterval, timeout }, (error) => {
          lost = error;
          hold.abort();
          this.#signal.notify();
        });
        try {
          await this.#follower.follow(AbortSignal.any([stop, hold.signal]));
        } finally {
          await keep();
          await bounded(lease.release(), timeout).catch(() => {});
        }
        if (lost !== undefined && !stop.aborted) throw lost;
      } catch (error) {
        if (error instanceof Failed) {
          this.#failure = error;
          return;
        }
        if (isStoreClosedError(error) || stop.aborted) return;
        // The backoff grows only while nothing succeeds between errors (one outage).
        if (this.#progress.error === undefined) attempt = 0;
        attempt++;
        this.#progress.error = error;
        this.#lastError = { error, time: new Date().toISOString(), attempt };
        const wait = jitteredDelay(attempt, Math.max(50, backoff), maxBackoff, Math.random());
        this.#status.set("retrying");
        this.#report(error, { action: "recover", attempt, delay: wait });
        await delay(wait, stop);
      }
    }
  }

  /**
   * Watches for commits of other processes, when the adapter can; a watch that cannot be
   * set up is reported and tried again after the next outage (polling covers the gap).
   */
  #watch(): void {
    if (this.#unwatch !== undefined || this.#adapter.watch === undefined) return;
    try {
      this.#unwatch = this.#adapter.watch(() => this.#signal.notify());
    } catch (error) {
      if (isStoreClosedError(error)) throw error;
      this.#report(error, { action: "recover" });
    }
  }

  #ended(inserted: { unsubscribe(): void }): void {
    inserted.unsubscribe();
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#tracker?.delete(this);
    this.#run = undefined;
    const ending = this.#ending();
    this.#waiters.fail(ending);
    this.#follower.fail(ending);
    this.#status.set(this.#failure === undefined ? "stopped" : "failed");
  }

  #ending(): SubscriptionStoppedError {
    return this.#failure === undefined
      ? new SubscriptionStoppedError(this.name, "stopped")
      : new SubscriptionStoppedError(this.name, "failed", { cause: this.#failure.error });
  }

  async #waitingForLease(): Promise<void> {
    // The store answered (another instance holds the lease): any outage is over (`lastError` keeps it).
    this.#progress.error = undefined;
    this.#status.set("waiting-for-lease");
    // Another instance is active: let callers here read their writes off its checkpoint.
    if (this.#waiters.size > 0) {
      this.#waiters.advance((await this.#adapter.getCheckpoint(this.name))?.position ?? null);
    }
  }

  #report(error: unknown, context: Omit<SubscriptionErrorContext, "subscription">): void {
    report(this.name, this.#settings.onError, error, context);
  }
}
