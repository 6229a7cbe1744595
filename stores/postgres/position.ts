/**
 * Positions of the PostgreSQL store. An event's place in the global order is the pair
 * (transaction id, sequence number): the 64-bit id of the transaction that wrote it
 * (`xid8`) and a `bigserial` taken at insert. Readers only read below the oldest
 * transaction still running, so the pair orders events the way they become readable.
 *
 * As a string the pair is two zero-padded decimal numbers joined by a dot (20 and 19
 * digits), so string order (`<`) is the pair's order.
 *
 * @module
 */

const TRANSACTION_DIGITS = 20;
const SEQUENCE_DIGITS = 19;
const PATTERN = /^(\d{20})\.(\d{19})$/;

/** The two parts of a PostgreSQL position, as decimal strings without leading zeros. */
export interface PostgresPosition {
  /** The writing transaction's id (`xid8`). */
  readonly transaction: string;
  /** The sequence number taken at insert. */
  readonly sequence: string;
}

function digits(value: string | bigint, width: number, what: string): string {
  const text = String(value);
  if (!/^\d+$/.test(text) || text.length > width) {
    throw new RangeError(`Invalid ${what} ${JSON.stringify(text)}: expected up to ${width} decimal digits`);
  }
  return text.padStart(width, "0");
}

/**
 * Formats a transaction id and sequence number as a position string.
 *
 * @param transaction the `xid8` transaction id (decimal string or bigint)
 * @param sequence the sequence number (decimal string or bigint)
 * @returns a 40-character string that sorts in (transaction, sequence) order
 * @throws {RangeError} when either part is not a non-negative integer that fits
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPostgresPosition } from "@eventfold/eventfold/postgres";
 * assert(formatPostgresPosition("753", "42") === "00000000000000000753.0000000000000000042");
 * ```
 */
export function formatPostgresPosition(transaction: string | bigint, sequence: string | bigint): string {
  return `${digits(transaction, TRANSACTION_DIGITS, "transaction id")}.${
    digits(sequence, SEQUENCE_DIGITS, "sequence number")
  }`;
}

/**
 * Parses a position made by {@linkcode formatPostgresPosition}.
 *
 * @param position the position string
 * @returns its transaction id and sequence number
 * @throws {RangeError} when it is not a position of a PostgreSQL store
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePostgresPosition } from "@eventfold/eventfold/postgres";
 * const { transaction, sequence } = parsePostgresPosition("00000000000000000753.0000000000000000042");
 * assert(transaction === "753" && sequence === "42");
 * ```
 */
export function parsePostgresPosition(position: string): PostgresPosition {
  const match = typeof position === "string" ? PATTERN.exec(position) : null;
  if (match === null) {
    throw new RangeError(
      `Not a position of a PostgreSQL store: ${
        JSON.stringify(position)
      } (expected 20 digits, a dot and 19 digits)`,
    );
  }
  return { transaction: BigInt(match[1]).toString(), sequence: BigInt(match[2]).toString() };
}
