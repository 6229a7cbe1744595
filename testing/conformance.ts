/**
 * The store conformance suite: the whole store contract as Deno test cases, run against
 * fresh adapters from a factory, so every backend (memory, SQLite, PostgreSQL or your
 * own) is held to the very same behaviour.
 *
 * The cases come in two layers. **Adapter cases** call the adapter directly and name the
 * part of the contract they test (`adapter/event-log`, `adapter/relation-storage`,
 * `adapter/snapshot-storage`, `adapter/subscription-storage`, `adapter/watchable`): a
 * failure there is the adapter's. **Store cases** run `EventStore` logic over the adapter
 * (`store/appends`, `store/reads`, ...): once the adapter cases pass, a failure there
 * points at how the adapter and the store meet.
 *
 * @module
 */

import type { Adapter } from "../contract/mod.ts";
import { type Case, caseContext, type CaseGroup } from "./_fixture.ts";
import { eventLogReadCases } from "./adapter/event_log_reads.ts";
import { eventLogWriteCases } from "./adapter/event_log_writes.ts";
import { relationStorageCases } from "./adapter/relation_storage.ts";
import { snapshotStorageCases } from "./adapter/snapshot_storage.ts";
import { sharedSubscriptionStorageCases, subscriptionStorageCases } from "./adapter/subscription_storage.ts";
import { watchableCases } from "./adapter/watchable.ts";
import { aggregateCases } from "./store/aggregates.ts";
import { appendCases } from "./store/appends.ts";
import { checkpointCases } from "./store/checkpoints.ts";
import { closingCases } from "./store/closing.ts";
import { commandCases } from "./store/commands.ts";
import { evolutionCases } from "./store/evolution.ts";
import { lifecycleCases } from "./store/lifecycle.ts";
import { partitionCases } from "./store/partitions.ts";
import { personalCases } from "./store/personal.ts";
import { retentionCases } from "./store/retention.ts";
import { workflowCases } from "./store/workflows.ts";
import { fidelityCases } from "./store/fidelity.ts";
import { hookCases } from "./store/hooks.ts";
import { importCases } from "./store/imports.ts";
import { inputCases } from "./store/input.ts";
import { optionCases } from "./store/options.ts";
import { projectorCases } from "./store/projectors.ts";
import { readCases } from "./store/reads.ts";
import { reduceCases } from "./store/reduce.ts";
import { relationCases } from "./store/relations.ts";
import { subscriptionFailureCases } from "./store/subscription_failures.ts";
import { subscriptionCases } from "./store/subscriptions.ts";

/** The two layers of the suite: cases on the adapter itself, and cases on the store over it. */
export type ConformanceLayer = "adapter" | "store";

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
 *   skip: { "store/reads: readAll and readStream page through 100k events in order, never asking for more than a page": "slow" },
 *   only: ["adapter"],
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
  /**
   * Case name (see {@linkcode conformanceCases}: `"<group>: <behaviour>"`, or the
   * behaviour alone as in 0.1) to the reason it is skipped; skipped cases show as ignored.
   */
  readonly skip?: Readonly<Record<string, string>>;
  /** Multiplier for the big cases (default 1: 100,000 events for the paging case). */
  readonly scale?: number;
  /** Registers only the cases of these layers (default: both). */
  readonly only?: readonly ConformanceLayer[];
  /**
   * Makes a second adapter over the same storage as `adapter` (another connection, or
   * what another process would open), which the case closes before `adapter`. Cases that
   * need two adapters (shared leases and checkpoints, `watch` after another's commit) are
   * ignored without it.
   */
  readonly reopen?: (adapter: Adapter) => Adapter | Promise<Adapter>;
  /**
   * Registers one case (default: `Deno.test`). Another runner passes its own, for
   * example a browser page that collects the cases and runs them itself.
   */
  readonly test?: (definition: ConformanceTest) => void;
}

/**
 * One case as {@linkcode runConformance} registers it: the shape `Deno.test` takes, which
 * a runner of its own (the `test` option) gets instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ConformanceTest, runConformance } from "@eventfold/eventfold/testing";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const cases: ConformanceTest[] = [];
 * runConformance({ name: "memory", open: () => new MemoryAdapter(), test: (c) => void cases.push(c) });
 * assert(cases.length > 0 && cases.every((c) => c.name.startsWith("memory: ")));
 * ```
 */
export interface ConformanceTest {
  /** `${name}: <group>: <behaviour>`, with the reason when skipped or ignored. */
  readonly name: string;
  /** True when the case is skipped or ignored: the runner must not run `fn`. */
  readonly ignore: boolean;
  /** Runs the case; rejects when it fails. */
  readonly fn: () => Promise<void>;
}

const groups: readonly CaseGroup[] = [
  { group: "adapter/event-log", cases: [...eventLogWriteCases, ...eventLogReadCases] },
  { group: "adapter/relation-storage", cases: relationStorageCases },
  { group: "adapter/snapshot-storage", cases: snapshotStorageCases },
  {
    group: "adapter/subscription-storage",
    cases: [...subscriptionStorageCases, ...sharedSubscriptionStorageCases],
  },
  { group: "adapter/watchable", cases: watchableCases },
  { group: "store/appends", cases: appendCases },
  { group: "store/reads", cases: readCases },
  { group: "store/relations", cases: relationCases },
  { group: "store/reduce", cases: reduceCases },
  { group: "store/checkpoints", cases: checkpointCases },
  { group: "store/aggregates", cases: aggregateCases },
  { group: "store/commands", cases: commandCases },
  { group: "store/hooks", cases: hookCases },
  { group: "store/imports", cases: importCases },
  { group: "store/evolution", cases: evolutionCases },
  { group: "store/lifecycle", cases: lifecycleCases },
  { group: "store/personal", cases: personalCases },
  { group: "store/retention", cases: retentionCases },
  { group: "store/workflows", cases: workflowCases },
  { group: "store/projectors", cases: projectorCases },
  { group: "store/input", cases: [...inputCases, ...optionCases] },
  { group: "store/closing", cases: closingCases },
  { group: "store/fidelity", cases: fidelityCases },
  { group: "store/subscriptions", cases: subscriptionCases },
  { group: "store/subscription-failures", cases: subscriptionFailureCases },
  { group: "store/partitions", cases: partitionCases },
];

interface Registered {
  readonly layer: ConformanceLayer;
  readonly name: string;
  readonly behaviour: string;
  readonly case: Case;
}

const registered: readonly Registered[] = groups.flatMap(({ group, cases }) =>
  cases.map((c) => ({
    layer: group.startsWith("adapter/") ? "adapter" as const : "store" as const,
    name: `${group}: ${c.name}`,
    behaviour: c.name,
    case: c,
  }))
);

/**
 * The names of the conformance cases, `"<group>: <behaviour>"`, in the order they are
 * registered: the adapter groups (`adapter/event-log`, ...) first, then the store
 * groups (`store/appends`, ...). A store that cannot meet a case lists it in `skip` with
 * a reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conformanceCases } from "@eventfold/eventfold/testing";
 * assert(conformanceCases.includes("store/appends: pushManyEvents persists nothing when an event in the middle is invalid"));
 * assert(conformanceCases.some((name) => name.startsWith("adapter/event-log: ")));
 * ```
 */
export const conformanceCases: readonly string[] = Object.freeze(registered.map((c) => c.name));

/**
 * Registers the store conformance suite with `Deno.test` (or the `test` option): one test per case, named
 * `${name}: <group>: <behaviour>` (for example `memory: adapter/event-log: ...` or
 * `memory: store/appends: ...`), each on a fresh adapter from `open()` that the case
 * closes at the end (directly, or through the `EventStore` wrapped around it). Cases
 * assume nothing of positions beyond "strings that sort" and nothing of timing, so
 * database-backed adapters run them as is. On a commit-checked adapter the cases that
 * need an in-transaction listener check that the store refuses it with a `TypeError`.
 *
 * @param options the suite name, the adapter factory, and optional ignore, skips, scale, layers and reopen
 * @throws {TypeError} when `name` or `open` is missing, `skip` names an unknown case, or `only` an unknown layer
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
  const layers = layersOf(options.only);
  if (options.reopen !== undefined && typeof options.reopen !== "function") {
    throw new TypeError(
      "runConformance: reopen must be (adapter) => Adapter, a second adapter over its storage",
    );
  }
  const skip = options.skip ?? {};
  const known = new Set(registered.flatMap((c) => [c.name, c.behaviour]));
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
  if (options.test !== undefined && typeof options.test !== "function") {
    throw new TypeError("runConformance: test must be (definition) => void, registering one case");
  }
  const register = options.test ?? ((definition: ConformanceTest) => Deno.test(definition));
  const context = caseContext(options.open, scale, options.reopen);
  for (const c of registered) {
    if (!layers.has(c.layer)) continue;
    const reason = Object.hasOwn(skip, c.name)
      ? skip[c.name]
      : Object.hasOwn(skip, c.behaviour)
      ? skip[c.behaviour]
      : undefined;
    const unmet = c.case.needs === "reopen" && options.reopen === undefined;
    const suffix = reason !== undefined
      ? ` (skipped: ${reason})`
      : why !== ""
      ? why
      : unmet
      ? " (ignored: needs the reopen option)"
      : "";
    register({
      name: `${options.name}: ${c.name}${suffix}`,
      ignore: ignored || reason !== undefined || unmet,
      fn: () => c.case.run(context),
    });
  }
}

function layersOf(only: readonly ConformanceLayer[] | undefined): ReadonlySet<ConformanceLayer> {
  if (only === undefined) return new Set(["adapter", "store"]);
  if (!Array.isArray(only) || only.length === 0) {
    throw new TypeError('runConformance: only must be a non-empty list of "adapter" and "store"');
  }
  for (const layer of only) {
    if (layer !== "adapter" && layer !== "store") {
      throw new TypeError(
        `runConformance: only names an unknown layer "${layer}" (expected "adapter" or "store")`,
      );
    }
  }
  return new Set(only);
}
