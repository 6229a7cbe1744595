/**
 * Telling a store failure (an outage: retried without end) from a handler failure (the
 * projector's own error: retried, then parked or stopping the subscription).
 *
 * @module
 */

const BRAND = Symbol.for("eventfold.error");

/** Errors of the tree that mean the store, not the handler, failed. */
const STORE_FAILURES: ReadonlySet<string> = new Set(["ConnectionLostError", "StoreClosedError"]);

/**
 * Whether `error`, or an error it was caused by, says the store failed (by the brand of
 * the error tree, so an adapter from another copy of the package is recognised).
 *
 * @param error what a handler threw
 * @returns true for a lost connection or a closed store
 */
export function isStoreFailure(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const brand = (current as { [BRAND]?: unknown })[BRAND];
    if (typeof brand === "string" && STORE_FAILURES.has(brand)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
