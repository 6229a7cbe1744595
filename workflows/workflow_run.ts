/**
 * A running workflow: a durable subscription (one active instance per workflow name
 * across processes) that hands each input to its instance, and a timer loop that fires
 * what is due. What one input produces (the events `react` appends, the timers it sets
 * and cancels, its compensations, the instance's new state and status) is one append,
 * expected at the instance stream's revision, with ids derived from (workflow, key,
 * input id, index): an input handled again after a crash, in this process or another,
 * finds its state record stored and writes nothing.
 *
 * @module
 */

import { delay } from "../async.ts";
import { isStoreClosedError } from "../errors.ts";
import { type Clock, systemClock } from "../events/clock.ts";
import type { AnyEventFactory, EventTypeOf } from "../events/factory.ts";
import type { EventRecord, PendingEvent } from "../events/record.ts";
import { WORKFLOW_TYPES } from "../events/system.ts";
import { Projector } from "../projectors/projector.ts";
import type { Subscription } from "../projectors/subscription.ts";
import type { SubscriptionInfo, SubscriptionOptions } from "../projectors/subscription_options.ts";
import type { ExpectedRevision } from "../events/expected_revision.ts";
import {
  derivedId,
  indexStream,
  instanceStream,
  type StateData,
  subscriptionName,
  type TimerRow,
  timerStream,
  workflowRecord,
  type WorkflowWriteOptions,
} from "./_records.ts";
import { TimerBook } from "./_timers.ts";
import { FINAL_STATUSES, type Workflow, type WorkflowContext, type WorkflowStatus } from "./workflow.ts";

/** What a run needs of the store (`store.runWorkflow` gives it). */
export interface WorkflowPort<TEvents extends AnyEventFactory> {
  /** Checks an event input as an append would and gives it `id` and `created`. */
  pending(input: unknown, id: string, created: string): PendingEvent;
  /** Validates a pending event's payload (for timers, when they are set). */
  validate(event: PendingEvent): Promise<void>;
  /** Appends, system records included, in one transaction; returns the records it inserted (not those stored already). */
  write(pending: PendingEvent[], options: WorkflowWriteOptions): Promise<EventRecord[]>;
  /** Which of `ids` are stored. */
  exists(ids: readonly string[]): Promise<Set<string>>;
  /** Reads a stream in revision order. */
  readStream(
    stream: string,
    options: { readonly fromRevision?: number; readonly direction?: "backward"; readonly limit?: number },
  ): AsyncIterable<EventRecord>;
  /** Starts a durable subscription. */
  subscribe(name: string, projector: Projector<TEvents>, options: SubscriptionOptions): Subscription<TEvents>;
  /** Where the store keeps what it stops when it closes. */
  readonly tracker?: {
    add(run: { stop(): Promise<void> }): unknown;
    delete(run: { stop(): Promise<void> }): unknown;
  };
}

/** Options of `store.runWorkflow`: a clock and the timer interval, and the subscription's own. */
export interface WorkflowRunOptions
  extends Omit<SubscriptionOptions, "state" | "reset" | "version" | "transactional"> {
  /** Tells the time for timers and `ctx.now` (default: the system clock). A test moves it by hand. */
  readonly clock?: Clock;
  /** How often due timers are looked for, in ms (default 1000). */
  readonly timerInterval?: number;
}

/** An instance as `run.instance(key)` describes it. */
export interface WorkflowInstance {
  /** Its key. */
  readonly key: string;
  /** Its status. */
  readonly status: WorkflowStatus;
  /** Its state after its last input. */
  readonly state: unknown;
  /** Its pending timers. */
  readonly timers: readonly { readonly id: string; readonly at: string }[];
  /** Inputs handled. */
  readonly inputs: number;
  /** Why it failed, when it did. */
  readonly reason?: string;
}

/** What `run.info()` reports. */
export interface WorkflowRunInfo {
  /** The workflow. */
  readonly name: string;
  /** Its subscription's state, position, lag and parked events. */
  readonly subscription: SubscriptionInfo;
  /** Timers pending, due now, and fired by this run. */
  readonly timers: { readonly pending: number; readonly due: number; readonly fired: number };
}

interface Stored {
  readonly data: StateData;
  readonly revision: number;
}

/** The latest time a timer may be due: ISO-8601 strings sort as times up to year 9999. */
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** What one `react` asked for. */
class Effects<TEvents extends AnyEventFactory> implements WorkflowContext<TEvents> {
  readonly key: string;
  readonly now: string;
  readonly appends: { event: unknown; expectedRevision?: ExpectedRevision }[] = [];
  /** Timers set and cancelled, in the order asked. */
  readonly timerOps:
    ({ op: "set"; id: string; at: string; event: unknown } | { op: "cancel"; id: string })[] = [];
  readonly compensations: unknown[] = [];
  ended: { status: "completed" } | { status: "failed"; reason: string } | undefined;

  constructor(key: string, now: string) {
    this.key = key;
    this.now = now;
  }

  append(event: unknown, options: { readonly expectedRevision?: ExpectedRevision } = {}): void {
    this.appends.push({ event, expectedRevision: options.expectedRevision });
  }

  schedule(timer: { id: string; after?: number; at?: string | Date; event: unknown }): void {
    if (typeof timer !== "object" || timer === null) {
      throw new TypeError("schedule needs { id, after | at, event }");
    }
    if (typeof timer.id !== "string" || timer.id === "") {
      throw new TypeError("a timer needs an id (a non-empty string)");
    }
    let at: number;
    if (timer.after !== undefined && timer.at === undefined) {
      if (typeof timer.after !== "number" || !Number.isFinite(timer.after)) {
        throw new RangeError(`after must be a number of ms, got ${JSON.stringify(timer.after)}`);
      }
      at = Date.parse(this.now) + timer.after;
    } else if (timer.at !== undefined && timer.after === undefined) {
      at = timer.at instanceof Date
        ? timer.at.getTime()
        : typeof timer.at === "string"
        ? Date.parse(timer.at)
        : NaN;
      if (Number.isNaN(at)) {
        throw new RangeError(`at must be a Date or an ISO-8601 time, got ${JSON.stringify(timer.at)}`);
      }
    } else {
      throw new TypeError(`timer "${timer.id}" needs either after or at`);
    }
    if (Number.isNaN(at)) throw new TypeError("timers need a clock whose times are ISO-8601 dates");
    if (at < 0 || at > LATEST) {
      throw new RangeError(
        `timer "${timer.id}" is due outside 1970 to 9999: ${JSON.stringify(timer.after ?? timer.at)}`,
      );
    }
    this.timerOps.push({ op: "set", id: timer.id, at: new Date(at).toISOString(), event: timer.event });
  }

  cancel(id: string): void {
    if (typeof id !== "string" || id === "") throw new TypeError("cancel needs a timer id");
    this.timerOps.push({ op: "cancel", id });
  }

  compensateWith(event: unknown): void {
    this.compensations.push(event);
  }

  complete(): void {
    this.ended = { status: "completed" };
  }

  fail(reason: string): void {
    if (typeof reason !== "string") throw new TypeError("fail needs a reason (a string)");
    this.ended = { status: "failed", reason };
  }
}

/**
 * A running workflow.
 *
 * @typeParam TEvents the store's event factory
 * @typeParam TState an instance's state
 * @typeParam TType the input types
 */
export class WorkflowRun<
  TEvents extends AnyEventFactory,
  TState,
  TType extends EventTypeOf<TEvents> = EventTypeOf<TEvents>,
> implements AsyncDisposable {
  /** The workflow's name. */
  readonly name: string;
  readonly #workflow: Workflow<TEvents, TState, TType>;
  readonly #port: WorkflowPort<TEvents>;
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #subscription: Subscription<TEvents>;
  readonly #timers: TimerBook;
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  readonly #onError: WorkflowRunOptions["onError"];

  /**
   * Starts it; `store.runWorkflow(workflow, options)` is the usual way.
   *
   * @param workflow the definition
   * @param port the store
   * @param options clock, timer interval, subscription options
   */
  constructor(
    workflow: Workflow<TEvents, TState, TType>,
    port: WorkflowPort<TEvents>,
    options: WorkflowRunOptions = {},
  ) {
    const { clock, timerInterval, ...subscription } = options;
    this.#workflow = workflow;
    this.name = workflow.name;
    this.#port = port;
    this.#clock = clock ?? systemClock;
    if (typeof this.#clock.now !== "function") throw new TypeError("clock must have a now() method");
    this.#interval = timerInterval ?? 1000;
    if (typeof this.#interval !== "number" || !(this.#interval > 0)) {
      throw new RangeError(`timerInterval must be a number of ms above 0, got ${timerInterval}`);
    }
    this.#onError = subscription.onError;
    this.#timers = new TimerBook(this.name, port);
    const projector = new Projector<TEvents>();
    for (const type of workflow.spec.types) {
      projector.all(type as never, (record: EventRecord) => this.#take(record));
    }
    this.#subscription = port.subscribe(subscriptionName(this.name), projector, {
      ...subscription,
      // An instance's inputs in log order, whatever their streams (the default delivers streams side by side).
      sequential: true,
    });
    this.#loop = this.#fireLoop();
    port.tracker?.add(this);
  }

  /** The subscription underneath (for `waitFor` and its `info()`). */
  get subscription(): Subscription<TEvents> {
    return this.#subscription;
  }

  /**
   * Fires the timers due now, at once (the loop does it every `timerInterval`).
   *
   * @returns how many fired
   */
  async fireTimers(): Promise<number> {
    return await this.#timers.fireDue(this.#clock.now());
  }

  /** Its subscription and its timers. */
  async info(): Promise<WorkflowRunInfo> {
    await this.#timers.refresh();
    const now = this.#clock.now();
    const pending = this.#timers.pending;
    return {
      name: this.name,
      subscription: await this.#subscription.info(),
      timers: {
        pending: pending.length,
        due: pending.filter((row) => row.at <= now).length,
        fired: this.#timers.fired,
      },
    };
  }

  /**
   * An instance, as its last input left it.
   *
   * @param key its key
   * @returns it, or `undefined` when no input of it was handled
   */
  async instance(key: string): Promise<WorkflowInstance | undefined> {
    if (typeof key !== "string" || key === "") {
      throw new TypeError("instance needs a key (a non-empty string)");
    }
    const stored = await this.#last(key);
    return stored === undefined ? undefined : describe(stored.data);
  }

  /**
   * Every instance (with `status`, only those), in the order they started.
   *
   * @param filter `status` to keep
   */
  async instances(filter: { readonly status?: WorkflowStatus } = {}): Promise<WorkflowInstance[]> {
    const out: WorkflowInstance[] = [];
    for await (const record of this.#port.readStream(indexStream(this.name), {})) {
      const found = await this.instance((record.data as { key: string }).key);
      if (found !== undefined && (filter.status === undefined || found.status === filter.status)) {
        out.push(found);
      }
    }
    return out;
  }

  /** Stops the subscription and the timer loop. Idempotent. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#port.tracker?.delete(this);
    await this.#subscription.stop();
    await this.#loop;
  }

  /** Stops it (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #fireLoop(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        await this.fireTimers();
      } catch (error) {
        if (signal.aborted || isStoreClosedError(error)) return;
        if (this.#onError) {
          this.#onError(error, { subscription: subscriptionName(this.name), action: "recover" });
        } else console.error(`workflow "${this.name}": firing timers failed, trying again:`, error);
      }
      await delay(this.#interval, signal).catch(() => {});
    }
  }

  /** One input: handled after the earlier inputs of the same instance in this process. */
  #take(record: EventRecord): Promise<void> {
    const key = this.#workflow.spec.key(record as never);
    if (key === undefined) return Promise.resolve();
    if (typeof key !== "string" || key === "") {
      return Promise.reject(
        new TypeError(
          `key of workflow "${this.name}" must return a non-empty string or undefined, got ${
            JSON.stringify(key)
          }`,
        ),
      );
    }
    const before = this.#locks.get(key) ?? Promise.resolve();
    const turn = before.catch(() => {}).then(() => this.#handle(key, record));
    this.#locks.set(key, turn);
    const clear = () => {
      if (this.#locks.get(key) === turn) this.#locks.delete(key);
    };
    turn.then(clear, clear);
    return turn;
  }

  async #last(key: string): Promise<Stored | undefined> {
    for await (
      const record of this.#port.readStream(instanceStream(this.name, key), { direction: "backward" })
    ) {
      if (record.type === WORKFLOW_TYPES.state) {
        return { data: record.data as StateData, revision: record.revision };
      }
    }
    return undefined;
  }

  async #handle(key: string, record: EventRecord): Promise<void> {
    const name = this.name;
    const id = (what: string) => derivedId(name, key, record.id, what);
    const stateId = await id("state");
    // Handled before (a retry after a crash, here or in another process): nothing to do.
    if ((await this.#port.exists([stateId])).size > 0) return;
    const last = await this.#last(key);
    if (last !== undefined && FINAL_STATUSES.has(last.data.status)) return;
    const now = this.#clock.now();
    const spec = this.#workflow.spec;
    let state = last === undefined ? spec.initial() : last.data.state as TState;
    state = spec.evolve(state, record as never);
    const effects = new Effects<TEvents>(key, now);
    await spec.react(state, record as never, effects as unknown as WorkflowContext<TEvents>);

    const stream = instanceStream(name, key);
    const out: PendingEvent[] = [];
    const expected: Record<string, ExpectedRevision> = { [stream]: last?.revision ?? 0 };
    const outputs: string[] = [];
    for (const [i, append] of effects.appends.entries()) {
      const event = this.#port.pending(append.event, await id(`out:${i}`), now);
      if (append.expectedRevision !== undefined) expected[event.stream] = append.expectedRevision;
      out.push(event);
      outputs.push(event.id);
    }
    // Timers: a fired one is gone once its event comes in; then cancels and new ones.
    const timers: Record<string, TimerRow> = {};
    if (last !== undefined && Object.keys(last.data.timers).length > 0) {
      // Timers that fired (or were cancelled) since: gone from the timer stream.
      await this.#timers.refresh();
      for (const [timerId, row] of Object.entries(last.data.timers)) {
        if (row.event.id !== record.id && this.#timers.holds(row)) timers[timerId] = row;
      }
    }
    const marks: PendingEvent[] = [];
    const cancel = async (timerId: string, why: string) => {
      if (timers[timerId] === undefined) return;
      delete timers[timerId];
      marks.push(workflowRecord(WORKFLOW_TYPES.timerCancelled, "", await id(`${why}:${timerId}`), {
        key,
        id: timerId,
      }, now));
    };
    for (const [i, timer] of effects.timerOps.entries()) {
      if (timer.op === "cancel") {
        await cancel(timer.id, `cancel:${i}`);
        continue;
      }
      const event = this.#port.pending(timer.event, await id(`timer:${timer.id}:${i}`), now);
      await this.#port.validate(event);
      const row: TimerRow = {
        key,
        id: timer.id,
        at: timer.at,
        event,
        cause: { id: record.id, meta: record.meta },
      };
      timers[timer.id] = row;
      marks.push(workflowRecord(WORKFLOW_TYPES.timerSet, "", await id(`set:${timer.id}:${i}`), row, now));
    }
    const compensations = [...(last?.data.compensations ?? [])];
    for (const event of effects.compensations) {
      // Checked now, so a fail() later cannot be refused by its own compensations.
      const pending = this.#port.pending(event, "pending", now);
      await this.#port.validate(pending);
      compensations.push(pending);
    }
    let status: WorkflowStatus = "running";
    const ended = effects.ended;
    if (ended !== undefined) {
      for (const timerId of Object.keys(timers)) await cancel(timerId, "end");
      status = ended.status === "completed"
        ? "completed"
        : compensations.length > 0
        ? "compensated"
        : "failed";
    }
    const data = (status: WorkflowStatus, extra: Partial<StateData> = {}): StateData => ({
      workflow: name,
      key,
      status,
      state,
      input: { id: record.id, type: record.type, stream: record.stream, position: record.position },
      outputs: [...outputs],
      timers: { ...timers },
      compensations: status === "running" ? compensations : [],
      inputs: (last?.data.inputs ?? 0) + 1,
      ...(ended?.status === "failed" ? { reason: ended.reason } : {}),
      ...extra,
    });
    const all: PendingEvent[] = [];
    if (last === undefined) {
      all.push(
        workflowRecord(WORKFLOW_TYPES.started, indexStream(name), await derivedId(name, key, "started"), {
          key,
        }, now),
      );
    }
    all.push(...out, ...marks.map((mark) => ({ ...mark, stream: timerStream(name) })));
    if (status === "compensated") {
      all.push(
        workflowRecord(WORKFLOW_TYPES.state, stream, await id("compensating"), data("compensating"), now),
      );
      const newestFirst = [...compensations].reverse();
      for (const [i, event] of newestFirst.entries()) {
        const compensation = { ...event, id: await id(`compensate:${i}`), created: now };
        all.push(compensation);
        outputs.push(compensation.id);
      }
    }
    all.push(workflowRecord(WORKFLOW_TYPES.state, stream, stateId, data(status), now));
    await this.#port.write(all, { expectedRevision: expected, causedBy: record });
  }
}

function describe(data: StateData): WorkflowInstance {
  return {
    key: data.key,
    status: data.status,
    state: data.state,
    timers: Object.values(data.timers).map((row) => ({ id: row.id, at: row.at })),
    inputs: data.inputs,
    ...(data.reason === undefined ? {} : { reason: data.reason }),
  };
}
