/**
 * Command handling: load state and revision, decide, append with that revision as the
 * expected revision, and retry on a lost race. A decision is events or a rejection value.
 *
 * @module
 */

import { ConcurrencyError, isConcurrencyError } from "../errors.ts";
import type { AnyEventFactory, EventInputOf, EventRecordOf } from "../events/factory.ts";
import type { Reducer } from "../reducers/make_reducer.ts";
import type { EventStore } from "../stores/event_store.ts";
import { type AggregateClass, AggregateRoot } from "./aggregate_root.ts";

const REJECTION: unique symbol = Symbol.for("eventfold.rejection") as never;

/** A decision not to act, carrying a reason the caller can switch on. */
export interface Rejection<TReason> {
  /** Marks the value as a rejection. */
  readonly [REJECTION]: true;
  /** Why the command was rejected. */
  readonly reason: TReason;
}

/**
 * Rejects a command with a reason; `store.handle` returns it as `{ ok: false, rejection }`.
 *
 * @param reason any value: a string literal, an object, an error class instance
 * @returns the rejection
 * @example
 * ```ts
 * import { reject } from "@eventfold/eventfold";
 * console.assert(reject("insufficient-funds").reason === "insufficient-funds");
 * ```
 */
export function reject<TReason>(reason: TReason): Rejection<TReason> {
  return { [REJECTION]: true, reason };
}

/** What `decide` may return. */
export type Decision<TEvents extends AnyEventFactory, TRejection> =
  | EventInputOf<TEvents>
  | readonly EventInputOf<TEvents>[]
  | Rejection<TRejection>
  | void;

/** What a command's `decide` learns besides the state. */
export interface DecideContext {
  /** The stream. */
  readonly stream: string;
  /** The revision the state was loaded at (0: no stream yet). */
  readonly revision: number;
  /** 1 on the first try, more on retries. */
  readonly attempt: number;
}

/** Decides what a command does, given the current state. */
export type Decide<TEvents extends AnyEventFactory, TState, TRejection> = (
  state: TState,
  context: DecideContext,
) => Decision<TEvents, TRejection> | Promise<Decision<TEvents, TRejection>>;

/** Options of `store.handle`. */
export interface HandleOptions {
  /** How many times to try in all before giving up (default 16). */
  readonly attempts?: number;
  /** Snapshot name when the source is a reducer (no snapshots without it). */
  readonly name?: string;
}

/** The outcome of a command. */
export type HandleResult<TEvents extends AnyEventFactory, TRejection> =
  | { readonly ok: true; readonly records: EventRecordOf<TEvents>[]; readonly revision: number }
  | { readonly ok: false; readonly rejection: TRejection; readonly revision: number };

function isRejection(value: unknown): value is Rejection<unknown> {
  return typeof value === "object" && value !== null && (value as Rejection<unknown>)[REJECTION] === true;
}

type Source<TEvents extends AnyEventFactory> =
  | Reducer<TEvents, unknown>
  | AggregateClass<TEvents, AggregateRoot<TEvents>>;

function isAggregateClass<TEvents extends AnyEventFactory>(
  value: Source<TEvents>,
): value is AggregateClass<TEvents, AggregateRoot<TEvents>> {
  return typeof value === "function" && value.prototype instanceof AggregateRoot;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function load<TEvents extends AnyEventFactory>(
  store: EventStore<TEvents>,
  stream: string,
  source: Source<TEvents>,
  options: HandleOptions,
): Promise<{ state: unknown; revision: number }> {
  if (isAggregateClass(source)) {
    const loaded = await store.aggregate.getByStream(source, stream);
    const aggregate = loaded ?? store.aggregate.from(source, stream);
    return { state: aggregate, revision: aggregate.revision };
  }
  // Without a name there is no snapshot to read or write: fold from the first event.
  const reducer = options.name ? source : { ...source, snapshot: "never" as never };
  const result = await store.fold({ name: options.name ?? "handle", stream, reducer }, false);
  return { state: result.state, revision: result.revision };
}

/**
 * The body of `store.handle`.
 *
 * @param store the store
 * @param stream the stream
 * @param source a reducer or an aggregate class
 * @param decide the decision function
 * @param options attempts and snapshot name
 * @returns the outcome
 */
export async function handleCommand<TEvents extends AnyEventFactory>(
  store: EventStore<TEvents>,
  stream: string,
  source: Source<TEvents>,
  decide: Decide<TEvents, never, unknown>,
  options: HandleOptions,
): Promise<HandleResult<TEvents, unknown>> {
  const attempts = options.attempts ?? 16;
  if (!Number.isSafeInteger(attempts) || attempts < 1) {
    throw new RangeError(`attempts must be a positive whole number, got ${attempts}`);
  }
  if (!isAggregateClass(source) && typeof source?.fold !== "function") {
    throw new TypeError("handle needs a reducer (makeReducer) or an AggregateRoot class");
  }
  for (let attempt = 1;; attempt++) {
    const { state, revision } = await load(store, stream, source, options);
    const decision = await decide(state as never, { stream, revision, attempt });
    if (isRejection(decision)) return { ok: false, rejection: decision.reason, revision };
    const events = decision === undefined
      ? (state instanceof AggregateRoot ? [...state.pending] : [])
      : Array.isArray(decision)
      ? decision
      : [decision];
    if (events.length === 0) return { ok: true, records: [], revision };
    try {
      const records = await store.pushManyEvents(
        events.map((event) => ({ ...event, stream: event.stream ?? stream })) as never,
        { expectedRevision: { [stream]: revision } },
      );
      const last = records.filter((record) => record.stream === stream).at(-1)?.revision ?? revision;
      return { ok: true, records, revision: last };
    } catch (error) {
      if (!isConcurrencyError(error)) throw error;
      if (attempt >= attempts) {
        throw new ConcurrencyError(error.stream, error.expected, error.actual, { cause: error, attempts });
      }
      // Jittered back-off, so racing commands spread out instead of colliding again.
      await pause(Math.random() * Math.min(50, 2 ** attempt));
    }
  }
}
