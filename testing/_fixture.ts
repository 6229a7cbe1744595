/**
 * What every conformance case shares: the event definitions, how a case opens its store,
 * and small assertions.
 *
 * @module
 */

import { AssertionError } from "node:assert/strict";
import { z } from "zod";
import type { Clock } from "../events/clock.ts";
import { event } from "../events/event.ts";
import { EventFactory, type EventRecordOf } from "../events/factory.ts";
import type { PendingEvent } from "../events/record.ts";
import type { Adapter, AdapterStats } from "../contract/mod.ts";
import { EventStore } from "../stores/event_store.ts";
import { delay } from "../async.ts";

/** The events every case writes. */
export const events = new EventFactory([
  event.type("item:added").data(z.object({ n: z.number().int() })),
  event.type("user:created").data(z.object({ name: z.string(), email: z.email() })),
  event.type("user:renamed").data(z.object({ name: z.string() })),
  event.type("counter:incremented").data(z.object({ by: z.number().int(), before: z.number().int() })),
  event.type("noted").data(z.string()).meta(z.object({ by: z.string() })),
  event.type("tick"),
]);

/** The event factory type of the suite. */
export type Events = typeof events;
/** A record of the suite's events. */
export type Rec = EventRecordOf<Events>;
/** The store every case works on. */
export type TestStore = EventStore<Events, Adapter>;

/** Options a case may give when it opens its store. */
export interface StoreOptions {
  /** Use this adapter (for example a recording proxy) instead of a fresh one. */
  readonly adapter?: Adapter;
  /** Records per page. */
  readonly pageSize?: number;
  /** Where `created` comes from. */
  readonly clock?: Clock;
}

/** What a case gets from the runner. */
export interface CaseContext {
  /** Multiplier for big cases. */
  readonly scale: number;
  /** A fresh, empty adapter. */
  adapter(): Promise<Adapter>;
  /** A store over a fresh, empty adapter (or the one given); the case closes it. */
  store(options?: StoreOptions): Promise<TestStore>;
  /**
   * A second adapter over the same storage as `adapter` (another connection or process
   * view), when the suite was given `reopen`; the case closes it before `adapter`.
   */
  readonly reopen?: (adapter: Adapter) => Promise<Adapter>;
}

/** One conformance case. */
export interface Case {
  /** The behaviour, as it appears in the test name. */
  readonly name: string;
  /** Runs the case. */
  run(context: CaseContext): Promise<void>;
  /**
   * `"reopen"`: the case needs a second adapter over the same storage, and is registered
   * as ignored when the suite has no `reopen`.
   */
  readonly needs?: "reopen";
}

/** Cases of one concept, under a group name such as `"adapter/event-log"` or `"store/appends"`. */
export interface CaseGroup {
  /** The group, shown between the suite name and the case: `adapter/<part>` or `store/<concept>`. */
  readonly group: string;
  /** Its cases. */
  readonly cases: readonly Case[];
}

/**
 * Builds the context the cases of one run get.
 *
 * @param open the adapter factory
 * @param scale multiplier for big cases
 * @param reopen makes a second adapter over the storage of a first one
 */
export function caseContext(
  open: () => Adapter | Promise<Adapter>,
  scale: number,
  reopen?: (adapter: Adapter) => Adapter | Promise<Adapter>,
): CaseContext {
  const checked = (opened: Adapter, what: string): Adapter => {
    if (opened === undefined || opened === null || typeof opened.transaction !== "function") {
      throw new TypeError(`runConformance: ${what} must return an Adapter (or a promise of one)`);
    }
    return opened;
  };
  const adapter = async (): Promise<Adapter> => checked(await open(), "open()");
  return {
    scale,
    adapter,
    reopen: reopen === undefined ? undefined : async (first) => checked(await reopen(first), "reopen()"),
    store: async (options = {}) =>
      new EventStore({
        adapter: options.adapter ?? await adapter(),
        events,
        pageSize: options.pageSize,
        clock: options.clock,
      }),
  };
}

/**
 * A fixed time `seconds` after 2024-01-01, as `created` strings that sort.
 *
 * @param seconds offset
 */
export function at(seconds: number): string {
  return new Date(Date.UTC(2024, 0, 1, 0, 0, 0) + seconds * 1000).toISOString();
}

/** An `item:added` event. */
export function added(store: TestStore, stream: string, n: number): PendingEvent<"item:added"> {
  return store.event({ type: "item:added", stream, data: { n } });
}

/** A `tick` event. */
export function tick(store: TestStore, stream: string): PendingEvent<"tick"> {
  return store.event({ type: "tick", stream });
}

/** Collects an async iterable into an array. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/**
 * A record as its adapter holds it: the store adds `storedVersion` on read (the stored
 * `version`, which is the current one for records written by the current definitions).
 */
export function asStored(record: Rec): Rec {
  const { storedVersion, ...stored } = record;
  return { ...stored, version: storedVersion ?? stored.version } as Rec;
}

/** Everything a store holds that bad input must leave alone. */
export async function contents(store: TestStore): Promise<{ stats: AdapterStats; records: Rec[] }> {
  return { stats: await store.stats(), records: await store.getEvents() };
}

/** Fails with `message`. */
export function fail(message: string): never {
  throw new AssertionError({ message });
}

/**
 * Runs `action` and checks that it fails with an instance of `type`; then runs `check`.
 *
 * @returns the error
 */
export async function rejects<E extends Error>(
  action: () => unknown,
  // deno-lint-ignore no-explicit-any
  type: abstract new (...args: any[]) => E,
  check?: (error: E) => void,
): Promise<E> {
  let caught: unknown;
  let threw = false;
  try {
    await action();
  } catch (error) {
    caught = error;
    threw = true;
  }
  if (!threw) fail(`Expected ${type.name}, but the call succeeded`);
  if (!(caught instanceof type)) {
    const got = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
    throw new AssertionError({ message: `Expected ${type.name}, got ${got}` });
  }
  check?.(caught);
  return caught;
}

/** Checks that `list` strictly increases (code-unit order). */
export function assertIncreasing(list: readonly string[], what: string): void {
  for (let i = 1; i < list.length; i++) {
    if (!(list[i - 1] < list[i])) {
      fail(`${what} must strictly increase, but #${i - 1} ${list[i - 1]} is not below #${i} ${list[i]}`);
    }
  }
}

/** Waits a macrotask, so that other work gets a turn. */
export function turn(ms = 0): Promise<void> {
  return delay(ms);
}
