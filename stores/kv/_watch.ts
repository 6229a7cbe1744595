/**
 * `watch()` through `kv.watch` on the head key: every commit of events writes it, in this
 * process or another.
 *
 * @module
 */

import type { KvContext } from "./_context.ts";

/** The watchers of one adapter, stopped together when it closes. */
export class HeadWatch {
  readonly #stops = new Set<() => void>();

  /**
   * Calls `listener` after each change of the head (not for its state when watching starts).
   *
   * @param ctx the database, once open
   * @param listener what to call
   * @returns stops watching
   */
  watch(ctx: Promise<KvContext>, listener: () => void): () => void {
    let stopped = false;
    let reader: ReadableStreamDefaultReader<Deno.KvEntryMaybe<unknown>[]> | undefined;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      this.#stops.delete(stop);
      reader?.cancel().catch(() => {});
    };
    this.#stops.add(stop);
    const run = async () => {
      const { kv, layout } = await ctx;
      if (stopped) return;
      reader = kv.watch([layout.head()]).getReader();
      let first = true;
      for (;;) {
        const next = await reader.read();
        if (next.done || stopped) return;
        if (first) first = false;
        else listener();
      }
    };
    run().catch(() => {});
    return stop;
  }

  /** Stops every watcher. */
  close(): void {
    for (const stop of [...this.#stops]) stop();
  }
}
