/**
 * Paths into event payloads: reading and setting a value at one (copying, never changing
 * the caller's data), and finding the sealed (personal) fields a payload holds.
 *
 * @module
 */

import { isSealed, type SealedField } from "../events/personal.ts";

/**
 * Sets the value at `path`, copying the objects and arrays along it, so the caller's data
 * is never changed.
 *
 * @param data the payload
 * @param path the steps into it
 * @param value the value to set
 * @returns the new payload
 */
export function setAt(data: unknown, path: readonly string[], value: unknown): unknown {
  const [head, ...rest] = path;
  const copy = (Array.isArray(data) ? [...data] : { ...(data as object) }) as Record<string, unknown>;
  copy[head] = rest.length === 0 ? value : setAt(copy[head], rest, value);
  return copy;
}

/**
 * The value at `path` in `data`.
 *
 * @param data the payload
 * @param path the steps into it
 * @returns the value; `undefined` where a step is missing
 */
export function getAt(data: unknown, path: readonly string[]): unknown {
  let value = data;
  for (const step of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, step)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/**
 * Walks `data` and calls `visit` for every sealed field, with its path.
 *
 * @param data the payload
 * @param visit called with each sealed field and its path
 * @param path the path of `data` itself
 */
export function sealedFields(
  data: unknown,
  visit: (field: SealedField, path: string[]) => void,
  path: string[] = [],
): void {
  if (typeof data !== "object" || data === null) return;
  if (isSealed(data)) return visit(data, path);
  if (Array.isArray(data)) return data.forEach((item, i) => sealedFields(item, visit, [...path, String(i)]));
  for (const [key, value] of Object.entries(data)) sealedFields(value, visit, [...path, key]);
}

/**
 * The payload with every sealed field replaced.
 *
 * @param data the payload
 * @param by the value for a sealed field
 * @returns a copy with the replacements (`data` itself when it holds none)
 */
export function replaceSealed(data: unknown, by: (field: SealedField) => unknown): unknown {
  let out = data;
  sealedFields(data, (field, path) => out = setAt(out, path, by(field)));
  return out;
}
