/**
 * `PartitionedSubscription`: a durable projection whose log is cut into partitions by
 * stream, each a {@linkcode Subscription} of its own (its own lease and checkpoint),
 * shared out among every running instance of the name, in any process.
 *
 * @module
 */

import { AsyncContext, delay, jitteredDelay } from "../async.ts";
import {
  isStoreClosedError,
  PartitionsChangedError,
  SubscriptionStoppedError,
  TimeoutError,
} from "../errors.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import type { Adapter, Checkpoint, ParkedEvent } from "../contract/mod.ts";
import { checkPartitionCount } from "../contract/partitions.ts";
import type { Projector } from "./projector.ts";
import { keepLease } from "./_subscription_lease.ts";
import { report } from "./_subscription_reports.ts";
import { errorText } from "./_subscription_delivery.ts";
import { dealt, join, liveSlots, type Membership, partitionName } from "./_partition_members.ts";
import { survey, tryReset } from "./_partition_reset.ts";
import { type WaitArguments, waitArguments } from "./_subscription_waiters.ts";
import { Subscription, type SubscriptionSource, type SubscriptionTracker } from "./subscription.ts";
import type { SubscriptionErrorContext, SubscriptionOptions } from "./subscription_options.ts";
import type {
  DropResult,
  PartitionInfo,
  ReplayResult,
  SubscriptionInfo,
  SubscriptionState,
} from "./subscription_info.ts";

/** How often a waiter looks at partitions held by other instances, in ms. */
const POLL = 25;

/**
 * A partitioned subscription: made by
 * `store.subscribe(name, projector, { partitions: n })`. It is a {@linkcode Subscription}
 * (the same methods), made of `n` partition subscriptions named `name#index/n`, each
 * reading only its partition's streams with its own lease and checkpoint. Every running
 * instance of the name (in this or other processes) takes one member slot, and the
 * partitions are dealt out over the members by slot order; they move when a member
 * joins, stops or dies (its slot lease lapses: at once on PostgreSQL, after `leaseTtl` on
 * SQLite). `waitFor` waits until every partition has handled the position, wherever it
 * runs. `rebuild()` resets every partition and runs `reset` once.
 *
 * @typeParam TEvents the event factory
 * @typeParam THandle the adapter's transaction handle
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore, Projector } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const events = new EventFactory([event.type("tick")]);
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * const seen = new Map<string, number>();
 * const projector = new Projector<typeof events>();
 * projector.on("tick", (record) => void seen.set(record.stream, record.revision));
 * await using ticks = store.subscribe("ticks", projector, { partitions: 4 });
 * let last = "";
 * for (let n = 0; n < 20; n++) last = (await store.pushEvent(store.event({ type: "tick", stream: `s${n}` }))).position;
 * await ticks.waitFor(last);
 * assert.equal(seen.size, 20);
 * assert.equal((await ticks.info()).partitions?.length, 4);
 * ```
 */
export class PartitionedSubscription<TEvents extends AnyEventFactory = AnyEventFactory, THandle = unknown>
  extends Subscription<TEvents, THandle> {
  /** How many partitions. */
  readonly partitions: number;
  readonly #source: SubscriptionSource<TEvents, THandle>;
  readonly #adapter: Adapter;
  readonly #options: SubscriptionOptions;
  readonly #tracker: SubscriptionTracker | undefined;
  readonly #parts: Subscription<TEvents, THandle>[];
  readonly #scope = new AsyncContext<{ readonly handle: unknown }>();
  #history: Promise<string | null | undefined> = Promise.resolve(undefined);
  #run: Promise<void> | undefined;
  #stop: AbortController | undefined;
  #wake: (() => void) | undefined;
  #rebuild: PromiseWithResolvers<void>[] = [];
  #preparing = false;
  #paused = false;
  /** Whether this instance saved a reset marker that is not gone yet (its reset is not done). */
  #marked = false;
  /** The members the partitions were last dealt over (`undefined`: deal again). */
  #dealt: string | undefined;
  #failure: unknown;
  #failed = false;

  /**
   * Makes it; `store.subscribe(name, projector, { partitions })` is the usual way.
   *
   * @param source the store
   * @param name the subscription name
   * @param projector the handlers
   * @param options as for {@linkcode Subscription}, with `partitions`
   * @param tracker where the store keeps its running subscriptions
   * @throws {TypeError} for a bad option, or `state` (a read model saved whole cannot be split)
   * @throws {RangeError} for `partitions` that is not an integer from 1 to 1024
   */
  constructor(
    source: SubscriptionSource<TEvents, THandle>,
    name: string,
    projector: Projector<TEvents>,
    options: SubscriptionOptions,
    tracker?: SubscriptionTracker,
  ) {
    const count = options.partitions;
    if (typeof count !== "number") {
      throw new TypeError(`partitions must be a number of partitions, got ${JSON.stringify(count)}`);
    }
    checkPartitionCount(count);
    if (options.state !== undefined) {
      throw new TypeError(
        "state and partitions do not go together: a read model saved whole with each checkpoint " +
          "cannot be split over partitions; keep the read model in the store (transactional) instead",
      );
    }
    if (options.transactional === true && !AsyncContext.tracked) {
      throw new TypeError(
        "a transactional partitioned subscription needs AsyncLocalStorage (node:async_hooks) to tell " +
          "the transactions of its partitions apart, and this runtime has none",
      );
    }
    const { partitions: _, start, reset: __, ...rest } = options;
    super(source, name, projector, { ...rest, start: false });
    this.partitions = count;
    this.#source = source;
    this.#adapter = source.adapter;
    this.#options = options;
    this.#tracker = tracker;
    // The reset hook runs once for the whole subscription, never per partition.
    const partOptions: SubscriptionOptions = { ...rest, owner: this.owner, start: false };
    this.#parts = Array.from(
      { length: count },
      (_, index) =>
        new Subscription<TEvents, THandle>(
          source,
          partitionName(name, index, count),
          projector,
          partOptions,
          undefined,
          { partition: { index, count }, historyAt: () => this.#history },
        ),
    );
    if (start !== false) this.start();
  }

  /** Where it is: the partitions of this instance together (see {@linkcode PartitionedSubscription.info}). */
  override get state(): SubscriptionState {
    if (this.#run === undefined) return this.#failed ? "failed" : "stopped";
    if (this.#preparing) return "starting";
    if (this.#paused) return "paused";
    const states = this.#parts.filter((part) => part.state !== "stopped").map((part) => part.state);
    if (states.length === 0 || states.every((state) => state === "waiting-for-lease")) {
      return "waiting-for-lease";
    }
    if (states.includes("retrying")) return "retrying";
    if (states.some((state) => state === "catching-up" || state === "starting")) return "catching-up";
    return "live";
  }

  /**
   * The slowest position handled by the partitions this instance runs (`null` when it
   * runs none, or one has not loaded its checkpoint).
   */
  override get position(): string | null {
    const running = this.#parts.filter((part) => part.state !== "stopped");
    if (running.length === 0) return null;
    return slowest(running.map((part) => part.position));
  }

  /**
   * The partitions this instance runs now, holding their leases (asks nothing of the
   * store; {@linkcode PartitionedSubscription.info} tells where the others are).
   */
  get running(): number[] {
    return this.#parts.flatMap((part, index) => runs(part) ? [index] : []);
  }

  /**
   * Starts it: it takes a member slot and the partitions dealt to it. Does nothing while
   * it runs.
   */
  override start(): void {
    if (this.#run !== undefined) return;
    const stop = new AbortController();
    this.#stop = stop;
    this.#failed = false;
    this.#failure = undefined;
    this.#preparing = true; // until its checkpoints are checked (and reset, if they need to be)
    this.#history = this.#adapter.stats().then((stats) => stats.head, () => undefined);
    this.#tracker?.add(this);
    this.#run = this.#main(stop.signal).finally(() => {
      this.#tracker?.delete(this);
      this.#run = undefined;
      const ending = this.#ending();
      for (const waiting of this.#rebuild.splice(0)) waiting.reject(ending);
    });
  }

  /** Pauses every partition this instance runs (each finishes its page); they keep their leases. */
  override async pause(): Promise<void> {
    this.#paused = true;
    await Promise.all(this.#parts.filter((part) => part.state !== "stopped").map((part) => part.pause()));
  }

  /** Goes on after {@linkcode PartitionedSubscription.pause}. */
  override resume(): void {
    this.#paused = false;
    for (const part of this.#parts) part.resume();
  }

  /** Stops every partition of this instance and gives up its member slot. Idempotent. */
  override async stop(): Promise<void> {
    const run = this.#run;
    if (run === undefined) return;
    this.#stop?.abort();
    this.#wake?.();
    await run;
  }

  /**
   * Rebuilds the read model: calls `reset` once, resets the checkpoint of every partition
   * (and of any other number of partitions, or none, saved under this name) and drops
   * their parked events, then replays everything hydrated. Other instances start over
   * from the reset checkpoints when they next save theirs.
   *
   * @returns when every partition has caught up with the log as it was
   * @throws {SubscriptionStoppedError} when it stops first
   */
  override async rebuild(): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.#rebuild.push(done);
    this.start();
    this.#wake?.();
    await done.promise;
  }

  /**
   * Delivers the parked events of the partitions this instance runs again.
   *
   * @param id only this event
   * @returns the ids replayed and the events that failed again
   * @throws {SubscriptionStoppedError} when it is not running
   */
  override async replayParked(id?: string): Promise<ReplayResult> {
    if (id !== undefined && (typeof id !== "string" || id.length === 0)) {
      throw new TypeError(`replayParked takes an event id, got ${JSON.stringify(id)}`);
    }
    if (this.#run === undefined) throw this.#ending();
    const replayed: string[] = [];
    const failed: ParkedEvent[] = [];
    for (const part of this.#parts) {
      if (!runs(part)) continue;
      try {
        const result = await part.replayParked(id);
        replayed.push(...result.replayed);
        failed.push(...result.failed);
      } catch (error) {
        // The partition moved to another instance meanwhile: its parked events go with it.
        if (!(error instanceof SubscriptionStoppedError)) throw error;
      }
    }
    return { replayed, failed };
  }

  /**
   * Drops a parked event of a partition this instance runs (each partition looks among its
   * own parked events), then replays what its stream held behind it.
   *
   * @param id the parked event's id
   * @returns what was dropped (`null`: not parked in a partition running here) and replayed
   * @throws {TypeError} for an id that is not a non-empty string
   * @throws {SubscriptionStoppedError} when it is not running
   */
  override async dropParked(id: string): Promise<DropResult> {
    if (typeof id !== "string" || id.length === 0) {
      throw new TypeError(`dropParked takes the id of a parked event, got ${JSON.stringify(id)}`);
    }
    if (this.#run === undefined) throw this.#ending();
    for (const part of this.#parts) {
      if (!runs(part)) continue;
      try {
        const result = await part.dropParked(id);
        if (result.dropped !== null) return result;
      } catch (error) {
        if (!(error instanceof SubscriptionStoppedError)) throw error;
      }
    }
    return { dropped: null, replayed: [], failed: [] };
  }

  /** The parked events of every partition, in position order. */
  override async parked(): Promise<ParkedEvent[]> {
    const names = new Set(this.#parts.map((part) => part.name));
    return (await this.#adapter.listParked()).filter((event) => names.has(event.name));
  }

  /**
   * Where it is: the whole subscription at its slowest partition (`position`; `lag`
   * counts every event after it, of any partition, so it is an upper bound), and each
   * partition (`partitions`) with whether this instance runs it.
   */
  override async info(): Promise<SubscriptionInfo> {
    const state = this.state;
    try {
      const [checkpoints, parked] = await Promise.all([this.#checkpoints(), this.#adapter.listParked()]);
      const partitions: PartitionInfo[] = this.#parts.map((part, index) => {
        const here = runs(part);
        const saved = checkpoints.get(part.name)?.position ?? null;
        return {
          index,
          name: part.name,
          here,
          state: part.state,
          position: here && part.position !== null && (saved === null || part.position > saved)
            ? part.position
            : saved,
          parked: parked.filter((event) => event.name === part.name).length,
        };
      });
      const position = slowest(partitions.map((partition) => partition.position));
      return {
        name: this.name,
        owner: this.owner,
        state,
        position,
        lag: await this.#adapter.countAfter(position),
        parked: partitions.reduce((sum, partition) => sum + partition.parked, 0),
        ...(this.#failure === undefined ? {} : { error: errorText(this.#failure) }),
        partitions,
      };
    } catch (error) {
      if (isStoreClosedError(error)) throw error;
      return {
        name: this.name,
        owner: this.owner,
        state: state === "stopped" || state === "failed" ? state : "retrying",
        position: null,
        lag: NaN,
        parked: NaN,
        error: errorText(error),
        lastError: {
          message: errorText(error),
          time: new Date().toISOString(),
          attempt: 1,
          recovered: false,
        },
      };
    }
  }

  /**
   * Waits until every partition has handled `position` (wherever it runs), or until
   * `predicate()` holds after a page handled here.
   *
   * @throws {TimeoutError} when the timeout passes first
   * @throws {SubscriptionStoppedError} when it is not running, or stops first
   */
  override waitFor(
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
    const deadline = Date.now() + timeout;
    if (typeof target === "function") {
      return this.#until(target, deadline, now);
    }
    return this.#reached(target, deadline, timeout);
  }

  async #reached(position: string, deadline: number, timeout: number): Promise<void> {
    for (;;) {
      // Asked afresh each time: a reset sets checkpoints back.
      const waiting = new Set(this.#parts.map((part) => part.name));
      for (const part of this.#parts) {
        // A part stopped here keeps its last position, which another instance (or a reset)
        // may have moved on from: only the running ones are asked.
        const handled = runs(part) ? part.position : null;
        if (handled !== null && position <= handled) waiting.delete(part.name);
      }
      if (waiting.size > 0) {
        const checkpoints = await this.#checkpoints();
        for (const name of [...waiting]) {
          const saved = checkpoints.get(name)?.position;
          if (saved != null && position <= saved) waiting.delete(name);
        }
      }
      // Checkpoints about to be reset (a start, a rebuild) count for nothing yet.
      if (waiting.size === 0 && !this.#preparing) return;
      if (this.#run === undefined) throw this.#ending();
      if (Date.now() >= deadline) {
        throw new TimeoutError(
          `waiting for subscription "${this.name}" to handle position ${position} ` +
            `(${waiting.size} of ${this.partitions} partitions have not)`,
          timeout,
        );
      }
      await delay(Math.min(POLL, Math.max(0, deadline - Date.now())));
    }
  }

  async #until(holds: () => boolean | Promise<boolean>, deadline: number, now: boolean): Promise<void> {
    if (now && await holds()) return;
    const timeout = Math.max(0, deadline - Date.now());
    for (let first = true;; first = false) {
      if (this.#run === undefined) throw this.#ending();
      // Pages handled elsewhere (or by a partition that moved) wake nothing here.
      if (!first && await holds()) return;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TimeoutError(`waiting for a predicate over subscription "${this.name}"`, timeout);
      }
      const running = this.#parts.filter(runs);
      const slice = Math.min(left, 250);
      if (running.length === 0) {
        await delay(Math.min(POLL, slice));
        continue;
      }
      try {
        return await Promise.any(
          running.map((part) => part.waitFor(holds, { timeout: slice, alreadySatisfied: false })),
        );
      } catch (error) {
        // Every part timed out or stopped (a partition moved): look again. A predicate
        // that threw rejects the wait.
        const errors = error instanceof AggregateError ? error.errors : [error];
        const thrown = errors.find((e) =>
          !(e instanceof TimeoutError) && !(e instanceof SubscriptionStoppedError)
        );
        if (thrown !== undefined) throw thrown;
      }
    }
  }

  /** The transaction handle, inside a handler (or the `reset` hook) of a `transactional` partitioned subscription. */
  override tx(): THandle {
    const own = this.#scope.get();
    if (own !== undefined) return own.handle as THandle;
    for (const part of this.#parts) {
      try {
        return part.tx();
      } catch {
        // Not this partition's handler.
      }
    }
    return super.tx();
  }

  // --- the run -------------------------------------------------------------------------

  async #main(stop: AbortSignal): Promise<void> {
    const backoff = this.#options.backoff ?? 100;
    const maxBackoff = this.#options.maxBackoff ?? 30_000;
    const interval = this.#options.leaseInterval ?? 1000;
    const ttl = this.#options.leaseTtl ?? Math.max(5000, 3 * interval);
    const slots = Math.min(this.partitions, 64);
    let member: Membership | undefined;
    let keep: (() => Promise<void>) | undefined;
    let attempt = 0;
    let prepared = false;
    let seen: string | undefined;
    // Parts that failed in an earlier run start again when dealt; a failure in this run stops it.
    const earlier = new Set(this.#parts.filter((part) => part.state === "failed"));
    this.#dealt = undefined;
    const leave = async () => {
      await keep?.();
      keep = undefined;
      const lease = member?.lease;
      member = undefined;
      await lease?.release().catch(() => {});
    };
    try {
      while (!stop.aborted) {
        try {
          const failed = this.#parts.find((part) => part.state === "failed" && !earlier.has(part));
          if (failed !== undefined) {
            const info = await failed.info().catch(() => undefined);
            this.#failure = new Error(
              `partition ${failed.name} failed: ${info?.error ?? "a handler failed"}`,
            );
            this.#failed = true;
            return;
          }
          const rebuild = this.#rebuild.splice(0);
          let step: "ready" | "waiting" | "reset";
          try {
            step = await this.#prepare(rebuild.length > 0, !prepared, ttl);
          } catch (error) {
            this.#rebuild.unshift(...rebuild);
            throw error;
          }
          if (step === "waiting") {
            this.#rebuild.unshift(...rebuild);
          } else {
            prepared = true;
            this.#preparing = false;
            if (step === "reset") void this.#caughtUp(rebuild);
            if (member === undefined) {
              member = await join(this.#adapter, this.name, this.owner, ttl, slots);
              if (member !== undefined) {
                keep = keepLease(
                  member.lease,
                  { name: this.name, interval, timeout: ttl - interval },
                  () => void leave(),
                );
              }
            }
            const live = member === undefined
              ? []
              : await liveSlots(this.#adapter, this.name, this.owner, ttl, slots, member.slot);
            // The members are acted on once two looks in a row agree (a lease interval
            // apart): instances started together see each other before they take
            // partitions, and a look that met another instance's probe of a free slot moves
            // nothing.
            const view = live.join(",");
            if (view === seen && view !== this.#dealt) {
              this.#dealt = view;
              const mine = member === undefined
                ? new Set<number>()
                : dealt(live, member.slot, this.partitions);
              await this.#assign(mine, earlier);
            }
            seen = view;
          }
          attempt = 0;
        } catch (error) {
          if (isStoreClosedError(error) || stop.aborted) return;
          if (error instanceof PartitionsChangedError) {
            this.#failure = error;
            this.#failed = true;
            this.#report(error, { action: "stop" });
            return;
          }
          attempt++;
          const wait = jitteredDelay(attempt, Math.max(50, backoff), maxBackoff, Math.random());
          this.#report(error, { action: "recover", attempt, delay: wait });
          await this.#pause(wait, stop);
          continue;
        }
        await this.#pause(interval, stop);
      }
    } finally {
      this.#preparing = false;
      await Promise.all(this.#parts.map((part) => part.stop()));
      await leave();
    }
  }

  /** Waits `ms`, or less when woken (a stop, a rebuild). */
  async #pause(ms: number, stop: AbortSignal): Promise<void> {
    const woken = new AbortController();
    this.#wake = () => woken.abort();
    try {
      await delay(ms, AbortSignal.any([stop, woken.signal]));
    } finally {
      this.#wake = undefined;
    }
  }

  /**
   * Starts the partitions dealt to this instance (also one that failed in an earlier run),
   * and stops the others (each finishes its page).
   */
  async #assign(mine: ReadonlySet<number>, earlier: Set<Subscription<TEvents, THandle>>): Promise<void> {
    const stopping: Promise<void>[] = [];
    this.#parts.forEach((part, index) => {
      const idle = part.state === "stopped" || (part.state === "failed" && earlier.has(part));
      if (mine.has(index) && idle) {
        earlier.delete(part);
        part.start();
        if (this.#paused) void part.pause();
        else part.resume();
      } else if (!mine.has(index) && part.state !== "stopped" && part.state !== "failed") {
        stopping.push(part.stop());
      }
    });
    await Promise.all(stopping);
  }

  /**
   * Checks the checkpoints under this name (every lease interval): another number of
   * partitions is refused, and a reset (a rebuild asked here, a first start with a `reset`
   * hook, another `version`, or one under way elsewhere) stops this instance's partitions
   * until it is done (see `_partition_reset.ts`).
   *
   * @param rebuild a rebuild was asked here
   * @param first this run has not started its partitions yet
   * @returns `"ready"` to go on, `"waiting"` while a reset is not done, `"reset"` once the reset asked here is done
   * @throws {PartitionsChangedError} for checkpoints of another number of partitions (not for a rebuild)
   */
  async #prepare(rebuild: boolean, first: boolean, ttl: number): Promise<"ready" | "waiting" | "reset"> {
    const found = await survey(this.#adapter, this.name, this.partitions);
    if (this.#marked && !found.marked) {
      // The reset this instance asked for was done (here or by another instance).
      this.#marked = false;
      this.#history = this.#adapter.stats().then((stats) => stats.head, () => undefined);
      return "reset";
    }
    if (found.foreign.length > 0 && !rebuild && !found.marked) {
      throw new PartitionsChangedError(this.name, this.partitions, found.counts);
    }
    const version = this.#options.version;
    const otherVersion = version !== undefined &&
      found.own.some((checkpoint) => checkpoint.version !== version);
    const fresh = found.own.length === 0 && this.#options.reset !== undefined;
    if (!rebuild && !found.marked && !(first && (otherVersion || fresh))) return "ready";
    this.#preparing = true;
    this.#dealt = undefined; // dealt out again once it is done
    await Promise.all(this.#parts.map((part) => part.stop()));
    // Another version's reset is its own to finish (with its `reset` hook and version).
    if (found.marked && !rebuild && found.markedBy !== version) return "waiting";
    const reset = this.#options.reset;
    const outcome = await tryReset({
      adapter: this.#adapter,
      name: this.name,
      count: this.partitions,
      owner: this.owner,
      ttl,
      version,
      transactional: this.#options.transactional === true,
      reset: async (within) => {
        if (within === undefined) await reset?.();
        else await this.#scope.run(within, async () => await reset?.());
      },
    });
    if (outcome === "marked") this.#marked = true;
    if (outcome !== "done") return "waiting";
    this.#marked = false;
    this.#history = this.#adapter.stats().then((stats) => stats.head, () => undefined);
    return "reset";
  }

  /** Resolves the rebuilds once every partition has caught up with the log as it was when they began. */
  async #caughtUp(rebuilds: PromiseWithResolvers<void>[]): Promise<void> {
    try {
      const head = await this.#history;
      if (head != null) await this.waitFor(head, { timeout: Infinity });
      for (const rebuild of rebuilds) rebuild.resolve();
    } catch (error) {
      for (const rebuild of rebuilds) rebuild.reject(error);
    }
  }

  /** The checkpoints of this name's partitions, by name. */
  async #checkpoints(): Promise<Map<string, Checkpoint>> {
    const names = new Set(this.#parts.map((part) => part.name));
    const out = new Map<string, Checkpoint>();
    for (const checkpoint of await this.#adapter.listCheckpoints()) {
      if (names.has(checkpoint.name)) out.set(checkpoint.name, checkpoint);
    }
    return out;
  }

  #ending(): SubscriptionStoppedError {
    return this.#failed
      ? new SubscriptionStoppedError(this.name, "failed", { cause: this.#failure })
      : new SubscriptionStoppedError(this.name, "stopped");
  }

  #report(error: unknown, context: Omit<SubscriptionErrorContext, "subscription">): void {
    report(this.name, this.#options.onError, error, context);
  }
}

/** The states of a partition this instance does not run now (`"starting"`: it has not taken the lease yet). */
const NOT_RUNNING: ReadonlySet<SubscriptionState> = new Set([
  "stopped",
  "starting",
  "waiting-for-lease",
  "failed",
]);

/** Whether this instance runs `part` now, holding its lease. */
function runs(part: { readonly state: SubscriptionState }): boolean {
  return !NOT_RUNNING.has(part.state);
}

/** The lowest of some positions (`null` when one is `null`: that partition has handled nothing). */
function slowest(positions: readonly (string | null)[]): string | null {
  let low: string | null = null;
  for (const position of positions) {
    if (position === null) return null;
    if (low === null || position < low) low = position;
  }
  return low;
}
