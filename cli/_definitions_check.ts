/**
 * Checks a stored record (or a line about to be imported) against the application's
 * definitions the way a store built with them reads it: an old name resolves to its
 * renamed type, an older version is upcast step by step, and the result must pass the
 * current schemas. So `verify --definitions` and `import --definitions` find what a
 * reader would fail on, including an upcaster that throws or returns the wrong shape.
 *
 * @module
 */

import {
  type AnyEventFactory,
  type EventRecord,
  EventValidationError,
  isDecodeError,
  isEventValidationError,
  type PendingEvent,
  UnknownEventError,
} from "../mod.ts";
import { RecordReader } from "../stores/_evolve.ts";

/** What is wrong with a record in the eyes of the definitions. */
export interface DefinitionProblem {
  /** `unknown-type`: no definition; `upcast`: an upcaster failed; `schema`: the result is invalid. */
  readonly problem: "unknown-type" | "upcast" | "schema";
  /** The reason, naming type and versions. */
  readonly message: string;
}

function reason(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause.message : error.cause;
  return cause === undefined ? error.message : `${error.message}: ${cause}`;
}

/** Reads records through a set of definitions and reports what fails. */
export class DefinitionsCheck {
  readonly #reader: RecordReader;

  /**
   * @param definitions the application's definitions
   * @param location where the records come from, for messages
   */
  constructor(definitions: AnyEventFactory, location: string) {
    this.#reader = new RecordReader(definitions, "error", true, () => location);
  }

  /**
   * Checks one stored record.
   *
   * @param record the record as stored (its stored type, version and payloads)
   * @returns the problem, or `undefined` when it reads back valid
   */
  async record(record: EventRecord): Promise<DefinitionProblem | undefined> {
    try {
      await this.#reader.read([{ ...record }]);
      return undefined;
    } catch (error) {
      if (error instanceof UnknownEventError || (error as Error)?.name === "UnknownEventError") {
        return { problem: "unknown-type", message: `type "${record.type}" is not among the definitions` };
      }
      if (isDecodeError(error)) return { problem: "upcast", message: reason(error) };
      if (isEventValidationError(error)) {
        // The position is the finding's own; the versions say an upcaster made the shape.
        const upcast = error.storedVersion === error.version
          ? ""
          : ` (stored at version ${error.storedVersion}, upcast to version ${error.version})`;
        return {
          problem: "schema",
          message: `${new EventValidationError(error.type, error.issues).message}${upcast}`,
        };
      }
      throw error;
    }
  }

  /**
   * Checks one event about to be imported, at the version it gives (1 when none).
   *
   * @param event the event
   * @param where how to name it in messages (for example `line 4`)
   */
  event(event: PendingEvent, where: string): Promise<DefinitionProblem | undefined> {
    return this.record({
      ...event,
      data: event.data ?? null,
      meta: event.meta ?? null,
      version: event.version ?? 1,
      position: where,
      revision: 1,
      recorded: event.created ?? "",
      created: event.created ?? "",
      outdated: false,
    } as EventRecord);
  }
}
