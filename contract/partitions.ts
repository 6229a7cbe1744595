/**
 * Partitions of the log by stream: a stable hash of the stream id, the same in every
 * store and every release, so a partitioned subscription's checkpoints stay valid. The
 * hash is the first 32 bits of the MD5 digest of the stream id's UTF-8 bytes (read
 * big-endian), modulo the number of partitions: PostgreSQL computes the same in SQL with
 * its built-in `md5()`.
 *
 * @module
 */

/** One partition of the log: the streams whose hash modulo `count` is `index`. */
export interface Partition {
  /** Which one, from 0 to `count - 1`. */
  readonly index: number;
  /** How many partitions the log is cut into. */
  readonly count: number;
}

/** The largest number of partitions (one lease and one checkpoint each). */
export const MAX_PARTITIONS = 1024;

/**
 * The partition of `stream` when the log is cut into `count` partitions.
 *
 * @param stream the stream id
 * @param count how many partitions (a positive integer)
 * @returns a number from 0 to `count - 1`
 * @throws {RangeError} when `count` is not an integer from 1 to {@linkcode MAX_PARTITIONS}
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partitionOf } from "@eventfold/eventfold";
 * const p = partitionOf("order-17", 16);
 * assert(p >= 0 && p < 16);
 * assert.equal(partitionOf("order-17", 16), p); // stable
 * ```
 */
export function partitionOf(stream: string, count: number): number {
  checkPartitionCount(count, "count");
  return streamHash(stream) % count;
}

/**
 * Checks a number of partitions.
 *
 * @param count the number given
 * @param what how to name it in the error
 * @throws {RangeError} when it is not an integer from 1 to {@linkcode MAX_PARTITIONS}
 */
export function checkPartitionCount(count: unknown, what = "partitions"): asserts count is number {
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) {
    throw new RangeError(`${what} must be an integer from 1 to ${MAX_PARTITIONS}, got ${String(count)}`);
  }
}

/**
 * Checks a partition given to a read.
 *
 * @param partition the value given
 * @throws {TypeError} when it is not an object with `index` and `count`
 * @throws {RangeError} when `count` or `index` is out of range
 */
export function checkPartition(partition: unknown): asserts partition is Partition {
  if (typeof partition !== "object" || partition === null) {
    throw new TypeError(`partition must be { index, count }, got ${JSON.stringify(partition)}`);
  }
  const { index, count } = partition as Partition;
  checkPartitionCount(count, "partition.count");
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`partition.index must be an integer from 0 to ${count - 1}, got ${String(index)}`);
  }
}

/** Whether `stream` is in `partition`. */
export function inPartition(stream: string, partition: Partition): boolean {
  return streamHash(stream) % partition.count === partition.index;
}

const encoder = new TextEncoder();
const cache = new Map<string, number>();

/** The first 32 bits of MD5(stream), big-endian, as an unsigned number; cached for busy streams. */
function streamHash(stream: string): number {
  let hash = cache.get(stream);
  if (hash === undefined) {
    hash = md5FirstWord(encoder.encode(stream));
    if (cache.size >= 10_000) cache.clear();
    cache.set(stream, hash);
  }
  return hash;
}

// MD5 (RFC 1321) per-step shift amounts and sine-derived constants.
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

/** The first four bytes of the MD5 digest of `bytes`, read big-endian. */
function md5FirstWord(bytes: Uint8Array): number {
  const padded = new Uint8Array((((bytes.length + 8) >> 6) + 1) * 64);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = bytes.length * 8;
  view.setUint32(padded.length - 8, bits >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(bits / 2 ** 32), true);
  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  const words = new Uint32Array(16);
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) words[i] = view.getUint32(offset + i * 4, true);
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) % 16;
      }
      f = (f + a + K[i] + words[g]) >>> 0;
      a = d;
      d = c;
      c = b;
      const s = SHIFTS[(i >> 4) * 4 + (i % 4)];
      b = (b + ((f << s) | (f >>> (32 - s)))) >>> 0;
    }
    a0 = (a0 + a) >>> 0;
    b0 = (b0 + b) >>> 0;
    c0 = (c0 + c) >>> 0;
    d0 = (d0 + d) >>> 0;
  }
  // The digest starts with a0's bytes, least significant first.
  return (((a0 & 0xff) << 24) | (((a0 >>> 8) & 0xff) << 16) | (((a0 >>> 16) & 0xff) << 8) | (a0 >>> 24)) >>>
    0;
}
