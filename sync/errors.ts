/**
 * The errors of sync: a refused request, and a failed transport that sync retries. Both
 * carry a `Symbol.for` brand, so their guards recognise them across two copies of the
 * package.
 *
 * @module
 */

const REQUEST: unique symbol = Symbol.for("eventfold.SyncRequestError");
const TRANSPORT: unique symbol = Symbol.for("eventfold.SyncTransportError");

/**
 * A request the server refused (a 4xx): trying it again would fail the same way, so sync stops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSyncRequestError, SyncRequestError } from "@eventfold/eventfold/sync";
 * const error = new SyncRequestError(403, "403 from http://x/: forbidden");
 * assert(isSyncRequestError(error) && error.status === 403);
 * ```
 */
export class SyncRequestError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /**
   * Creates it.
   *
   * @param status the HTTP status
   * @param message the server's reason
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = "SyncRequestError";
    this.status = status;
    Object.defineProperty(this, REQUEST, { value: true });
  }
}

/**
 * A request that did not get a whole answer (the connection failed or dropped, a reply cut
 * short, a 5xx): sync tries it again with backoff, since every push is idempotent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSyncTransportError, SyncTransportError } from "@eventfold/eventfold/sync";
 * assert(isSyncTransportError(new SyncTransportError("connection reset")));
 * ```
 */
export class SyncTransportError extends Error {
  /**
   * Creates it.
   *
   * @param message what failed
   * @param cause the underlying error
   */
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "SyncTransportError";
    Object.defineProperty(this, TRANSPORT, { value: true });
  }
}

/**
 * Whether `error` is a {@linkcode SyncRequestError} of any copy of the package.
 *
 * @param error anything
 * @returns true for a refused request
 */
export function isSyncRequestError(error: unknown): error is SyncRequestError {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[REQUEST] === true;
}

/**
 * Whether `error` is a {@linkcode SyncTransportError} of any copy of the package.
 *
 * @param error anything
 * @returns true for a failed transport
 */
export function isSyncTransportError(error: unknown): error is SyncTransportError {
  return typeof error === "object" && error !== null &&
    (error as Record<symbol, unknown>)[TRANSPORT] === true;
}
