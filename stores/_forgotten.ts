/**
 * Imports of forgotten records. A record read after `store.forget(subject)` (its personal
 * fields `null`, `forgotten: true`) may be imported into another store (by sync, or by
 * `import()` of records read elsewhere), and stays forgotten there: each of its personal
 * fields is stored as a sealed field without ciphertext or key, which reads back as `null`,
 * with `forgotten: true`, in any store. Such a record skips the schemas: its personal
 * fields are gone, and its source checked the rest when it was written.
 *
 * @module
 */

import { EventValidationError } from "../errors.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import { forgottenField } from "../events/personal.ts";
import type { PendingEvent } from "../events/record.ts";
import { getAt, sealedFields, setAt, subjectOf } from "./_seal.ts";

/** The pending events made by {@linkcode forgottenImport}. */
const forgotten = new WeakSet<PendingEvent>();

/**
 * Whether a pending event is a forgotten record being imported (so not validated).
 *
 * @param event the pending event
 */
export function isForgottenImport(event: PendingEvent): boolean {
  return forgotten.has(event);
}

/**
 * Payloads as a forgotten record carries them to another store: each sealed field without
 * its ciphertext (whose key is gone anyway).
 *
 * @param data the payload as stored, sealed fields in it
 * @returns the payload with each sealed field forgotten
 */
export function forgottenData(data: unknown): unknown {
  let out = data;
  sealedFields(data, (field, path) => out = setAt(out, path, forgottenField(field.$subject)));
  return out;
}

/**
 * A record imported with `forgotten: true`, its personal fields forgotten: sealed fields
 * lose their ciphertext; at the current version, `null` personal fields are marked.
 *
 * @param events the definitions
 * @param event the checked event
 * @returns the event to write, not to be validated
 * @throws {EventValidationError} for a type without personal fields, a personal field that
 *   still holds a value, a record at an older version without its sealed fields, or one
 *   that holds none of its personal fields
 */
export function forgottenImport(events: AnyEventFactory, event: PendingEvent): PendingEvent {
  const definition = events.resolve(event.type);
  const personal = definition?.personalFields;
  const refuse = (path: string, message: string): never => {
    throw new EventValidationError(event.type, [{ path, message }]);
  };
  if (definition === undefined || personal === undefined) {
    return refuse("forgotten", `"${event.type}" has no personal fields, so no record of it is forgotten`);
  }
  let sealed = false;
  sealedFields(event.data, () => void (sealed = true));
  let data = event.data;
  if (sealed) data = forgottenData(event.data);
  else if (event.version !== undefined && event.version !== definition.currentVersion) {
    refuse(
      "data",
      `a forgotten record at version ${event.version} (the current one is ${definition.currentVersion}) ` +
        "is imported with its sealed fields, as the adapter stores them",
    );
  } else {
    const subject = subjectOf(event.type, personal, event.data);
    for (const path of personal.paths) {
      const value = getAt(event.data, path);
      if (value === undefined) continue;
      if (value !== null) {
        refuse(`data.${path.join(".")}`, "the record is forgotten, so its personal fields are null");
      }
      data = setAt(data, path, forgottenField(subject));
      sealed = true;
    }
    if (!sealed) refuse("data", "the record is forgotten, but holds none of its personal fields");
  }
  const out = { ...event, data };
  forgotten.add(out);
  return out;
}
