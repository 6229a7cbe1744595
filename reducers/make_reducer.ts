/**
 * Functional reducers: `(state, record) => state` plus a fresh initial state.
 *
 * @module
 */

import type { AnyEventFactory, EventRecordOf } from "../events/factory.ts";

/** When a reducer's state is saved as a snapshot: only on request, or every N events folded. */
export type SnapshotPolicy = "manual" | { readonly every: number };

/**
 * A reducer made by {@linkcode makeReducer}.
 *
 * @typeParam TEvents the event factory
 * @typeParam TState the folded state
 */
export interface Reducer<TEvents extends AnyEventFactory, TState> {
  /** Folds one record into the state; may mutate and return it. */
  readonly fold: (state: TState, record: EventRecordOf<TEvents>) => TState;
  /** A fresh initial state (never shared between folds). */
  readonly initial: () => TState;
  /** Version of the state's shape; snapshots of another version are ignored. */
  readonly version: number;
  /** When snapshots are saved. */
  readonly snapshot: SnapshotPolicy;
}

/** Options of {@linkcode makeReducer}. */
export interface ReducerOptions {
  /** Version of the state's shape (default 1). Bump it when the fold changes meaning. */
  readonly version?: number;
  /**
   * Snapshot policy (default `"manual"`). `"auto"` (valkyr's word) is `{ every: 1 }`: a
   * snapshot after every fold that folded at least one event.
   */
  readonly snapshot?: SnapshotPolicy | "auto";
}

function snapshotPolicy(given: unknown): SnapshotPolicy {
  if (given === undefined || given === "manual") return "manual";
  if (given === "auto") return { every: 1 };
  if (typeof given !== "object" || given === null || !("every" in given)) {
    throw new TypeError(
      `snapshot must be "manual", "auto" or { every: N }, got ${JSON.stringify(given) ?? String(given)}`,
    );
  }
  const every = (given as { every: unknown }).every;
  if (typeof every !== "number" || !Number.isSafeInteger(every) || every < 1) {
    throw new RangeError(`Snapshot interval must be a positive integer, got ${every}`);
  }
  return { every };
}

/**
 * Makes a reducer from a fold and an initial state.
 *
 * @param fold `(state, record) => state`; it may mutate `state`
 * @param initial the initial state, or a function making it; a value is deep-copied per fold
 * @param options version and snapshot policy
 * @returns the reducer
 * @throws {RangeError} for a snapshot interval or version that is not a positive integer
 * @throws {TypeError} for a snapshot policy that is not `"manual"`, `"auto"` or `{ every: N }`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, makeReducer } from "@eventfold/eventfold";
 * import { z } from "zod";
 * const events = new EventFactory([event.type("counter:added").data(z.number())]);
 * const counter = makeReducer<typeof events, { total: number }>(
 *   (state, record) => {
 *     if (record.type === "counter:added") state.total += record.data;
 *     return state;
 *   },
 *   () => ({ total: 0 }),
 *   { snapshot: { every: 100 } },
 * );
 * assert(counter.initial().total === 0);
 * ```
 */
export function makeReducer<TEvents extends AnyEventFactory, TState>(
  fold: (state: TState, record: EventRecordOf<TEvents>) => TState,
  initial: TState | (() => TState),
  options: ReducerOptions = {},
): Reducer<TEvents, TState> {
  if (typeof fold !== "function") {
    throw new TypeError("makeReducer needs a fold function (state, record) => state");
  }
  const version = options.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new RangeError(`Reducer version must be a positive integer, got ${version}`);
  }
  const snapshot = snapshotPolicy(options.snapshot);
  const fresh = typeof initial === "function" ? initial as () => TState : () => structuredClone(initial);
  return { fold, initial: fresh, version, snapshot };
}
