/**
 * Payload codecs. CBOR (cbor-x) is the default: `Date`, `bigint`, `Map`, `Set`,
 * `Uint8Array` and nested objects survive a round trip. JSON is the other built-in, for
 * stores that should stay readable by other tools; it keeps only what JSON can hold.
 * A store records the codec it was created with, so a reader never guesses.
 *
 * @module
 */

// The "./encode" entry is cbor-x in plain JavaScript: its main entry loads the optional
// native addon cbor-extract, which crashes under Deno.
import { Encoder } from "cbor-x/encode";

/** Encodes and decodes payloads (`data`, `meta`, snapshot and checkpoint state). */
export interface Codec {
  /** The name stored with the data: `"cbor"`, `"json"` or a custom codec's own. */
  readonly name: string;
  /** Turns a value into bytes. */
  encode(value: unknown): Uint8Array;
  /** Turns bytes back into a value; throws when they are not this codec's. */
  decode(bytes: Uint8Array): unknown;
}

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });

/**
 * CBOR through cbor-x.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cborCodec } from "@eventfold/eventfold/sqlite";
 * const back = cborCodec.decode(cborCodec.encode({ at: new Date(0), n: 10n })) as { at: Date; n: bigint };
 * assert(back.at instanceof Date && back.n === 10n);
 * ```
 */
export const cborCodec: Codec = {
  name: "cbor",
  encode: (value) => cbor.encode(value),
  decode: (bytes) => cbor.decode(bytes),
};

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * JSON as UTF-8 bytes. Dates become strings and `bigint`, `Map` and `Set` are refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonCodec } from "@eventfold/eventfold/sqlite";
 * assert((jsonCodec.decode(jsonCodec.encode({ a: 1 })) as { a: number }).a === 1);
 * ```
 */
export const jsonCodec: Codec = {
  name: "json",
  encode: (value) => utf8.encode(JSON.stringify(value ?? null)),
  decode: (bytes) => JSON.parse(fromUtf8.decode(bytes)),
};

/**
 * Resolves a codec option: a name of a built-in codec or a codec object.
 *
 * @param codec `"cbor"`, `"json"` or a {@linkcode Codec}
 * @returns the codec
 * @throws {TypeError} for an unknown name
 */
export function resolveCodec(codec: "cbor" | "json" | Codec = "cbor"): Codec {
  if (codec === "cbor") return cborCodec;
  if (codec === "json") return jsonCodec;
  if (typeof codec === "object" && codec !== null && typeof codec.encode === "function") return codec;
  throw new TypeError(`Unknown codec ${JSON.stringify(codec)}: expected "cbor", "json" or a Codec object`);
}
