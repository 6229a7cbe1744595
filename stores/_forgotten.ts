/**
 * Imports of forgotten records. A record read after `store.forget(subject)` (its personal
 * fields `null`, `forgotten: true`) may be imported into another store (by sync, or by
 * `import()` of records read elsewhere), and stays forgotten there: each of its personal
 * fields is stored as a sealed field without ciphertext or key, which reads back as `null`,
 * with `forgotten: true`, in any store. Such a record is checked against the schemas as it
 * reads, its personal fields aside (they are gone).
 *
 * @module
 */

import { DecodeError, EventValidationError } from "../errors.ts";
import type { AnyEventFactory } from "../events/factory.ts";
import { forgottenField, isSealed, type PersonalFields } from "../events/personal.ts";
import { validateEvent } from "../events/validate.ts";
import type { PendingEvent } from "../events/record.ts";
import { getAt, replaceSealed, sealedFields, setAt } from "./_data_paths.ts";

/** The pending events made by {@linkcode forgottenImport}. */
const forgotten = new WeakSet<PendingEvent>();

/**
 * Whether a pending event is a forgotten record being imported (checked by
 * {@linkcode checkForgotten}, not by the schemas alone).
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
  return replaceSealed(data, (field) => forgottenField(field.$subject));
}

/**
 * Payloads as a forgotten record reads: each sealed field `null`.
 *
 * @param data the payload, sealed fields in it
 * @returns the payload with each sealed field `null`
 */
export function cleared(data: unknown): unknown {
  return replaceSealed(data, () => null);
}

/** The subject a definition gives a forgotten payload, or `""` when it needs a forgotten field. */
function subjectOrNone(personal: PersonalFields, data: unknown): string {
  try {
    const subject = personal.subject(data);
    return typeof subject === "string" ? subject : "";
  } catch {
    return "";
  }
}

/**
 * A record imported with `forgotten: true`, its personal fields forgotten: sealed fields
 * lose their ciphertext; at the current version, `null` personal fields are marked too.
 * Where the type has no personal fields, the record is stored as it reads (sealed fields
 * `null`) and checked like any other.
 *
 * @param events the definitions
 * @param event the checked event
 * @returns the event to write
 * @throws {EventValidationError} for a personal field that still holds a value, a sealed
 *   field where the definition has no personal field, a record at an older version without
 *   its sealed fields, or one that holds none of its personal fields
 */
export function forgottenImport(events: AnyEventFactory, event: PendingEvent): PendingEvent {
  const definition = events.resolve(event.type);
  const personal = definition?.personalFields;
  if (definition === undefined || personal === undefined) return { ...event, data: cleared(event.data) };
  const refuse = (path: readonly string[] | string, message: string): never => {
    const at = typeof path === "string" ? path : `data.${path.join(".")}`;
    throw new EventValidationError(event.type, [{ path: at, message }]);
  };
  let data = event.data;
  if (event.version !== undefined && event.version !== definition.currentVersion) {
    // The paths name the current shape: an older one is known by its sealed fields only.
    data = forgottenData(event.data);
    if (data === event.data) {
      refuse(
        "data",
        `a forgotten record at version ${event.version} (the current one is ${definition.currentVersion}) ` +
          "is imported with its sealed fields, as the adapter stores them",
      );
    }
  } else {
    const paths = new Set(personal.paths.map((path) => path.join(".")));
    sealedFields(event.data, (_, path) => {
      if (!paths.has(path.join("."))) {
        refuse(path, "a sealed field where the definition has no personal field");
      }
    });
    let subject: string | undefined;
    for (const path of personal.paths) {
      const value = getAt(event.data, path);
      if (value === undefined) continue;
      if (value !== null && !isSealed(value)) {
        refuse(path, "the record is forgotten, so its personal fields are null");
      }
      const whose = isSealed(value) ? value.$subject : (subject ??= subjectOrNone(personal, event.data));
      data = setAt(data, path, forgottenField(whose));
    }
    if (data === event.data) refuse("data", "the record is forgotten, but holds none of its personal fields");
  }
  const out = { ...event, data };
  forgotten.add(out);
  return out;
}

/**
 * Checks a forgotten record about to be imported, as a write checks any: its payloads as
 * they will read (personal fields `null`) pass the schemas, the personal fields aside; at
 * an older version, once upcast, unless the upcast fails on a forgotten field (the record
 * then reads at its stored version, as it does at its source).
 *
 * @param events the definitions
 * @param upcastCheck the store's check of an import at an older version
 * @param event the event made by {@linkcode forgottenImport}
 * @param index its index in the call, for errors
 * @throws {EventValidationError} naming every invalid path outside the personal fields
 */
export async function checkForgotten(
  events: AnyEventFactory,
  upcastCheck: (event: PendingEvent, index: number) => Promise<void>,
  event: PendingEvent,
  index: number,
): Promise<void> {
  const definition = events.resolve(event.type)!;
  const older = event.version !== undefined && event.version !== definition.currentVersion;
  const read = { ...event, data: cleared(event.data) };
  try {
    if (older) await upcastCheck(read, index);
    else await validateEvent(events, definition.type, read.data, read.meta);
  } catch (error) {
    if (older && error instanceof DecodeError) return;
    if (!(error instanceof EventValidationError)) throw error;
    const personal = definition.personalFields!.paths.map((path) => `data.${path.join(".")}`);
    const left = error.issues.filter((issue) =>
      !personal.some((path) => issue.path === path || issue.path.startsWith(`${path}.`))
    );
    if (left.length > 0) throw new EventValidationError(error.type, left);
  }
}
