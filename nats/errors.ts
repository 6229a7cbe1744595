/**
 * `RelayError`: what the relay and the consumer helper report, in Eventfold's error tree
 * (an {@linkcode EventStoreError} with a `cause`), and its guard.
 *
 * @module
 */

import { EventStoreError, isEventStoreError } from "../errors.ts";

/**
 * A relay (or a consumer) could not do its work: NATS is unreachable, the JetStream
 * stream does not fit, a message was refused. `fatal` tells whether it stopped for good
 * (a setup mistake it cannot get past) or tries again after a backoff.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRelayError, RelayError } from "@eventfold/eventfold/nats";
 * const error = new RelayError("orders", "NATS at nats://127.0.0.1:4222 is unreachable", { fatal: false });
 * assert(isRelayError(error) && error.relay === "orders" && !error.fatal);
 * ```
 */
export class RelayError extends EventStoreError {
  /** The relay's (or consumer's) name. */
  readonly relay: string;
  /** True when it stopped for good; false when it tries again. */
  readonly fatal: boolean;

  /**
   * Creates it.
   *
   * @param relay the relay's name
   * @param message what went wrong
   * @param options `fatal`, and the lower-level `cause`
   */
  constructor(relay: string, message: string, options: ErrorOptions & { readonly fatal: boolean }) {
    super(`Relay "${relay}": ${message}`, options);
    this.relay = relay;
    this.fatal = options.fatal;
  }
}

/**
 * Whether `error` is a {@linkcode RelayError}, even from another copy of the package.
 *
 * @param error anything caught
 * @returns true for a relay error
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRelayError } from "@eventfold/eventfold/nats";
 * assert(!isRelayError(new Error("x")));
 * ```
 */
export function isRelayError(error: unknown): error is RelayError {
  return isEventStoreError(error) &&
    (error as unknown as Record<symbol, unknown>)[Symbol.for("eventfold.error")] === "RelayError";
}

/** The text of an error, for messages. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
