/**
 * Positions: strings that sort (`<`, code-unit order) in an adapter's global read order.
 * Adapters that count with integers zero-pad them with {@linkcode formatPosition}.
 *
 * @module
 */

/**
 * Formats an integer position as a zero-padded string that sorts like the number.
 *
 * @param n a non-negative safe integer
 * @returns 16 digits
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPosition } from "@eventfold/eventfold";
 * assert(formatPosition(42) === "0000000000000042");
 * ```
 */
export function formatPosition(n: number): string {
  return String(n).padStart(16, "0");
}

/**
 * Parses a position made by {@linkcode formatPosition}.
 *
 * @param position the position string
 * @returns its integer
 * @throws {RangeError} when it is not such a position
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePosition } from "@eventfold/eventfold";
 * assert(parsePosition("0000000000000042") === 42);
 * ```
 */
export function parsePosition(position: string): number {
  if (typeof position !== "string" || !/^\d{1,16}$/.test(position)) {
    throw new RangeError(
      `Not a position of this store: ${JSON.stringify(position)} (expected up to 16 digits)`,
    );
  }
  return Number(position);
}
