/**
 * Time-ordered event ids (UUIDv7, RFC 9562): sorting ids sorts them by creation time,
 * which keeps unique indexes append-friendly.
 *
 * @module
 */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
let lastMs = 0;
let sequence = 0;

// Random bytes are drawn in bulk: one getRandomValues call per 256 ids, not one per id.
const POOL = new Uint8Array(16 * 256);
let pooled = POOL.length;
const ID = new Uint8Array(16);

function randomBytes(): Uint8Array {
  if (pooled === POOL.length) {
    crypto.getRandomValues(POOL);
    pooled = 0;
  }
  ID.set(POOL.subarray(pooled, pooled + 16));
  pooled += 16;
  return ID;
}

/**
 * Makes a UUIDv7. Ids made in the same millisecond by this process still sort in the
 * order they were made (a 12-bit counter in `rand_a`, seeded at random each millisecond).
 *
 * @param now milliseconds since the epoch (for tests); defaults to the clock
 * @returns a lower-case UUID string
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uuidv7 } from "@eventfold/eventfold";
 * const [a, b] = [uuidv7(), uuidv7()];
 * assert(a < b && a[14] === "7");
 * ```
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes();
  let ms = now;
  if (ms > lastMs) {
    lastMs = ms;
    sequence = ((bytes[6] & 0x07) << 8) | bytes[7];
  } else {
    ms = lastMs;
    sequence++;
    if (sequence > 0xfff) {
      // The counter ran over inside one millisecond: borrow the next millisecond.
      lastMs = ms = lastMs + 1;
      sequence = 0;
    }
  }
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | (sequence >>> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  let out = "";
  for (let i = 0; i < 16; i++) {
    out += HEX[bytes[i]];
    if (i === 3 || i === 5 || i === 7 || i === 9) out += "-";
  }
  return out;
}
