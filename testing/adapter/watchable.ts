/**
 * Adapter cases of the optional `Watchable` part: `watch` calls back after a commit made
 * elsewhere, and the function it returns stops it. An adapter without `watch` passes
 * them as they are (readers poll).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Case, fail, turn } from "../_fixture.ts";
import { insert, row, withAdapter, withSecond } from "./_log.ts";

/** How long a case waits for a wake-up that must come. */
const PATIENCE_MS = 15_000;
/** How long a case waits to see that no wake-up comes. */
const QUIET_MS = 300;

/** Cases about `watch`. */
export const watchableCases: readonly Case[] = [
  {
    name: "watch returns a function that stops watching: no call comes after it",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const watch = adapter.watch?.bind(adapter);
        if (watch === undefined) return;
        let calls = 0;
        const unwatch = watch(() => void calls++);
        assert.equal(typeof unwatch, "function");
        await insert(adapter, [row("s", 1)]);
        await turn(QUIET_MS);
        unwatch();
        const stopped = calls;
        await insert(adapter, [row("s", 2)]);
        await turn(QUIET_MS);
        assert.equal(calls, stopped, "no call after unwatch");
        const again = watch(() => {});
        again();
      }),
  },
  {
    name: "watch calls back after another adapter over the same storage commits",
    needs: "reopen",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const watch = adapter.watch?.bind(adapter);
        if (watch === undefined) return;
        await withSecond(ctx, adapter, async (other) => {
          let calls = 0;
          const unwatch = watch(() => void calls++);
          try {
            // A watcher may need a moment to start listening: commit until it wakes.
            const deadline = Date.now() + PATIENCE_MS;
            for (let revision = 1; calls === 0; revision++) {
              if (Date.now() > deadline) {
                fail(`no watch call within ${PATIENCE_MS} ms of another adapter's commits`);
              }
              await insert(other, [row("elsewhere", revision)]);
              await turn(50);
            }
          } finally {
            unwatch();
          }
          const stopped = calls;
          await insert(other, [row("later", 1)]);
          await turn(QUIET_MS);
          assert.equal(calls, stopped, "no call after unwatch");
        });
      }),
  },
];
