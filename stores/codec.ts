/**
 * Payload codecs. CBOR is the default: `Date`, `bigint`, `Map`, `Set`,
 * `Uint8Array` and nested objects survive a round trip. JSON is the other built-in, for
 * stores that should stay readable by other tools; it keeps only what JSON can hold.
 * A store records the codec it was created with, so a reader never guesses.
 *
 * @module
 */

// Eventfold's own CBOR encoder and decoder rather than cbor-x: any `npm:cbor-x` specifier
// makes Deno resolve cbor-x's optional native helper cbor-extract for every platform, which
// fails where the registry lacks one platform's build (Deno 2.9 does not skip an
// unresolvable optional dependency, npm does). They read what cbor-x wrote for earlier
// stores, and give back -0 and own __proto__ keys, which cbor-x changed.
import { encodeCbor } from "./_cbor_encode.ts";
import { decodeCbor } from "./_cbor_decode.ts";

/** Encodes and decodes payloads (`data`, `meta`, snapshot and checkpoint state). */
export interface Codec {
  /** The name stored with the data: `"cbor"`, `"json"` or a custom codec's own. */
  readonly name: string;
  /** Turns a value into bytes. */
  encode(value: unknown): Uint8Array;
  /** Turns bytes back into a value; throws when they are not this codec's. */
  decode(bytes: Uint8Array): unknown;
  /**
   * Which values it gives back exactly (the README's table "What goes in comes out"):
   * `"structured"` keeps every number, `bigint`, `undefined`, `Date`, `Map`, `Set`, typed
   * arrays, arrays and plain objects; `"json"` keeps what JSON holds (finite numbers other
   * than `-0`, strings without U+0000, arrays, plain objects). A store refuses, before
   * writing, a payload its codec would change. Left out (a custom codec), the store refuses
   * only what no codec holds (functions, symbols, circular or too deep values, lone surrogates).
   */
  readonly fidelity?: "structured" | "json";
}

/**
 * CBOR (RFC 8949): every number (`-0`, `NaN` and `±Infinity` too), `bigint`, `undefined`,
 * `Date`, `Map`, `Set`, typed arrays, arrays and plain objects come back exactly.
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
  fidelity: "structured",
  encode: encodeCbor,
  decode: decodeCbor,
};

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * JSON as UTF-8 bytes. A store refuses, before writing, what JSON cannot give back exactly
 * (`Date`, `bigint`, `Map`, `Set`, `undefined`, `-0`, `NaN`, `±Infinity`, U+0000).
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
  fidelity: "json",
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
