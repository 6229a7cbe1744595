/**
 * Testing helpers for Eventfold users and store authors:
 *
 * - {@linkcode given}: given/when/then checks for reducers, aggregates and command
 *   deciders, on a fresh in-memory store, failing with a diff;
 * - {@linkcode runConformance}: the store conformance suite, which registers the whole
 *   store contract as `Deno.test` cases against fresh adapters from your factory (the
 *   memory, SQLite and PostgreSQL stores run the very same cases).
 *
 * The suite's own event definitions use zod, so running it needs `zod` in your imports.
 *
 * ```ts
 * import { event, EventFactory, makeReducer, reject } from "@eventfold/eventfold";
 * import { given } from "@eventfold/eventfold/testing";
 * import { z } from "zod";
 *
 * const events = new EventFactory([event.type("counter:added").data(z.number())]);
 * const counter = makeReducer<typeof events, number>((total, record) => total + record.data, 0);
 * const add = (n: number) => (total = 0) =>
 *   total + n > 10 ? reject("too big" as const) : [{ type: "counter:added" as const, data: n }];
 *
 * await given(events).events([{ type: "counter:added", data: 4 }]).when(counter).then(4);
 * await given(events).events([{ type: "counter:added", data: 4 }]).when(counter, add(3))
 *   .then([{ type: "counter:added", data: 3 }]);
 * await given(events).events([{ type: "counter:added", data: 4 }]).when(counter, add(9)).then(reject("too big"));
 * ```
 *
 * A store's test file runs the suite like this:
 *
 * ```ts ignore
 * import { runConformance } from "@eventfold/eventfold/testing";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 *
 * runConformance({ name: "memory", open: () => new MemoryAdapter() });
 * ```
 *
 * @module
 */

export {
  conformanceCases,
  type ConformanceLayer,
  type ConformanceOptions,
  type ConformanceTest,
  runConformance,
} from "./conformance.ts";
export { type ExpectedOutcome, Given, given, type GivenOptions, type Then } from "./given.ts";

// The core's types, which the signatures above use (types only: nothing more is loaded).
export type * from "../mod.ts";
