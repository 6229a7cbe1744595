/**
 * The store conformance suite: the whole store contract as Deno test cases, run against
 * fresh adapters from a factory, so every backend (memory, SQLite, PostgreSQL or your
 * own) is held to the very same behaviour.
 *
 * @module
 */

import type { Adapter } from "../contract/mod.ts";
import { aggregateCases } from "./_conformance_aggregates.ts";
import { appendCases } from "./_conformance_appends.ts";
import { fidelityCases } from "./_conformance_fidelity.ts";
import { type Case, caseContext } from "./_conformance_fixture.ts";
import { hookCases } from "./_conformance_hooks.ts";
import { inputCases } from "./_conformance_input.ts";
import { readCases } from "./_conformance_reads.ts";
import { stateCases } from "./_conformance_state.ts";
import { subscriptionFailureCases } from "./_conformance_subscription_failures.ts";
import { subscriptionStorageCases } from "./_conformance_subscription_storage.ts";
import { subscriptionCases } from "./_conformance_subscriptions.ts";

/**
 * Options of {@linkcode runConformance}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ConformanceOptions } from "@eventfold/eventfold/testing";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 *
 * const options: ConformanceOptions = {
 *   name: "memory",
 *   open: () => new MemoryAdapter(),
 *   skip: { "readAll and readStream page through 100k events in order, never asking for more than a page": "slow" },
 * };
 * assert(options.name === "memory");
 * ```
 */
export interface ConformanceOptions {
  /** Prefix of every test name, e.g. `"memory"`, `"sqlite file"`, `"postgres"`. */
  readonly name: string;
  /** Makes a fresh, empty adapter; called once per case. The case closes it (through the store). */
  readonly open: () => Adapter | Promise<Adapter>;
  /**
   * Registers every case as ignored (for example when no database server is reachable).
   * A string is the reason, shown in the test names.
   */
  readonly ignore?: boolean | string;
  /** Case name (see {@linkcode conformanceCases}) to the reason it is skipped; skipped cases show as ignored. */
  readonly skip?: Readonly<Record<string, string>>;
  /** Multiplier for the big cases (default 1: 100,000 events for the paging case). */
  readonly scale?: number;
}

const cases: readonly Case[] = [
  ...appendCases,
  ...readCases,
  ...stateCases,
  ...aggregateCases,
  ...hookCases,
  ...inputCases,
  ...fidelityCases,
  ...subscriptionStorageCases,
  ...subscriptionCases,
  ...subscriptionFailureCases,
];

/**
 * The names of the conformance cases, in the order they are registered. A store that
 * cannot meet a case lists it in `skip` with a reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conformanceCases } from "@eventfold/eventfold/testing";
 * assert(conformanceCases.some((name) => name.startsWith("pushManyEvents persists nothing")));
 * ```
 */
export const conformanceCases: readonly string[] = Object.freeze(cases.map((c) => c.name));

/**
 * Registers the store conformance suite with `Deno.test`: one test per case, named
 * `${name}: <behaviour>`, each on a fresh adapter from `open()` wrapped in an
 * `EventStore` that the case closes at the end. Cases assume nothing of positions beyond
 * "strings that sort" and nothing of timing, so database-backed adapters run them as is.
 *
 * @param options the suite name, the adapter factory, and optional ignore, skips and scale
 * @throws {TypeError} when `name` or `open` is missing, or `skip` names an unknown case
 * @throws {RangeError} when `scale` is not a positive number
 * @example
 * ```ts ignore
 * // tests/memory_conformance_test.ts
 * import { runConformance } from "@eventfold/eventfold/testing";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 *
 * runConformance({ name: "memory", open: () => new MemoryAdapter() });
 * ```
 */
export function runConformance(options: ConformanceOptions): void {
  if (typeof options?.name !== "string" || options.name.length === 0) {
    throw new TypeError('runConformance needs a non-empty name, e.g. { name: "sqlite" }');
  }
  if (typeof options.open !== "function") {
    throw new TypeError("runConformance needs open: () => Adapter, making a fresh empty adapter per case");
  }
  const scale = options.scale ?? 1;
  if (typeof scale !== "number" || !Number.isFinite(scale) || scale <= 0) {
    throw new RangeError(`runConformance: scale must be a positive number, got ${scale}`);
  }
  const skip = options.skip ?? {};
  const known = new Set(conformanceCases);
  for (const name of Object.keys(skip)) {
    if (!known.has(name)) {
      throw new TypeError(`runConformance: skip names an unknown case "${name}" (see conformanceCases)`);
    }
  }
  const ignored = options.ignore === true ||
    (typeof options.ignore === "string" && options.ignore.length > 0);
  const why = typeof options.ignore === "string" && options.ignore.length > 0
    ? ` (ignored: ${options.ignore})`
    : "";
  const context = caseContext(options.open, scale);
  for (const c of cases) {
    const reason = Object.hasOwn(skip, c.name) ? skip[c.name] : undefined;
    const suffix = reason !== undefined ? ` (skipped: ${reason})` : why;
    Deno.test({
      name: `${options.name}: ${c.name}${suffix}`,
      ignore: ignored || reason !== undefined,
      fn: () => c.run(context),
    });
  }
}
