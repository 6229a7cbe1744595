/**
 * What an append expects of a stream before it writes.
 *
 * @module
 */

/**
 * A stream's expected revision: a number (the stream must be exactly there; 0 for "does
 * not exist yet"), `"any"` (no check) or `"exists"` (at least one event).
 *
 * @example
 * ```ts
 * import type { ExpectedRevision } from "@eventfold/eventfold";
 * const createOnly: ExpectedRevision = 0;
 * ```
 */
export type ExpectedRevision = number | "any" | "exists";
