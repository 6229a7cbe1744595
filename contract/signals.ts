/**
 * The two signals an adapter gives the store from inside a write: an id that exists, and
 * a revision another writer took. They are branded like the public errors and recognised
 * by {@linkcode isDuplicateIdError} and {@linkcode isRevisionConflictError}, never by
 * `instanceof`, so an adapter from another copy of the package (npm and JSR, two
 * versions) is understood by this copy's store.
 *
 * @module
 */

const DUPLICATE_ID: unique symbol = Symbol.for("eventfold.DuplicateIdError");
const REVISION_CONFLICT: unique symbol = Symbol.for("eventfold.RevisionConflictError");
const STREAM_TOMBSTONED: unique symbol = Symbol.for("eventfold.StreamTombstonedError");

/**
 * Thrown by an adapter's insert when an id already exists (at commit, on a commit-checked
 * adapter). The store abandons the transaction and tries again, leaving the existing ids
 * out, so appending an id that exists is a no-op.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDuplicateIdError } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const adapter = new MemoryAdapter();
 * const record = { id: "e1", stream: "s", type: "tick", data: null, meta: null, revision: 1, created: "2025-01-01T00:00:00.000Z", outdated: false };
 * await adapter.transaction((tx) => tx.insert([record]));
 * await assert.rejects(adapter.transaction((tx) => tx.insert([{ ...record, revision: 2 }])), isDuplicateIdError);
 * ```
 */
export class DuplicateIdError extends Error {
  /** The ids that exist already (at least one). */
  readonly ids: readonly string[];
  /**
   * Creates it.
   *
   * @param ids the ids found to exist
   */
  constructor(ids: readonly string[]) {
    super(`Event ids exist already: ${ids.join(", ")}`);
    this.name = "DuplicateIdError";
    this.ids = ids;
    Object.defineProperty(this, DUPLICATE_ID, { value: true });
  }
}

/**
 * Thrown by an adapter when another writer took a revision of `stream` between the
 * transaction's read of the revisions and its insert (or its commit, on a commit-checked
 * adapter). The store abandons the transaction, rereads and either retries (expected
 * `"any"`) or reports a `ConcurrencyError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRevisionConflictError, RevisionConflictError } from "@eventfold/eventfold";
 * // An adapter turns the driver's unique (stream, revision) violation into this:
 * const error = new RevisionConflictError("order-7", { cause: new Error("unique violation") });
 * assert(isRevisionConflictError(error) && error.stream === "order-7");
 * ```
 */
export class RevisionConflictError extends Error {
  /** The stream that moved. */
  readonly stream: string;
  /**
   * Creates it.
   *
   * @param stream the stream that another writer appended to
   * @param options the driver's error as `cause`
   */
  constructor(stream: string, options?: ErrorOptions) {
    super(`Another writer appended to stream "${stream}"`, options);
    this.name = "RevisionConflictError";
    this.stream = stream;
    Object.defineProperty(this, REVISION_CONFLICT, { value: true });
  }
}

/**
 * Whether `error` is a {@linkcode DuplicateIdError} of any copy of the package.
 *
 * @param error anything thrown
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DuplicateIdError, isDuplicateIdError } from "@eventfold/eventfold";
 * assert(isDuplicateIdError(new DuplicateIdError(["e1"])) && !isDuplicateIdError(new Error("e1")));
 * ```
 */
export function isDuplicateIdError(error: unknown): error is DuplicateIdError {
  return typeof error === "object" && error !== null &&
    (error as { [DUPLICATE_ID]?: unknown })[DUPLICATE_ID] === true &&
    Array.isArray((error as { ids?: unknown }).ids);
}

/**
 * Whether `error` is a {@linkcode RevisionConflictError} of any copy of the package.
 *
 * @param error anything thrown
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRevisionConflictError, RevisionConflictError } from "@eventfold/eventfold";
 * assert(isRevisionConflictError(new RevisionConflictError("s")) && !isRevisionConflictError(new Error("s")));
 * ```
 */
export function isRevisionConflictError(error: unknown): error is RevisionConflictError {
  return typeof error === "object" && error !== null &&
    (error as { [REVISION_CONFLICT]?: unknown })[REVISION_CONFLICT] === true &&
    typeof (error as { stream?: unknown }).stream === "string";
}

/**
 * Thrown by a transaction's `revisions()` when one of the streams asked for was deleted
 * with a tombstone. The store reports it as `StreamDeletedError`; nothing is written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStreamTombstonedError, StreamTombstonedError } from "@eventfold/eventfold";
 * assert(isStreamTombstonedError(new StreamTombstonedError("user-7")));
 * ```
 */
export class StreamTombstonedError extends Error {
  /** The tombstoned stream. */
  readonly stream: string;
  /**
   * Creates it.
   *
   * @param stream the tombstoned stream
   */
  constructor(stream: string) {
    super(`Stream "${stream}" was deleted with a tombstone`);
    this.name = "StreamTombstonedError";
    this.stream = stream;
    Object.defineProperty(this, STREAM_TOMBSTONED, { value: true });
  }
}

/**
 * Whether `error` is a {@linkcode StreamTombstonedError} of any copy of the package.
 *
 * @param error anything thrown
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStreamTombstonedError } from "@eventfold/eventfold";
 * assert(!isStreamTombstonedError(new Error("user-7")));
 * ```
 */
export function isStreamTombstonedError(error: unknown): error is StreamTombstonedError {
  return typeof error === "object" && error !== null &&
    (error as { [STREAM_TOMBSTONED]?: unknown })[STREAM_TOMBSTONED] === true &&
    typeof (error as { stream?: unknown }).stream === "string";
}
