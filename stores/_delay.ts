/**
 * A pause in an asynchronous retry loop (waiting for a lock, a read horizon, a lost race).
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds.
 *
 * @param ms how long to wait
 * @returns when the time has passed
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
