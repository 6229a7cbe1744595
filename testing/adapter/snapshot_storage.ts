/**
 * Adapter cases of the `SnapshotStorage` part: one snapshot per (name, stream), the last
 * put wins, it reads back as put, and deleting is idempotent.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Snapshot } from "../../contract/mod.ts";
import type { Case } from "../_fixture.ts";
import { withAdapter } from "./_log.ts";

function snapshot(name: string, stream: string, state: unknown, revision: number | null = 1): Snapshot {
  return { name, stream, state, revision, position: null, version: 1 };
}

/** Cases about snapshots. */
export const snapshotStorageCases: readonly Case[] = [
  {
    name: "putSnapshot then getSnapshot reads it back as put, one per (name, stream), the last put winning",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        assert.equal(await adapter.getSnapshot("sum", "s"), undefined);
        const first = snapshot("sum", "s", { sum: 3, seen: [1, 2], label: "é😀", none: null });
        await adapter.putSnapshot(first);
        assert.deepEqual(await adapter.getSnapshot("sum", "s"), first);
        const byPosition: Snapshot = {
          name: "sum",
          stream: "team",
          state: [1, [2, { x: true }]],
          revision: null,
          position: (await adapter.stats()).head ?? "0",
          version: 4,
        };
        await adapter.putSnapshot(byPosition);
        await adapter.putSnapshot(snapshot("other", "s", "text"));
        const last = { ...snapshot("sum", "s", { sum: 10, seen: [1, 2, 3, 4] }, 4), version: 2 };
        await adapter.putSnapshot(last);
        assert.deepEqual(await adapter.getSnapshot("sum", "s"), last, "the last put wins");
        assert.deepEqual(await adapter.getSnapshot("sum", "team"), byPosition, "apart per stream");
        assert.deepEqual(
          await adapter.getSnapshot("other", "s"),
          snapshot("other", "s", "text"),
          "apart per name",
        );
        assert.equal(await adapter.getSnapshot("sum", "missing"), undefined);
      }),
  },
  {
    name: "deleteSnapshot removes one snapshot and is a no-op when there is none",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        await adapter.putSnapshot(snapshot("sum", "a", 1));
        await adapter.putSnapshot(snapshot("sum", "b", 2));
        await adapter.deleteSnapshot("sum", "a");
        await adapter.deleteSnapshot("sum", "a");
        await adapter.deleteSnapshot("never", "saved");
        assert.equal(await adapter.getSnapshot("sum", "a"), undefined);
        assert.deepEqual(await adapter.getSnapshot("sum", "b"), snapshot("sum", "b", 2));
        await adapter.putSnapshot(snapshot("sum", "a", 3));
        assert.deepEqual(
          await adapter.getSnapshot("sum", "a"),
          snapshot("sum", "a", 3),
          "put again after a delete",
        );
      }),
  },
  {
    name: "a snapshot read back is a copy: changing it changes nothing stored",
    run: (ctx) =>
      withAdapter(ctx, async (adapter) => {
        const state = { list: [1, 2] };
        await adapter.putSnapshot(snapshot("sum", "s", state));
        state.list.push(3);
        const read = await adapter.getSnapshot("sum", "s");
        assert.deepEqual(read?.state, { list: [1, 2] }, "changing the state put changes nothing stored");
        (read?.state as { list: number[] }).list.push(4);
        assert.deepEqual((await adapter.getSnapshot("sum", "s"))?.state, { list: [1, 2] });
      }),
  },
];
