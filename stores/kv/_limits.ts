/**
 * Deno KV's limits (those of Deno 2 on a local file, Deno Deploy and denokv alike), and
 * the byte chunks that keep a value under the value limit.
 *
 * @module
 */

/** The most bytes one KV value may hold. */
export const MAX_VALUE_BYTES = 65_536;
/** The most mutations of one `atomic()` commit. */
export const MAX_MUTATIONS = 1000;
/** The most checks of one `atomic()` commit. */
export const MAX_CHECKS = 100;
/** The most bytes (keys and values) the mutations of one commit may total. */
export const MAX_MUTATION_BYTES = 819_200;
/** The most bytes the keys of one commit may total. */
export const MAX_KEY_BYTES_TOTAL = 81_920;
/** The most bytes of one key written. */
export const MAX_KEY_BYTES = 2048;
/** The most keys of one `getMany`. */
export const MAX_GET_MANY = 10;

/** The bytes of one chunk: a value over it is split into several keys. */
export const CHUNK_BYTES = 64_000;

const utf8 = new TextEncoder();

/**
 * About how many bytes `key` takes encoded (strings as UTF-8, numbers as 9 bytes, plus a
 * type byte per part): an upper bound, so that a commit planned under the limits fits.
 *
 * @param key the key
 */
export function keyBytes(key: Deno.KvKey): number {
  let bytes = 0;
  for (const part of key) {
    if (typeof part === "string") bytes += utf8.encode(part).length + 2;
    else if (part instanceof Uint8Array) bytes += part.length + 2;
    else bytes += 10;
  }
  return bytes;
}

/**
 * Checks that a key can be written.
 *
 * @param key the key
 * @param what what it names, for the message
 * @throws {RangeError} when it is over the key limit
 */
export function checkKeySize(key: Deno.KvKey, what: string): void {
  const bytes = keyBytes(key);
  if (bytes > MAX_KEY_BYTES) {
    throw new RangeError(
      `${what} is too long for Deno KV: its key takes about ${bytes} bytes, over the limit of ` +
        `${MAX_KEY_BYTES} bytes per key`,
    );
  }
}

/**
 * Splits `bytes` into chunks of at most {@linkcode CHUNK_BYTES}, the first led by the
 * total length (4 bytes, big-endian), so that a reader stops at the end even when stale
 * chunks of a longer value follow.
 *
 * @param bytes the value
 * @returns one chunk or more
 */
export function toChunks(bytes: Uint8Array): Uint8Array[] {
  const whole = new Uint8Array(bytes.length + 4);
  new DataView(whole.buffer).setUint32(0, bytes.length);
  whole.set(bytes, 4);
  const out: Uint8Array[] = [];
  for (let at = 0; at < whole.length; at += CHUNK_BYTES) out.push(whole.subarray(at, at + CHUNK_BYTES));
  return out;
}

/**
 * Joins chunks made by {@linkcode toChunks}.
 *
 * @param chunks the chunks in order
 * @returns the value, or `undefined` when chunks are missing
 */
export function fromChunks(chunks: readonly Uint8Array[]): Uint8Array | undefined {
  if (chunks.length === 0 || chunks[0].length < 4) return undefined;
  const length = new DataView(chunks[0].buffer, chunks[0].byteOffset, 4).getUint32(0);
  const out = new Uint8Array(length);
  let at = 0;
  for (const [i, chunk] of chunks.entries()) {
    const part = i === 0 ? chunk.subarray(4) : chunk;
    const take = Math.min(part.length, length - at);
    out.set(part.subarray(0, take), at);
    at += take;
    if (at >= length) return out;
  }
  return undefined;
}

/** How many chunks a value of `length` bytes takes. */
export function chunkCount(length: number): number {
  return Math.ceil((length + 4) / CHUNK_BYTES);
}
