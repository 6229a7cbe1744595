/**
 * The CBOR tags Eventfold's payload codec writes and reads (RFC 8949 and its registry):
 * the same ones cbor-x wrote for the stores of version 0.1, so their bytes read back
 * unchanged.
 *
 * @module
 */

/** Tag 0: a date as an RFC 3339 string (read only). */
export const TAG_DATE_STRING = 0;
/** Tag 1: a date as seconds since the epoch. */
export const TAG_DATE_EPOCH = 1;
/** Tag 2: a non-negative bigint as big-endian bytes. */
export const TAG_BIGINT = 2;
/** Tag 3: a negative bigint `-1 - n`, n as big-endian bytes. */
export const TAG_NEGATIVE_BIGINT = 3;
/** Tag 258: a set (an array of its members). */
export const TAG_SET = 258;
/** Tag 259: a map whose keys may be of any type. */
export const TAG_MAP = 259;
/** Tag 55799: "this is CBOR", carries its content unchanged (read only). */
export const TAG_SELF_DESCRIBED = 55799;

/** A typed array constructor. */
export type TypedArrayClass =
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

/** RFC 8746 tags of typed arrays, in little-endian byte order (what every engine holds in memory). */
export const TYPED_ARRAY_TAGS: ReadonlyMap<TypedArrayClass, number> = new Map<TypedArrayClass, number>([
  [Uint8Array, 64],
  [Uint8ClampedArray, 68],
  [Uint16Array, 69],
  [Uint32Array, 70],
  [BigUint64Array, 71],
  [Int8Array, 72],
  [Int16Array, 77],
  [Int32Array, 78],
  [BigInt64Array, 79],
  [Float32Array, 85],
  [Float64Array, 86],
]);

/** The typed array class of each tag of {@linkcode TYPED_ARRAY_TAGS}. */
export const TYPED_ARRAY_OF_TAG: ReadonlyMap<number, TypedArrayClass> = new Map(
  [...TYPED_ARRAY_TAGS].map(([type, tag]) => [tag, type]),
);
