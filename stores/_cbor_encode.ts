/**
 * The CBOR encoder of the payload codec (RFC 8949), written for exact round trips: `-0`,
 * `NaN` and `±Infinity` as half-precision floats, integers up to 2^32 in their shortest
 * form and larger numbers as doubles (so they never come back as `bigint`), `bigint`
 * always as a 64-bit integer or a tagged big number (so it never comes back as a number),
 * `undefined`, `Date`, `Map`, `Set` and typed arrays tagged. A function, a symbol, a lone
 * surrogate, a cycle or nesting deeper than {@linkcode MAX_CBOR_DEPTH} is a `TypeError`
 * naming the path; an instance of another class is written as its own enumerable fields.
 * The store's fidelity check refuses all of those in payloads earlier, with the event's type.
 *
 * @module
 */

import {
  TAG_BIGINT,
  TAG_DATE_EPOCH,
  TAG_MAP,
  TAG_NEGATIVE_BIGINT,
  TAG_SET,
  TYPED_ARRAY_TAGS,
  type TypedArrayClass,
} from "./_cbor_tags.ts";

/** How deep containers may nest, when encoding and when decoding. */
export const MAX_CBOR_DEPTH = 1000;

const utf8 = new TextEncoder();
const TWO_64 = 1n << 64n;

let target = new Uint8Array(8192);
let view = new DataView(target.buffer);
let at = 0;
let depth = 0;
let encoding = false;

function room(bytes: number): void {
  if (at + bytes <= target.length) return;
  let size = target.length * 2;
  while (size < at + bytes) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(target.subarray(0, at));
  target = grown;
  view = new DataView(target.buffer);
}

/** Writes a head: the major type and an argument below 2^32, in its shortest form. */
function head(major: number, n: number): void {
  room(5);
  const type = major << 5;
  if (n < 24) target[at++] = type | n;
  else if (n < 0x100) {
    target[at++] = type | 24;
    target[at++] = n;
  } else if (n < 0x10000) {
    target[at++] = type | 25;
    view.setUint16(at, n);
    at += 2;
  } else {
    target[at++] = type | 26;
    view.setUint32(at, n);
    at += 4;
  }
}

function fail(message: string, path: string): never {
  throw new TypeError(`CBOR cannot hold ${path === "" ? "the value" : path}: ${message}`);
}

function text(value: string, path: string): void {
  const length = value.length;
  if (length < 64) {
    // Short strings: encode by hand, the head sized for the worst case, then fixed up.
    room(2 + length * 3);
    const start = at;
    const headSize = length * 3 < 24 ? 1 : 2;
    let out = start + headSize;
    for (let i = 0; i < length; i++) {
      let c = value.charCodeAt(i);
      if (c < 0x80) target[out++] = c;
      else if (c < 0x800) {
        target[out++] = 0xc0 | (c >> 6);
        target[out++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const next = value.charCodeAt(i + 1);
        if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) fail("a lone surrogate in a string", path);
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        target[out++] = 0xf0 | (c >> 18);
        target[out++] = 0x80 | ((c >> 12) & 0x3f);
        target[out++] = 0x80 | ((c >> 6) & 0x3f);
        target[out++] = 0x80 | (c & 0x3f);
      } else {
        target[out++] = 0xe0 | (c >> 12);
        target[out++] = 0x80 | ((c >> 6) & 0x3f);
        target[out++] = 0x80 | (c & 0x3f);
      }
    }
    const bytes = out - start - headSize;
    if (bytes < 24) {
      if (headSize === 2) target.copyWithin(start + 1, start + 2, out--);
      target[start] = 0x60 | bytes;
    } else {
      target[start] = 0x78;
      target[start + 1] = bytes;
    }
    at = out;
    return;
  }
  if (!value.isWellFormed()) fail("a lone surrogate in a string", path);
  room(5 + length * 3);
  const start = at;
  at += 5;
  const { written } = utf8.encodeInto(value, target.subarray(at));
  at = start;
  head(3, written);
  target.copyWithin(at, start + 5, start + 5 + written);
  at += written;
}

function number(value: number): void {
  if (Number.isInteger(value) && value < 0x100000000 && value > -0x100000001 && !Object.is(value, -0)) {
    if (value >= 0) head(0, value);
    else head(1, -1 - value);
    return;
  }
  room(9);
  if (value !== value || value === Infinity || value === -Infinity || value === 0) {
    // NaN, ±Infinity and -0 in half precision, as RFC 8949 prefers.
    target[at++] = 0xf9;
    view.setUint16(
      at,
      value !== value ? 0x7e00 : value === Infinity ? 0x7c00 : value === 0 ? 0x8000 : 0xfc00,
    );
    at += 2;
    return;
  }
  target[at++] = 0xfb;
  view.setFloat64(at, value);
  at += 8;
}

function bigint(value: bigint): void {
  if (value >= -TWO_64 && value < TWO_64) {
    room(9);
    const negative = value < 0n;
    target[at++] = negative ? 0x3b : 0x1b;
    view.setBigUint64(at, negative ? -1n - value : value);
    at += 8;
    return;
  }
  const negative = value < 0n;
  // From the hex digits: linear in the size, where shifting byte by byte is quadratic.
  const digits = (negative ? -1n - value : value).toString(16);
  const padded = digits.length % 2 === 0 ? digits : `0${digits}`;
  const bytes = new Uint8Array(padded.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(padded.substr(i * 2, 2), 16);
  head(6, negative ? TAG_NEGATIVE_BIGINT : TAG_BIGINT);
  byteString(bytes);
}

function byteString(bytes: Uint8Array): void {
  head(2, bytes.byteLength);
  room(bytes.byteLength);
  target.set(bytes, at);
  at += bytes.byteLength;
}

function item(value: unknown, path: string): void {
  switch (typeof value) {
    case "string":
      return text(value, path);
    case "number":
      return number(value);
    case "boolean":
      room(1);
      target[at++] = value ? 0xf5 : 0xf4;
      return;
    case "undefined":
      room(1);
      target[at++] = 0xf7;
      return;
    case "bigint":
      return bigint(value);
    case "object":
      if (value === null) {
        room(1);
        target[at++] = 0xf6;
        return;
      }
      if (++depth > MAX_CBOR_DEPTH) fail(`nested deeper than ${MAX_CBOR_DEPTH} levels (or circular)`, path);
      container(value, path);
      depth--;
      return;
    default:
      fail(`a ${typeof value} is not data`, path);
  }
}

/** Writes an object's own enumerable fields as a map with text keys. */
function fields(value: object, path: string): void {
  const keys = Object.keys(value);
  head(5, keys.length);
  for (const key of keys) {
    text(key, `${path}.<key ${JSON.stringify(key.slice(0, 20))}>`);
    item((value as Record<string, unknown>)[key], `${path}.${key}`);
  }
}

function container(value: object, path: string): void {
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    fields(value, path);
  } else if (proto === Array.prototype) {
    const array = value as unknown[];
    head(4, array.length);
    for (let i = 0; i < array.length; i++) item(array[i], `${path}[${i}]`);
  } else if (proto === Date.prototype) {
    head(6, TAG_DATE_EPOCH);
    number((value as Date).getTime() / 1000);
  } else if (proto === Map.prototype) {
    head(6, TAG_MAP);
    head(5, (value as Map<unknown, unknown>).size);
    for (const [key, entry] of value as Map<unknown, unknown>) {
      item(key, `${path}.<key>`);
      item(entry, `${path}.<entry>`);
    }
  } else if (proto === Set.prototype) {
    head(6, TAG_SET);
    head(4, (value as Set<unknown>).size);
    let i = 0;
    for (const member of value as Set<unknown>) item(member, `${path}.<member ${i++}>`);
  } else {
    const tag = TYPED_ARRAY_TAGS.get(proto.constructor as TypedArrayClass);
    if (tag === undefined || proto !== (proto.constructor as TypedArrayClass).prototype) {
      // A class instance (a value object in a reducer's state) is written as its own
      // enumerable fields, as cbor-x did; payloads never get here, the store's fidelity
      // check refuses them first.
      return fields(value, path);
    }
    const array = value as ArrayBufferView;
    head(6, tag);
    byteString(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  }
}

/**
 * Encodes a value as CBOR.
 *
 * @param value the value
 * @returns its bytes (a new array)
 * @throws {TypeError} for what CBOR cannot hold exactly, naming the path
 */
export function encodeCbor(value: unknown): Uint8Array {
  if (encoding) return nestedEncode(value);
  encoding = true;
  try {
    return written(value);
  } finally {
    encoding = false;
    if (target.length > 1 << 20) {
      // Do not keep a large buffer alive after one large payload.
      target = new Uint8Array(8192);
      view = new DataView(target.buffer);
    }
  }
}

function written(value: unknown): Uint8Array {
  at = 0;
  depth = 0;
  item(value, "");
  return target.slice(0, at);
}

/**
 * An encode started while another is under way (a getter or a proxy that encodes): it
 * writes into a buffer of its own and puts the outer one back, so neither is overwritten.
 */
function nestedEncode(value: unknown): Uint8Array {
  const outer = { target, view, at, depth };
  target = new Uint8Array(256);
  view = new DataView(target.buffer);
  try {
    return written(value);
  } finally {
    ({ target, view, at, depth } = outer);
  }
}
