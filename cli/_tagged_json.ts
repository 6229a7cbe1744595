/**
 * Tagged JSON: how payloads that JSON cannot hold survive an NDJSON export. A value JSON
 * lacks becomes an object with one `$`-key naming what it was:
 *
 * | value | tagged form |
 * |---|---|
 * | `Date` | `{"$date": "2026-01-01T00:00:00.000Z"}` (`null` for an invalid date) |
 * | `bigint` | `{"$bigint": "-12345678901234567890"}` |
 * | `NaN`, `±Infinity`, `-0` | `{"$number": "NaN"}` |
 * | `undefined` | `{"$undefined": true}` |
 * | `Uint8Array` | `{"$bytes": "<base64>"}` |
 * | other typed arrays | `{"$typed": ["Float64Array", "<base64 of its bytes>"]}` |
 * | `ArrayBuffer` | `{"$arraybuffer": "<base64>"}` |
 * | `Map` | `{"$map": [[key, value], ...]}` |
 * | `Set` | `{"$set": [value, ...]}` |
 * | `RegExp` | `{"$regexp": ["source", "flags"]}` |
 * | `Error` | `{"$error": ["name", "message"]}` |
 * | an object whose only key starts with `$` | `{"$object": {...}}` (an escape) |
 *
 * Everything else is plain JSON, so most payloads read as they are.
 *
 * Both directions are bounded, so one hostile line costs little: values nest at most
 * {@linkcode MAX_DEPTH} containers deep and a `$bigint` holds at most
 * {@linkcode MAX_BIGINT_DIGITS} digits. Beyond either, a {@linkcode TaggedJsonError}
 * says so (never a bare `RangeError` from a blown stack).
 *
 * @module
 */

import { MAX_PAYLOAD_DEPTH } from "../stores/_fidelity.ts";
import { count } from "./_format.ts";

/** A value that cannot be tagged, or a tagged form that does not decode; names where. */
export class TaggedJsonError extends Error {
  /** The keys from the payload's root to the value. */
  readonly path: (string | number)[];

  /**
   * @param message what was wrong
   * @param path where (filled in on the way out)
   */
  constructor(message: string, path: (string | number)[] = []) {
    super(message);
    this.name = "TaggedJsonError";
    this.path = path;
  }

  /**
   * The path joined with dots, under a root name.
   *
   * @param root `data` or `meta`
   * @returns for example `data.items.3`
   */
  where(root: string): string {
    const path = this.path.length > 12
      ? [...this.path.slice(0, 6), `(${this.path.length - 8} more)`, ...this.path.slice(-2)]
      : this.path;
    return [root, ...path].join(".");
  }
}

/**
 * How many containers (arrays, objects, maps, sets) a payload may nest: the stores' own
 * limit. Deeper values are refused on export and import alike, before recursion could
 * exhaust the stack.
 */
export const MAX_DEPTH: number = MAX_PAYLOAD_DEPTH;

/**
 * The most decimal digits a tagged `$bigint` may have. Converting decimal text to a
 * bigint and storing it costs more than linear time; beyond about 10^10000 a line could
 * keep the CPU busy for seconds, and no domain value needs more.
 */
export const MAX_BIGINT_DIGITS: number = 10_000;

type TypedArrayConstructor = {
  new (buffer: ArrayBuffer): ArrayBufferView;
  readonly BYTES_PER_ELEMENT: number;
};

const TYPED: Record<string, TypedArrayConstructor | undefined> = {
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  Float16Array: (globalThis as { Float16Array?: TypedArrayConstructor }).Float16Array,
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function toBase64(view: ArrayBufferView | ArrayBuffer): string {
  const bytes = view instanceof ArrayBuffer
    ? new Uint8Array(view)
    : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  // `btoa` (in Deno and browsers alike) takes one char per byte, built a chunk at a time.
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: unknown, tag: string): Uint8Array<ArrayBuffer> {
  if (typeof text !== "string" || text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new TaggedJsonError(`${tag} needs a base64 string`);
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function tagged(tag: string, value: unknown): Record<string, unknown> {
  return { [tag]: value };
}

function withKey<T>(key: string | number, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof TaggedJsonError) error.path.unshift(key);
    throw error;
  }
}

function encodeNumber(n: number): unknown {
  if (Number.isFinite(n)) return Object.is(n, -0) ? tagged("$number", "-0") : n;
  return tagged("$number", String(n));
}

function tooDeep(): TaggedJsonError {
  return new TaggedJsonError(`nested deeper than ${MAX_DEPTH} levels (the most a payload may nest)`);
}

function encodeBigint(value: bigint): unknown {
  const digits = value.toString();
  if (digits.length - (value < 0n ? 1 : 0) > MAX_BIGINT_DIGITS) {
    throw new TaggedJsonError(`a bigint of more than ${count(MAX_BIGINT_DIGITS)} digits cannot be exported`);
  }
  return tagged("$bigint", digits);
}

function encodeObject(value: object, depth: number): unknown {
  if (depth >= MAX_DEPTH) throw tooDeep();
  const child = (item: unknown): unknown => encodeValue(item, depth + 1);
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = withKey(i, () => child(value[i]));
    return out;
  }
  if (value instanceof Date) {
    return tagged("$date", Number.isNaN(value.getTime()) ? null : value.toISOString());
  }
  if (value instanceof Uint8Array && !(value instanceof Uint8ClampedArray)) {
    return tagged("$bytes", toBase64(value));
  }
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    if (TYPED[name] === undefined) throw new TaggedJsonError(`cannot export a ${name}`);
    return tagged("$typed", [name, toBase64(value)]);
  }
  if (value instanceof ArrayBuffer) return tagged("$arraybuffer", toBase64(value));
  if (value instanceof Map) {
    let i = 0;
    const entries: unknown[] = [];
    for (const [k, v] of value) {
      entries.push(withKey(i++, () => [child(k), child(v)]));
    }
    return tagged("$map", entries);
  }
  if (value instanceof Set) {
    let i = 0;
    const items: unknown[] = [];
    for (const item of value) items.push(withKey(i++, () => child(item)));
    return tagged("$set", items);
  }
  if (value instanceof RegExp) return tagged("$regexp", [value.source, value.flags]);
  if (value instanceof Error) return tagged("$error", [value.name, value.message]);
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (const key of keys) {
    const encoded = withKey(key, () => child((value as Record<string, unknown>)[key]));
    if (key === "__proto__") {
      Object.defineProperty(out, key, { value: encoded, enumerable: true, writable: true });
    } else out[key] = encoded;
  }
  return keys.length === 1 && keys[0].startsWith("$") ? tagged("$object", out) : out;
}

/**
 * Turns a payload into a value `JSON.stringify` keeps exactly, tagging what JSON lacks.
 *
 * @param value a decoded payload
 * @returns the tagged form
 * @throws {TaggedJsonError} for a function, a symbol, an unsupported binary view, a value
 *   nested deeper than {@linkcode MAX_DEPTH} or a bigint longer than {@linkcode MAX_BIGINT_DIGITS} digits
 */
export function encode(value: unknown): unknown {
  return encodeValue(value, 0);
}

function encodeValue(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return encodeNumber(value);
    case "bigint":
      return encodeBigint(value);
    case "undefined":
      return tagged("$undefined", true);
    case "object":
      return value === null ? null : encodeObject(value, depth);
    default:
      throw new TaggedJsonError(`cannot export a ${typeof value}`);
  }
}

function pair(value: unknown, tag: string): [unknown, unknown] {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new TaggedJsonError(`${tag} needs a [first, second] pair`);
  }
  return [value[0], value[1]];
}

function strings(value: unknown, tag: string): [string, string] {
  const [a, b] = pair(value, tag);
  if (typeof a !== "string" || typeof b !== "string") throw new TaggedJsonError(`${tag} needs two strings`);
  return [a, b];
}

function decodeTag(tag: string, value: unknown, depth: number): unknown {
  const child = (item: unknown): unknown => decodeValue(item, depth + 1);
  switch (tag) {
    case "$date": {
      if (value === null) return new Date(NaN);
      const date = typeof value === "string" ? new Date(value) : new Date(NaN);
      if (Number.isNaN(date.getTime())) throw new TaggedJsonError("$date needs an ISO-8601 string or null");
      return date;
    }
    case "$bigint":
      if (typeof value !== "string" || !/^-?\d+$/.test(value)) {
        throw new TaggedJsonError("$bigint needs a string of decimal digits");
      }
      if (value.length - (value.startsWith("-") ? 1 : 0) > MAX_BIGINT_DIGITS) {
        throw new TaggedJsonError(
          `$bigint has ${count(value.length)} characters; at most ${
            count(MAX_BIGINT_DIGITS)
          } digits are accepted`,
        );
      }
      return BigInt(value);
    case "$number": {
      const special: Record<string, number> = {
        "NaN": NaN,
        "Infinity": Infinity,
        "-Infinity": -Infinity,
        "-0": -0,
      };
      if (typeof value !== "string" || !(value in special)) {
        throw new TaggedJsonError('$number needs "NaN", "Infinity", "-Infinity" or "-0"');
      }
      return special[value];
    }
    case "$undefined":
      if (value !== true) throw new TaggedJsonError("$undefined needs true");
      return undefined;
    case "$bytes":
      return fromBase64(value, tag);
    case "$arraybuffer":
      return fromBase64(value, tag).buffer;
    case "$typed": {
      const [name, data] = strings(value, tag);
      const Typed = TYPED[name];
      if (Typed === undefined) {
        throw new TaggedJsonError(`$typed: unknown typed array ${JSON.stringify(name)}`);
      }
      const bytes = fromBase64(data, tag);
      if (bytes.byteLength % Typed.BYTES_PER_ELEMENT !== 0) {
        throw new TaggedJsonError(`$typed: ${bytes.byteLength} bytes do not make whole ${name} elements`);
      }
      return new Typed(bytes.buffer);
    }
    case "$map": {
      if (!Array.isArray(value)) throw new TaggedJsonError("$map needs an array of [key, value] pairs");
      const map = new Map();
      value.forEach((entry, i) => {
        withKey(i, () => {
          const [k, v] = pair(entry, tag);
          map.set(child(k), child(v));
        });
      });
      return map;
    }
    case "$set": {
      if (!Array.isArray(value)) throw new TaggedJsonError("$set needs an array");
      return new Set(value.map((item, i) => withKey(i, () => child(item))));
    }
    case "$regexp": {
      const [source, flags] = strings(value, tag);
      try {
        return new RegExp(source, flags);
      } catch {
        throw new TaggedJsonError("$regexp holds an invalid regular expression");
      }
    }
    case "$error": {
      const [name, message] = strings(value, tag);
      const error = new Error(message);
      error.name = name;
      return error;
    }
    case "$object":
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new TaggedJsonError("$object needs an object");
      }
      return decodeFields(value as Record<string, unknown>, depth);
    default:
      throw new TaggedJsonError(
        `unknown tag ${JSON.stringify(tag)} (an object whose only key starts with $)`,
      );
  }
}

function decodeFields(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const decoded = withKey(key, () => decodeValue(value[key], depth + 1));
    if (key === "__proto__") {
      Object.defineProperty(out, key, { value: decoded, enumerable: true, writable: true });
    } else out[key] = decoded;
  }
  return out;
}

/**
 * Turns a tagged form (as `JSON.parse` returns it) back into the payload.
 *
 * @param value the parsed JSON
 * @returns the payload
 * @throws {TaggedJsonError} for an unknown tag, a tag with a malformed value, a value nested
 *   deeper than {@linkcode MAX_DEPTH} or a `$bigint` longer than {@linkcode MAX_BIGINT_DIGITS} digits
 */
export function decode(value: unknown): unknown {
  return decodeValue(value, 0);
}

function decodeValue(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DEPTH) throw tooDeep();
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = withKey(i, () => decodeValue(value[i], depth + 1));
    return out;
  }
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0].startsWith("$")) {
    const tag = keys[0];
    // A tag wraps its value without nesting it further in the payload's own terms.
    return withKey(tag, () => decodeTag(tag, (value as Record<string, unknown>)[tag], depth));
  }
  return decodeFields(value as Record<string, unknown>, depth);
}
