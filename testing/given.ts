/**
 * Given/when/then helpers for reducers, aggregates and command deciders:
 * `given(events).events([...]).when(reducer).then(state)`. Each check runs on a fresh
 * in-memory store (or on a store you pass) and fails with an `AssertionError` whose
 * message shows a diff.
 *
 * @module
 */

import { AssertionError, deepStrictEqual } from "node:assert/strict";
import type { AggregateClass, AggregateRoot } from "../aggregates/aggregate_root.ts";
import type { Decide, Decision, Rejection, RejectionOf } from "../aggregates/handle.ts";
import type { AnyEventFactory, EventInputOf } from "../events/factory.ts";
import type { Reducer } from "../reducers/make_reducer.ts";
import type { Adapter } from "../contract/mod.ts";
import { EventStore } from "../stores/event_store.ts";
import { MemoryAdapter } from "../stores/memory/memory_adapter.ts";

/** Options of {@linkcode given}. */
export interface GivenOptions {
  /** The stream the given events go to (unless they name one) and the command is about. Default `"given"`. */
  readonly stream?: string;
}

/**
 * What a command is expected to do: append these events (compared by type, stream, data
 * and meta) or reject with this reason (made with `reject(reason)`).
 *
 * @typeParam TEvents the event factory
 * @typeParam TRejection the rejection reason type
 */
export type ExpectedOutcome<TEvents extends AnyEventFactory, TRejection> =
  | readonly EventInputOf<TEvents>[]
  | Rejection<TRejection>;

/**
 * The last step of a given/when/then check.
 *
 * @typeParam TExpected what `then` compares against
 * @example
 * ```ts
 * import { event, EventFactory, makeReducer } from "@eventfold/eventfold";
 * import { given } from "@eventfold/eventfold/testing";
 * const events = new EventFactory([event.type("tick")]);
 * const ticks = makeReducer<typeof events, number>((n) => n + 1, 0);
 * const check = given(events).events([{ type: "tick" }]).when(ticks);
 * await check.then(1);
 * ```
 */
export interface Then<TExpected> {
  /**
   * Runs the check.
   *
   * @param expected the expected state, events or rejection
   * @returns a promise that resolves when everything matched
   * @throws {AssertionError} with a diff when something differs
   */
  then(expected: TExpected): Promise<void>;
}

type AnyStore<TEvents extends AnyEventFactory> = EventStore<TEvents, Adapter>;
type Source<TEvents extends AnyEventFactory> =
  | Reducer<TEvents, unknown>
  | AggregateClass<TEvents, AggregateRoot<TEvents>>;

type AnyDecide<TEvents extends AnyEventFactory> = Decide<never, Decision<TEvents, unknown>>;

function isRejection(value: unknown): value is Rejection<unknown> {
  return typeof value === "object" && value !== null &&
    (value as Rejection<unknown>).rejected === "eventfold.rejection";
}

function isAggregateClass<TEvents extends AnyEventFactory>(
  source: Source<TEvents>,
): source is AggregateClass<TEvents, AggregateRoot<TEvents>> {
  return typeof source === "function";
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  try {
    deepStrictEqual(actual, expected);
  } catch (error) {
    if (!(error instanceof AssertionError)) throw error;
    throw Object.assign(new AssertionError({ message: `${what}\n${error.message}` }), { actual, expected });
  }
}

/**
 * A given/when/then check under construction: the events that happened so far.
 *
 * @typeParam TEvents the event factory
 * @example
 * ```ts
 * import { event, EventFactory, makeReducer, reject } from "@eventfold/eventfold";
 * import { given } from "@eventfold/eventfold/testing";
 * import { z } from "zod";
 *
 * const events = new EventFactory([event.type("deposited").data(z.number())]);
 * const balance = makeReducer<typeof events, number>((sum, record) => sum + record.data, 0);
 * const deposit = (amount: number) => (sum = 0) =>
 *   sum + amount > 100 ? reject("limit" as const) : [{ type: "deposited" as const, data: amount }];
 *
 * await given(events).events([{ type: "deposited", data: 60 }]).when(balance).then(60);
 * await given(events).events([{ type: "deposited", data: 60 }]).when(balance, deposit(30))
 *   .then([{ type: "deposited", data: 30 }]);
 * await given(events).events([{ type: "deposited", data: 60 }]).when(balance, deposit(50)).then(reject("limit"));
 * ```
 */
export class Given<TEvents extends AnyEventFactory> {
  readonly #source: TEvents | AnyStore<TEvents>;
  readonly #stream: string;
  readonly #inputs: readonly EventInputOf<TEvents>[];

  /**
   * Makes a check; {@linkcode given} is the usual way in.
   *
   * @param source the event definitions (each check gets a fresh in-memory store) or a store to use
   * @param stream the stream of the check
   * @param inputs the events given so far
   */
  constructor(
    source: TEvents | AnyStore<TEvents>,
    stream: string,
    inputs: readonly EventInputOf<TEvents>[] = [],
  ) {
    this.#source = source;
    this.#stream = stream;
    this.#inputs = inputs;
  }

  /**
   * Adds events that happened before the `when` (on the check's stream unless they name one).
   *
   * @param inputs event inputs, as for `store.event`
   * @returns a new check with those events added
   */
  events(inputs: readonly EventInputOf<TEvents>[]): Given<TEvents> {
    if (!Array.isArray(inputs)) throw new TypeError("given(...).events needs an array of event inputs");
    return new Given(this.#source, this.#stream, [...this.#inputs, ...inputs]);
  }

  /**
   * Folds the stream with a reducer; `then` compares the state (`undefined` with no events).
   *
   * @param reducer the reducer
   */
  when<TState>(reducer: Reducer<TEvents, TState>): Then<TState | undefined>;
  /**
   * Handles a command with a reducer's state (as `store.handle` does); `then` compares
   * the appended events or the rejection.
   *
   * @param reducer the reducer giving the state
   * @param decide the decision
   */
  when<TState, TDecision extends Decision<TEvents, unknown>>(
    reducer: Reducer<TEvents, TState>,
    decide: Decide<TState | undefined, TDecision>,
  ): Then<ExpectedOutcome<TEvents, RejectionOf<TDecision>>>;
  /**
   * Loads an aggregate; `then` compares the fields it names (`undefined` with no events).
   *
   * @param aggregate the aggregate class
   */
  when<TAggregate extends AggregateRoot<TEvents>>(
    aggregate: AggregateClass<TEvents, TAggregate>,
  ): Then<Partial<TAggregate> | undefined>;
  /**
   * Handles a command on an aggregate (its actions may push events, or `decide` returns
   * them or a rejection); `then` compares the appended events or the rejection.
   *
   * @param aggregate the aggregate class
   * @param decide the decision
   */
  when<TAggregate extends AggregateRoot<TEvents>, TDecision extends Decision<TEvents, unknown>>(
    aggregate: AggregateClass<TEvents, TAggregate>,
    decide: Decide<TAggregate, TDecision>,
  ): Then<ExpectedOutcome<TEvents, RejectionOf<TDecision>>>;
  when(source: Source<TEvents>, decide?: AnyDecide<TEvents>): Then<unknown> {
    const run = (expected: unknown) => this.#run(source, decide, expected);
    return {
      then(expected: unknown, ...rest: unknown[]): Promise<void> {
        if (typeof expected === "function") {
          // Reached by `await given(...).when(...)` without `.then(expected)`.
          const error = new TypeError("given(...).when(...) is not awaitable itself: call .then(expected)");
          if (typeof rest[0] !== "function") return Promise.reject(error);
          rest[0](error);
          return Promise.resolve();
        }
        return run(expected);
      },
    } as Then<unknown>;
  }

  async #run(source: Source<TEvents>, decide: AnyDecide<TEvents> | undefined, expected: unknown) {
    const owned = typeof (this.#source as AnyStore<TEvents>).pushManyEvents !== "function";
    const store = owned
      ? new EventStore({ adapter: new MemoryAdapter(), events: this.#source as TEvents })
      : this.#source as AnyStore<TEvents>;
    try {
      if (this.#inputs.length > 0) {
        await store.pushManyEvents(
          this.#inputs.map((input) => ({ ...input, stream: input.stream ?? this.#stream })) as never,
        );
      }
      if (decide !== undefined) await this.#decide(store, source, decide, expected);
      else if (isAggregateClass(source)) await this.#aggregate(store, source, expected);
      else {
        const state = await store.reduce({ name: "given", stream: this.#stream, reducer: source });
        expectEqual(state, expected, `given/when/then: the state of stream "${this.#stream}" differs`);
      }
    } finally {
      if (owned) await store.close();
    }
  }

  async #aggregate(
    store: AnyStore<TEvents>,
    Class: AggregateClass<TEvents, AggregateRoot<TEvents>>,
    expected: unknown,
  ): Promise<void> {
    const aggregate = await store.aggregate.getByStream(Class, this.#stream);
    const what = `given/when/then: aggregate ${Class.name} of stream "${this.#stream}" differs`;
    if (aggregate === undefined || expected === undefined || expected === null) {
      expectEqual(aggregate, expected, what);
      return;
    }
    const fields = aggregate as unknown as Record<string, unknown>;
    const picked = Object.fromEntries(Object.keys(expected).map((key) => [key, fields[key]]));
    expectEqual(picked, { ...expected }, what);
  }

  async #decide(
    store: AnyStore<TEvents>,
    source: Source<TEvents>,
    decide: AnyDecide<TEvents>,
    expected: unknown,
  ): Promise<void> {
    const result = await store.handle(
      this.#stream,
      source as Reducer<TEvents, unknown>,
      decide as Decide<unknown, Decision<TEvents, unknown>>,
      { attempts: 1 },
    );
    const wanted = isRejection(expected) ? { rejection: expected.reason } : { events: this.#shape(expected) };
    const got = result.ok ? { events: this.#shape(result.records) } : { rejection: result.rejection };
    const what = "rejection" in wanted
      ? "given/when/then: expected a rejection"
      : "given/when/then: expected these events to be appended";
    expectEqual(got, wanted, what);
  }

  #shape(events: unknown): { type: string; stream: string; data: unknown; meta: unknown }[] {
    if (!Array.isArray(events)) {
      throw new TypeError("then() after when(source, decide) needs an array of events or reject(reason)");
    }
    return events.map((event) => ({
      type: event.type,
      stream: event.stream ?? this.#stream,
      data: event.data ?? null,
      meta: event.meta ?? null,
    }));
  }
}

/**
 * Starts a given/when/then check. With event definitions, every check runs on a fresh
 * in-memory store; with a store, it runs there (the store is not closed, so use a
 * stream of its own per check).
 *
 * @param source the event definitions, or a store
 * @param options the stream of the check
 * @returns a check with no events yet
 * @example
 * ```ts
 * import { AggregateRoot, event, EventFactory, reject } from "@eventfold/eventfold";
 * import { given } from "@eventfold/eventfold/testing";
 *
 * const events = new EventFactory([event.type("user:activated")]);
 * class User extends AggregateRoot<typeof events> {
 *   static override readonly name = "user";
 *   active = false;
 *   with(record: typeof events.$record): void {
 *     if (record.type === "user:activated") this.active = true;
 *   }
 *   activate(): this {
 *     return this.push({ type: "user:activated" });
 *   }
 * }
 * const activate = (user: User) => user.active ? reject("already active" as const) : void user.activate();
 *
 * await given(events, { stream: "u1" }).when(User).then(undefined);
 * await given(events, { stream: "u1" }).events([{ type: "user:activated" }]).when(User).then({ active: true });
 * await given(events, { stream: "u1" }).when(User, activate).then([{ type: "user:activated" }]);
 * await given(events).events([{ type: "user:activated" }]).when(User, activate).then(reject("already active"));
 * ```
 */
export function given<TEvents extends AnyEventFactory>(
  source: TEvents | EventStore<TEvents, Adapter>,
  options: GivenOptions = {},
): Given<TEvents> {
  if (typeof source !== "object" || source === null) {
    throw new TypeError("given() needs the event definitions (an EventFactory) or an EventStore");
  }
  const stream = options.stream ?? "given";
  if (typeof stream !== "string" || stream.length === 0) {
    throw new TypeError(`given(): stream must be a non-empty string, got ${JSON.stringify(stream)}`);
  }
  return new Given(source, stream);
}
