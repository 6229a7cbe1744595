/**
 * Event definitions for a store the command line knows nothing about: every type is
 * defined, and its `data` and `meta` accept any value as it is. The command line moves
 * and reads events without the application's definitions, and still writes through
 * `EventStore.import`, so ids, `created`, revisions and `outdated` follow the core's rules.
 * A store over it reads with `unknownEvents: "pass"`: records come back as stored, with
 * their stored type and version, never upcast.
 *
 * @module
 */

import { EventDefinition, EventFactory, type StandardSchemaV1 } from "../mod.ts";

/** A Standard Schema that accepts any value unchanged. */
const anything: StandardSchemaV1 = {
  "~standard": {
    version: 1,
    vendor: "eventfold-cli",
    validate: (value: unknown) => ({ value }),
  },
};

/**
 * An {@linkcode EventFactory} that defines every type it is asked about, with payloads
 * that accept anything.
 */
export class PermissiveEvents extends EventFactory {
  readonly #made = new Map<string, EventDefinition<string, unknown, unknown>>();

  constructor() {
    super([]);
  }

  /** Every type is defined. */
  override has(_type: string): boolean {
    return true;
  }

  /**
   * A definition of `type` whose payloads accept anything.
   *
   * @param type the event type
   * @returns its definition
   */
  override get(type: string): EventDefinition<string, unknown, unknown> {
    let definition = this.#made.get(type);
    if (definition === undefined) {
      definition = new EventDefinition(type, { data: anything, meta: anything });
      this.#made.set(type, definition);
    }
    return definition;
  }

  /**
   * No stored type resolves to a definition with a history: the CLI reads every record as
   * stored (its store uses `unknownEvents: "pass"`), with its stored version.
   */
  override resolve(_storedType: string): undefined {
    return undefined;
  }

  /** Filters by type ask for exactly the names given. */
  override storedNames(types: readonly string[]): string[] {
    return [...types];
  }
}
