/**
 * Checks of what a key holder is given (`contract/key_storage.ts`), shared by the memory,
 * SQLite and PostgreSQL adapters.
 *
 * @module
 */

/** The length of a data key: AES-256. */
export const KEY_LENGTH = 32;

/**
 * Refuses a subject that is not a non-empty string.
 *
 * @param subject what was given
 * @throws {TypeError} when it is not a non-empty string
 */
export function checkSubject(subject: unknown): asserts subject is string {
  if (typeof subject !== "string" || subject.length === 0) {
    throw new TypeError(`A key's subject must be a non-empty string, got ${describe(subject)}`);
  }
}

/**
 * Refuses a key that is not a `Uint8Array` of {@linkcode KEY_LENGTH} bytes.
 *
 * @param key what was given
 * @throws {TypeError} when it is not 32 bytes
 */
export function checkKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : describe(key);
    throw new TypeError(`A data key must be a Uint8Array of ${KEY_LENGTH} bytes, got ${got}`);
  }
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : value === null ? "null" : typeof value;
}
