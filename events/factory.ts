/**
 * The set of event definitions a store knows.
 *
 * @module
 */

import { UnknownEventError } from "../errors.ts";
import type { AnyEventDefinition } from "./event.ts";
import { checkSteps } from "./evolution.ts";

/**
 * Holds the event definitions of an application. Its type carries every event's type
 * name and payload types, so `EventStore`, `Projector`, reducers and aggregates typed
 * with `typeof events` check payloads at compile time.
 *
 * @typeParam TDefinitions the definitions, as a tuple
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory } from "@eventfold/eventfold";
 * import { z } from "zod";
 * const events = new EventFactory([
 *   event.type("user:created").data(z.object({ name: z.string() })),
 *   event.type("user:activated"),
 * ]);
 * assert(events.has("user:activated"));
 * ```
 */
export class EventFactory<
  const TDefinitions extends readonly AnyEventDefinition[] = readonly AnyEventDefinition[],
> {
  /** The definitions, in the order given. */
  readonly definitions: TDefinitions;
  /** Type only: the definitions tuple (valkyr's name). */
  declare readonly $events: TDefinitions;
  /** Type only: the union of every record this factory's events produce. */
  declare readonly $record: TDefinitions[number]["$record"];
  /** Type only: the union of every producer input. */
  declare readonly $input: TDefinitions[number]["$input"];
  readonly #byType: Map<string, AnyEventDefinition>;
  readonly #byStoredName: Map<string, AnyEventDefinition>;

  /**
   * Creates it.
   *
   * @param definitions event definitions made with `event.type(...)`; type names must be unique
   * @throws {TypeError} when two definitions share a type name
   */
  constructor(definitions: TDefinitions) {
    this.definitions = definitions;
    this.#byType = new Map();
    this.#byStoredName = new Map();
    for (const definition of definitions) {
      if (this.#byType.has(definition.type)) {
        throw new TypeError(`Event type "${definition.type}" is defined twice`);
      }
      this.#byType.set(definition.type, definition);
      checkSteps(definition.type, definition);
    }
    for (const definition of definitions) {
      for (const name of [definition.type, ...definition.aliases]) {
        const other = this.#byStoredName.get(name);
        if (other !== undefined && other !== definition) {
          throw new TypeError(
            `Stored type "${name}" would be read as both "${other.type}" and "${definition.type}" (renamedFrom)`,
          );
        }
        this.#byStoredName.set(name, definition);
      }
    }
  }

  /** The type names, in definition order. */
  get types(): string[] {
    return [...this.#byType.keys()];
  }

  /**
   * Whether `type` is defined here.
   *
   * @param type an event type name
   * @returns true when defined
   */
  has(type: string): boolean {
    return this.#byType.has(type);
  }

  /**
   * The definition of `type`.
   *
   * @param type an event type name
   * @returns the definition
   * @throws {UnknownEventError} when `type` is not defined
   */
  get(type: string): AnyEventDefinition {
    const definition = this.#byType.get(type);
    if (definition === undefined) throw new UnknownEventError(type, this.types);
    return definition;
  }
  /**
   * The definition that reads records stored under `storedType`: its current name or one
   * it was renamed from.
   *
   * @param storedType the type as stored
   * @returns the definition, or `undefined` when none knows the name
   */
  resolve(storedType: string): AnyEventDefinition | undefined {
    return this.#byStoredName.get(storedType);
  }

  /**
   * Every stored name that reads as one of `types` (their current names and the names
   * they were renamed from), so a filter by either name finds old records too.
   *
   * @param types type names, current or old
   * @returns the stored names to ask an adapter for
   */
  storedNames(types: readonly string[]): string[] {
    const names = new Set<string>();
    for (const type of types) {
      const definition = this.#byStoredName.get(type);
      if (definition === undefined) {
        names.add(type);
        continue;
      }
      names.add(definition.type);
      for (const alias of definition.aliases) names.add(alias);
    }
    return [...names];
  }
}

/** Any event factory. */
export type AnyEventFactory = EventFactory<readonly AnyEventDefinition[]>;

/** The union of records of a factory. */
export type EventRecordOf<TEvents extends AnyEventFactory> = TEvents["$record"];

/** The union of type names of a factory. */
export type EventTypeOf<TEvents extends AnyEventFactory> = TEvents["$record"]["type"];

/** The record of one event type. */
export type RecordOfType<TEvents extends AnyEventFactory, TType extends string> = Extract<
  TEvents["$record"],
  { readonly type: TType }
>;

/** The union of producer inputs of a factory. */
export type EventInputOf<TEvents extends AnyEventFactory> = TEvents["$input"];
