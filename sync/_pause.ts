/**
 * The waits of sync: a pause that ends early on a wake-up or an abort.
 *
 * @module
 */

/** Registers a wake-up listener; returns how to remove it. */
export type Wake = (listener: () => void) => () => void;

/**
 * Resolves after `ms`, when `wake` fires or when `signal` aborts, whichever comes first.
 *
 * @param ms the longest wait
 * @param signal ends the wait
 * @param wake ends the wait when it calls its listener
 */
export function pause(ms: number, signal: AbortSignal | undefined, wake?: Wake): Promise<void> {
  return new Promise((resolve) => {
    let stop = (): void => {};
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      stop();
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    if (signal?.aborted) return done();
    stop = wake?.(done) ?? stop;
  });
}
