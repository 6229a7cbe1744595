/**
 * The set of event definitions a store knows.
 *
 * @module
 */

import { UnknownEventError } from "../errors.ts";
import type { AnyEventDefinition } from "./event.ts";

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

  /**
   * Creates it.
   *
   * @param definitions event definitions made with `event.type(...)`; type names must be unique
   * @throws {TypeError} when two definitions share a type name
   */
  constructor(definitions: TDefinitions) {
    this.definitions = definitions;
    this.#byType = new Map();
    for (const definition of definitions) {
      if (this.#byType.has(definition.type)) {
        throw new TypeError(`Event type "${definition.type}" is defined twice`);
      }
      this.#byType.set(definition.type, definition);
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
