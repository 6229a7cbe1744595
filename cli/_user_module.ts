/**
 * Loading what a user's module exports (`--module ./file.ts --export name`) and telling
 * what it is: a reducer from `makeReducer`, an `AggregateRoot` class, a `Projector` or an
 * `EventFactory`. Shapes are checked rather than classes, so a module that imports
 * Eventfold from another copy (JSR, a vendored path) works the same.
 *
 * @module
 */

import { pathToFileURL } from "node:url";
import type { AggregateRoot, AnyEventFactory, EventStore, Projector, Reducer } from "../mod.ts";
import { CliFailure, UsageError } from "./_errors.ts";

/** An aggregate class, as far as the command line needs it. */
export type AnyAggregateClass =
  & (new (store: EventStore<AnyEventFactory>, stream: string) => AggregateRoot<AnyEventFactory>)
  & {
    readonly name: string;
  };

/** What an export turned out to be. */
export type Loaded =
  | { readonly kind: "reducer"; readonly reducer: Reducer<AnyEventFactory, unknown> }
  | { readonly kind: "aggregate"; readonly Class: AnyAggregateClass }
  | { readonly kind: "projector"; readonly projector: Projector<AnyEventFactory> }
  | { readonly kind: "events"; readonly events: AnyEventFactory };

function specifier(path: string): string {
  return /^(https?|file|jsr|npm):/.test(path) ? path : pathToFileURL(path).href;
}

/**
 * Imports a module and returns one of its exports.
 *
 * @param path a file path (relative to the working directory) or a URL
 * @param name the export's name
 * @param flag the flag naming the module, for messages
 * @returns the exported value
 * @throws {CliFailure} when the module is missing or fails to load
 * @throws {UsageError} when it has no export of that name
 */
export async function loadExport(path: string, name: string, flag: string): Promise<unknown> {
  const url = specifier(path);
  if (url.startsWith("file:")) {
    try {
      await Deno.stat(new URL(url));
    } catch {
      throw new CliFailure(`${flag} ${path}: no such file`);
    }
  }
  let module: Record<string, unknown>;
  try {
    // The user's own module: resolved at run time on purpose.
    module = await import(url);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new CliFailure(`${flag} ${path} failed to load: ${reason}`, { cause: error });
  }
  if (!(name in module)) {
    const names = Object.keys(module).sort();
    throw new UsageError(
      `${path} has no export named "${name}" (${
        names.length > 0 ? `it exports: ${names.join(", ")}` : "it exports nothing"
      })`,
    );
  }
  return module[name];
}

function isReducer(value: unknown): value is Reducer<AnyEventFactory, unknown> {
  const r = value as Partial<Reducer<AnyEventFactory, unknown>> | null;
  return typeof r === "object" && r !== null && typeof r.fold === "function" &&
    typeof r.initial === "function";
}

function isAggregateClass(value: unknown): value is AnyAggregateClass {
  return typeof value === "function" &&
    typeof (value as { prototype?: { with?: unknown } }).prototype?.with === "function";
}

function isProjector(value: unknown): value is Projector<AnyEventFactory> {
  const p = value as Partial<Projector<AnyEventFactory>> | null;
  return typeof p === "object" && p !== null && typeof p.push === "function" &&
    typeof p.pushMany === "function";
}

function isEventFactory(value: unknown): value is AnyEventFactory {
  const f = value as Partial<AnyEventFactory> | null;
  return typeof f === "object" && f !== null && typeof f.get === "function" && typeof f.has === "function" &&
    Array.isArray(f.definitions);
}

/**
 * Tells what an export is.
 *
 * @param value the export
 * @param what how the user named it (`./reducers.ts#user`), for messages
 * @param allowed the kinds the command accepts
 * @returns the export with its kind
 * @throws {UsageError} when it is none of the allowed kinds
 */
export function classify(value: unknown, what: string, allowed: readonly Loaded["kind"][]): Loaded {
  let loaded: Loaded | undefined;
  if (isReducer(value)) loaded = { kind: "reducer", reducer: value };
  else if (isAggregateClass(value)) loaded = { kind: "aggregate", Class: value };
  else if (isProjector(value)) loaded = { kind: "projector", projector: value };
  else if (isEventFactory(value)) loaded = { kind: "events", events: value };
  if (loaded === undefined || !allowed.includes(loaded.kind)) {
    const names: Record<Loaded["kind"], string> = {
      reducer: "a reducer (makeReducer)",
      aggregate: "an AggregateRoot class",
      projector: "a Projector",
      events: "an EventFactory",
    };
    const found = loaded === undefined ? typeof value : names[loaded.kind];
    throw new UsageError(`${what} is ${found}; expected ${allowed.map((kind) => names[kind]).join(" or ")}`);
  }
  return loaded;
}

/**
 * Loads the event definitions named by `--definitions FILE --export NAME`.
 *
 * @param path the module
 * @param name the export (default `events`)
 * @returns the definitions
 * @throws {CliFailure} when the module does not load
 * @throws {UsageError} when the export is missing or not an `EventFactory`
 */
export async function loadDefinitions(path: string, name: string): Promise<AnyEventFactory> {
  const value = await loadExport(path, name, "--definitions");
  return (classify(value, `${path}#${name}`, ["events"]) as { events: AnyEventFactory }).events;
}
