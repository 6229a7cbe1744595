/**
 * Command handling: load state and revision, decide, append with that revision as the
 * expected revision, and retry on a lost race. A decision is events or a rejection value.
 *
 * @module
 */

import type { Cause } from "../events/correlation.ts";
import { ConcurrencyError, isConcurrencyError } from "../errors.ts";
import type { ExpectedRevision } from "../events/expected_revision.ts";
import type { AnyEventFactory, EventInputOf, EventRecordOf } from "../events/factory.ts";
import type { Reducer } from "../reducers/make_reducer.ts";
import type { AggregateStore, RelationPair } from "./aggregate_store.ts";
import { type AggregateClass, AggregateRoot } from "./aggregate_root.ts";
import { delay, jitteredDelay } from "../async.ts";

/** A decision not to act, carrying a reason the caller can switch on. Made by {@linkcode reject}. */
export interface Rejection<TReason> {
  /** Marks the value as a rejection (checked by `store.handle`). */
  readonly rejected: "eventfold.rejection";
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
 * import assert from "node:assert/strict";
 * import { reject } from "@eventfold/eventfold";
 * assert(reject("insufficient-funds").reason === "insufficient-funds");
 * ```
 */
export function reject<const TReason>(reason: TReason): Rejection<TReason> {
  return { rejected: "eventfold.rejection", reason };
}

/**
 * Events to append together with what they must guard: expected revisions of other
 * streams (for example a `user-email:<address>` stream that must not exist yet, which
 * makes a uniqueness claim atomic with the command) and relation changes.
 */
export interface Intent<TEvents extends AnyEventFactory> {
  /** The events (on the command's stream unless they name another). */
  readonly events: readonly EventInputOf<TEvents>[];
  /** Expected revisions of other streams; the command's own stream is always guarded. */
  readonly expectedRevision?: Readonly<Record<string, ExpectedRevision>>;
  /** Relation changes committed with the events. */
  readonly relations?: readonly RelationPair[];
}

/** What `decide` may return: events, an {@linkcode Intent}, a rejection, or nothing. */
export type Decision<TEvents extends AnyEventFactory, TRejection> =
  | EventInputOf<TEvents>
  | readonly EventInputOf<TEvents>[]
  | Intent<TEvents>
  | Rejection<TRejection>
  | void;

/** The rejection reason type of a decision (the union over every `reject(...)` it returns). */
export type RejectionOf<TDecision> = TDecision extends Rejection<infer TReason> ? TReason : never;

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
export type Decide<TState, TDecision> = (
  state: TState,
  context: DecideContext,
) => TDecision | Promise<TDecision>;

/** Options of `store.handle`. */
export interface HandleOptions {
  /** How many times to try in all before giving up (default 16). */
  readonly attempts?: number;
  /** Snapshot name when the model is a reducer (no snapshots without it). */
  readonly name?: string;
  /** The record that caused the command: its events carry `meta.$correlation` and `$causation`. */
  readonly causedBy?: Cause;
}

/** The outcome of a command. */
export type HandleResult<TEvents extends AnyEventFactory, TRejection> =
  | { readonly ok: true; readonly records: EventRecordOf<TEvents>[]; readonly revision: number }
  | { readonly ok: false; readonly rejection: TRejection; readonly revision: number };

function isRejection(value: unknown): value is Rejection<unknown> {
  return typeof value === "object" && value !== null &&
    (value as Rejection<unknown>).rejected === "eventfold.rejection";
}

type Model<TEvents extends AnyEventFactory> =
  | Reducer<TEvents, unknown>
  | AggregateClass<TEvents, AggregateRoot<TEvents>>;

function isIntent<TEvents extends AnyEventFactory>(value: unknown): value is Intent<TEvents> {
  return typeof value === "object" && value !== null && Array.isArray((value as Intent<TEvents>).events);
}

function isAggregateClass<TEvents extends AnyEventFactory>(
  value: Model<TEvents>,
): value is AggregateClass<TEvents, AggregateRoot<TEvents>> {
  return typeof value === "function" && value.prototype instanceof AggregateRoot;
}

async function load<TEvents extends AnyEventFactory>(
  store: AggregateStore<TEvents>,
  stream: string,
  model: Model<TEvents>,
  options: HandleOptions,
): Promise<{ state: unknown; revision: number }> {
  if (isAggregateClass(model)) {
    const loaded = await store.aggregate.getByStream(model, stream);
    const aggregate = loaded ?? store.aggregate.from(model, stream);
    return { state: aggregate, revision: aggregate.revision };
  }
  // Without a name there is no snapshot to read or write: fold from the first event.
  const reducer = options.name ? model : { ...model, snapshot: "never" as never };
  const result = await store.fold({ name: options.name ?? "handle", stream, reducer }, false);
  return { state: result.state, revision: result.revision };
}

/**
 * The body of `store.handle`.
 *
 * @param store the store
 * @param stream the stream
 * @param model a reducer or an aggregate class
 * @param decide the decision function
 * @param options attempts and snapshot name
 * @returns the outcome
 */
export async function handleCommand<TEvents extends AnyEventFactory>(
  store: AggregateStore<TEvents>,
  stream: string,
  model: Model<TEvents>,
  decide: Decide<never, Decision<TEvents, unknown>>,
  options: HandleOptions,
): Promise<HandleResult<TEvents, unknown>> {
  const attempts = options.attempts ?? 16;
  if (!Number.isSafeInteger(attempts) || attempts < 1) {
    throw new RangeError(`attempts must be a positive whole number, got ${attempts}`);
  }
  if (!isAggregateClass(model) && typeof model?.fold !== "function") {
    throw new TypeError("handle needs a reducer (makeReducer) or an AggregateRoot class");
  }
  for (let attempt = 1;; attempt++) {
    const { state, revision } = await load(store, stream, model, options);
    const decision = await decide(state as never, { stream, revision, attempt });
    if (isRejection(decision)) return { ok: false, rejection: decision.reason, revision };
    const intent: Intent<TEvents> = isIntent<TEvents>(decision)
      ? decision
      : decision === undefined
      ? { events: state instanceof AggregateRoot ? state.pending as never : [] }
      : { events: Array.isArray(decision) ? decision : [decision as EventInputOf<TEvents>] };
    const events = intent.events;
    if (events.length === 0) return { ok: true, records: [], revision };
    try {
      const records = await store.pushManyEvents(
        events.map((event) => ({ ...event, stream: event.stream ?? stream })) as never,
        {
          expectedRevision: { ...intent.expectedRevision, [stream]: revision },
          relations: intent.relations,
          causedBy: options.causedBy,
        },
      );
      const last = records.filter((record) => record.stream === stream).at(-1)?.revision ?? revision;
      return { ok: true, records, revision: last };
    } catch (error) {
      // A failed guard on another stream (a uniqueness claim) is an answer, not a race to retry.
      if (!isConcurrencyError(error) || error.stream !== stream) throw error;
      if (attempt >= attempts) {
        throw new ConcurrencyError(error.stream, error.expected, error.actual, { cause: error, attempts });
      }
      // Jittered back-off, so racing commands spread out instead of colliding again.
      await delay(jitteredDelay(attempt + 1, 1, 50));
    }
  }
}
