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
 * @module
 */

import { Buffer } from "node:buffer";

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
    return [root, ...this.path].join(".");
  }
}

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
  return view instanceof ArrayBuffer
    ? Buffer.from(view).toString("base64")
    : Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString("base64");
}

function fromBase64(text: unknown, tag: string): Uint8Array<ArrayBuffer> {
  if (typeof text !== "string" || text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new TaggedJsonError(`${tag} needs a base64 string`);
  }
  // A copy of its own, so the value owns exactly its bytes (Buffer may share a pool).
  const decoded = Buffer.from(text, "base64");
  const bytes = new Uint8Array(decoded.byteLength);
  bytes.set(decoded);
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

function encodeObject(value: object): unknown {
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = withKey(i, () => encode(value[i]));
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
      entries.push(withKey(i++, () => [encode(k), encode(v)]));
    }
    return tagged("$map", entries);
  }
  if (value instanceof Set) {
    let i = 0;
    const items: unknown[] = [];
    for (const item of value) items.push(withKey(i++, () => encode(item)));
    return tagged("$set", items);
  }
  if (value instanceof RegExp) return tagged("$regexp", [value.source, value.flags]);
  if (value instanceof Error) return tagged("$error", [value.name, value.message]);
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (const key of keys) {
    const encoded = withKey(key, () => encode((value as Record<string, unknown>)[key]));
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
 * @throws {TaggedJsonError} for a function, a symbol or an unsupported binary view
 */
export function encode(value: unknown): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return encodeNumber(value);
    case "bigint":
      return tagged("$bigint", value.toString());
    case "undefined":
      return tagged("$undefined", true);
    case "object":
      return value === null ? null : encodeObject(value);
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

function decodeTag(tag: string, value: unknown): unknown {
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
          map.set(decode(k), decode(v));
        });
      });
      return map;
    }
    case "$set": {
      if (!Array.isArray(value)) throw new TaggedJsonError("$set needs an array");
      return new Set(value.map((item, i) => withKey(i, () => decode(item))));
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
      return decodeFields(value as Record<string, unknown>);
    default:
      throw new TaggedJsonError(
        `unknown tag ${JSON.stringify(tag)} (an object whose only key starts with $)`,
      );
  }
}

function decodeFields(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const decoded = withKey(key, () => decode(value[key]));
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
 * @throws {TaggedJsonError} for an unknown tag or a tag with a malformed value
 */
export function decode(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = withKey(i, () => decode(value[i]));
    return out;
  }
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0].startsWith("$")) {
    const tag = keys[0];
    return withKey(tag, () => decodeTag(tag, (value as Record<string, unknown>)[tag]));
  }
  return decodeFields(value as Record<string, unknown>);
}
