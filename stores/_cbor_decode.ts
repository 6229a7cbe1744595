/**
 * The CBOR decoder of the payload codec (RFC 8949). It reads what {@linkcode encodeCbor}
 * writes and what cbor-x wrote for version 0.1 stores: maps with text keys as plain
 * objects (an own `__proto__` key stays an own key), tag 259 maps as `Map`, 64-bit
 * integers as `bigint`, byte strings as `Uint8Array`. Anything else (an unknown tag, a
 * simple value, bytes after the value, invalid UTF-8, nesting deeper than
 * {@linkcode MAX_CBOR_DEPTH}) is an error rather than a guess.
 *
 * @module
 */

import { MAX_CBOR_DEPTH } from "./_cbor_encode.ts";
import {
  TAG_BIGINT,
  TAG_DATE_EPOCH,
  TAG_DATE_STRING,
  TAG_MAP,
  TAG_NEGATIVE_BIGINT,
  TAG_SELF_DESCRIBED,
  TAG_SET,
  TYPED_ARRAY_OF_TAG,
} from "./_cbor_tags.ts";

const fromUtf8 = new TextDecoder("utf-8", { fatal: true });
const BREAK = Symbol("break");
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

const EMPTY = new Uint8Array(0);
let source: Uint8Array = EMPTY;
let view: DataView = new DataView(source.buffer);
let at = 0;
let depth = 0;

function malformed(message: string): never {
  throw new RangeError(`Malformed CBOR at byte ${at}: ${message}`);
}

function need(bytes: number): void {
  if (at + bytes > source.length) malformed("unexpected end of data");
}

/** Reads the argument of a head whose additional information is `info`. */
function argument(info: number): number | bigint {
  if (info < 24) return info;
  switch (info) {
    case 24:
      need(1);
      return source[at++];
    case 25:
      need(2);
      at += 2;
      return view.getUint16(at - 2);
    case 26:
      need(4);
      at += 4;
      return view.getUint32(at - 4);
    case 27:
      need(8);
      at += 8;
      return view.getBigUint64(at - 8);
    default:
      return malformed(`reserved additional information ${info}`);
  }
}

function length(info: number): number {
  const n = argument(info);
  if (typeof n === "bigint") malformed("a length over 2^32");
  return n as number;
}

function text(bytes: number): string {
  need(bytes);
  const end = at + bytes;
  if (bytes < 32) {
    let out = "";
    for (let i = at; i < end; i++) {
      const c = source[i];
      if (c >= 0x80) return slowText(end);
      out += String.fromCharCode(c);
    }
    at = end;
    return out;
  }
  return slowText(end);
}

function slowText(end: number): string {
  try {
    return fromUtf8.decode(source.subarray(at, end));
  } catch {
    return malformed("a text string that is not UTF-8");
  } finally {
    at = end;
  }
}

function half(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function simple(info: number): unknown {
  switch (info) {
    case 20:
      return false;
    case 21:
      return true;
    case 22:
      return null;
    case 23:
      return undefined;
    case 25:
      need(2);
      at += 2;
      return half(view.getUint16(at - 2));
    case 26:
      need(4);
      at += 4;
      return view.getFloat32(at - 4);
    case 27:
      need(8);
      at += 8;
      return view.getFloat64(at - 8);
    case 31:
      return BREAK;
    default:
      return malformed(`simple value ${info}, which no payload holds`);
  }
}

function items(info: number, each: (index: number) => void): void {
  if (info === 31) {
    for (let i = 0;; i++) {
      need(1);
      if (source[at] === 0xff) {
        at++;
        return;
      }
      each(i);
    }
  }
  const n = length(info);
  for (let i = 0; i < n; i++) each(i);
}

function value(): unknown {
  need(1);
  const initial = source[at++];
  const major = initial >> 5;
  const info = initial & 0x1f;
  switch (major) {
    case 0:
      return argument(info);
    case 1: {
      const n = argument(info);
      return typeof n === "bigint" ? -1n - n : -1 - n;
    }
    case 2: {
      if (info === 31) return malformed("an indefinite-length byte string");
      const n = length(info);
      need(n);
      // A copy, and a plain Uint8Array even when the source is a Node Buffer (postgres.js).
      const bytes = new Uint8Array(n);
      bytes.set(source.subarray(at, at + n));
      at += n;
      return bytes;
    }
    case 3:
      if (info === 31) return malformed("an indefinite-length text string");
      return text(length(info));
    case 4:
      return nested(() => {
        const array: unknown[] = [];
        items(info, () => array.push(entry()));
        return array;
      });
    case 5:
      return nested(() => map(info));
    case 6:
      return tagged(argument(info));
    default:
      return simple(info);
  }
}

/** A value inside a container: a break code there is malformed. */
function entry(): unknown {
  const item = value();
  if (item === BREAK) malformed("a break code outside an indefinite-length container");
  return item;
}

function nested(read: () => unknown): unknown {
  if (++depth > MAX_CBOR_DEPTH) malformed(`nested deeper than ${MAX_CBOR_DEPTH} levels`);
  const result = read();
  depth--;
  return result;
}

/** A map with text keys is a plain object; one with other keys a `Map`. */
function map(info: number): unknown {
  const object: Record<string, unknown> = {};
  let other: Map<unknown, unknown> | undefined;
  items(info, () => {
    const key = entry();
    const item = entry();
    if (other === undefined && typeof key === "string") {
      if (key === "__proto__") {
        Object.defineProperty(object, key, {
          value: item,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else object[key] = item;
      return;
    }
    other ??= new Map(Object.entries(object));
    other.set(key, item);
  });
  return other ?? object;
}

function tagged(tag: number | bigint): unknown {
  if (tag === TAG_MAP) {
    // Tag 259 says the map is a Map, whatever its keys.
    need(1);
    const initial = source[at++];
    if (initial >> 5 !== 5) malformed("tag 259 on a non-map");
    return nested(() => {
      const result = new Map<unknown, unknown>();
      items(initial & 0x1f, () => {
        const key = entry();
        result.set(key, entry());
      });
      return result;
    });
  }
  // Tags nest like containers: a long chain of them must not exhaust the stack.
  const content = nested(entry);
  switch (tag) {
    case TAG_DATE_EPOCH:
      if (typeof content !== "number") malformed("tag 1 on a non-number");
      return new Date(Math.round((content as number) * 1000));
    case TAG_DATE_STRING:
      if (typeof content !== "string") malformed("tag 0 on a non-string");
      return new Date(content as string);
    case TAG_BIGINT:
    case TAG_NEGATIVE_BIGINT: {
      if (!(content instanceof Uint8Array)) malformed(`tag ${tag} on a non-byte-string`);
      // From hex digits: linear in the size, where shifting byte by byte is quadratic.
      let hex = "0x0";
      for (const byte of content as Uint8Array) hex += HEX[byte];
      const n = BigInt(hex);
      return tag === TAG_BIGINT ? n : -1n - n;
    }
    case TAG_SET:
      if (!Array.isArray(content)) malformed("tag 258 on a non-array");
      return new Set(content as unknown[]);
    case TAG_SELF_DESCRIBED:
      return content;
    default: {
      const type = typeof tag === "number" ? TYPED_ARRAY_OF_TAG.get(tag) : undefined;
      if (type === undefined) return malformed(`unknown tag ${tag}`);
      if (!(content instanceof Uint8Array)) malformed(`tag ${tag} on a non-byte-string`);
      const bytes = content as Uint8Array;
      if (bytes.byteLength % type.BYTES_PER_ELEMENT !== 0) malformed(`tag ${tag} with a partial element`);
      return new type(
        bytes.buffer as ArrayBuffer,
        bytes.byteOffset,
        bytes.byteLength / type.BYTES_PER_ELEMENT,
      );
    }
  }
}

/**
 * Decodes one CBOR value that fills `bytes`.
 *
 * @param bytes the encoded value
 * @returns the value
 * @throws {RangeError} for bytes that are not one well-formed value this codec reads
 */
export function decodeCbor(bytes: Uint8Array): unknown {
  source = bytes;
  view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  at = 0;
  depth = 0;
  try {
    const result = entry();
    if (at !== bytes.length) malformed(`${bytes.length - at} bytes after the value`);
    return result;
  } finally {
    // Let the decoded buffer go (a postgres.js page, say).
    source = EMPTY;
    view = new DataView(EMPTY.buffer);
  }
}
