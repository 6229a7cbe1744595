/**
 * Telling a lost connection from every other failure, and turning it into the one error
 * callers handle, {@linkcode ConnectionLostError}.
 *
 * @module
 */

import { ConnectionLostError, isEventStoreError } from "../../errors.ts";

// postgres.js codes and the Node/Deno socket codes a dead connection surfaces as.
const DRIVER_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTCONN",
]);

// SQLSTATEs of a server going away: admin_shutdown (pg_terminate_backend, a fast
// shutdown), crash_shutdown, cannot_connect_now (starting up or shutting down).
const SERVER_CODES = new Set(["57P01", "57P02", "57P03"]);

const DENO_ERRORS = new Set([
  "ConnectionReset",
  "ConnectionAborted",
  "ConnectionRefused",
  "BrokenPipe",
  "NotConnected",
]);

/**
 * Whether `error` says the connection (not the statement) failed.
 *
 * @param error anything a driver call rejected with
 * @returns true for a closed, reset, refused or timed-out connection, or a server shutting down
 */
export function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (
    typeof code === "string" && (DRIVER_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith("08"))
  ) {
    return true;
  }
  return typeof name === "string" && DENO_ERRORS.has(name);
}

/**
 * Maps a connection failure to {@linkcode ConnectionLostError}; anything else is returned as it is.
 *
 * @param error what the call failed with
 * @param operation what was running
 * @param store the store's name (without password)
 * @returns the error to throw
 */
export function lostOr(error: unknown, operation: string, store: string): unknown {
  if (isEventStoreError(error) || !isConnectionFailure(error)) return error;
  return new ConnectionLostError(operation, { cause: error, store });
}
