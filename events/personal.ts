/**
 * Personal fields of an event, for crypto-shredding: which fields of `data` hold personal
 * data and whose it is (the subject). The store encrypts those fields under the subject's
 * key before anything is written, and `store.forget(subject)` destroys that key.
 *
 * @module
 */

/** Which fields of an event's data are personal, and whose they are. */
export interface PersonalFields<TData = unknown> {
  /** The subject (a person, a tenant) whose data the fields are: a non-empty string. */
  readonly subject: (data: TData) => string;
  /** The fields: paths into `data`, dot-separated for nested ones (`"address.street"`). */
  readonly fields: readonly string[];
}

/** A personal field as stored: its value encrypted under the subject's key. */
export interface SealedField {
  /** Base64 of the 12-byte IV followed by the AES-256-GCM ciphertext and tag. */
  readonly $sealed: string;
  /** The subject whose key sealed it. */
  readonly $subject: string;
  /** Which of the subject's keys sealed it (a key made after a forget is another one). */
  readonly $key: string;
}

/**
 * The `$key` of a personal field imported forgotten (a record read after `forget` and
 * imported elsewhere): no key has it, so the field reads as `null`, `forgotten: true`.
 */
export const FORGOTTEN_KEY = "";

/**
 * A personal field that was forgotten, as stored by an import: no ciphertext, no key.
 *
 * @param subject whose field it was
 * @returns the sealed field
 */
export function forgottenField(subject: string): SealedField {
  return { $sealed: "", $subject: subject, $key: FORGOTTEN_KEY };
}

/**
 * Checks a `personal()` specification.
 *
 * @param type the event type, for errors
 * @param spec what was given
 * @returns the specification, with its paths split
 * @throws {TypeError} for a missing subject function or a bad field path
 */
export function checkPersonal(type: string, spec: unknown): PersonalFields & { readonly paths: string[][] } {
  const given = spec as Partial<PersonalFields> | null;
  if (typeof given?.subject !== "function") {
    throw new TypeError(`personal() of event "${type}" needs subject: (data) => string`);
  }
  if (!Array.isArray(given.fields) || given.fields.length === 0) {
    throw new TypeError(`personal() of event "${type}" needs fields: a non-empty list of paths into data`);
  }
  const paths = given.fields.map((field) => {
    const steps = typeof field === "string" ? field.split(".") : [];
    if (steps.length === 0 || steps.some((step) => step === "" || step === "__proto__")) {
      throw new TypeError(`personal() of event "${type}": ${JSON.stringify(field)} is not a path into data`);
    }
    return steps;
  });
  return { subject: given.subject, fields: [...given.fields], paths };
}

/**
 * Whether a value is a sealed field.
 *
 * @param value anything stored in data
 */
export function isSealed(value: unknown): value is SealedField {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as SealedField).$sealed === "string" &&
    typeof (value as SealedField).$subject === "string" &&
    typeof (value as SealedField).$key === "string" && Object.keys(value).length === 3;
}

/**
 * The records a store handed out with personal fields opened (or forgotten). A fold that
 * folds one of them never saves a snapshot: the state could keep the cleartext, beyond
 * the reach of `forget`.
 */
export const PERSONAL_RECORDS: WeakSet<object> = new WeakSet();
