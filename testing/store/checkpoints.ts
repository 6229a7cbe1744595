/**
 * Store cases about the `checkpoints` API: compare-and-set, list, reset, and state kept.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Case, tick } from "../_fixture.ts";

/** Cases about checkpoints through the store. */
export const checkpointCases: readonly Case[] = [
  {
    name: "checkpoints are set by compare-and-set, listed and reset",
    async run(ctx) {
      await using store = await ctx.store();
      const [p1, p2, p3] =
        (await store.pushManyEvents([tick(store, "s"), tick(store, "s"), tick(store, "s")]))
          .map((record) => record.position);
      assert.equal(await store.checkpoints.get("mailer"), undefined);
      assert.equal(await store.checkpoints.set("mailer", p1, { expected: null }), true, "set from null");
      assert.equal((await store.checkpoints.get("mailer"))?.position, p1);
      assert.equal(
        await store.checkpoints.set("mailer", p2, { expected: null }),
        false,
        "null is not the current position",
      );
      assert.equal(
        await store.checkpoints.set("mailer", p2, { expected: p3 }),
        false,
        "a wrong expected position",
      );
      assert.equal((await store.checkpoints.get("mailer"))?.position, p1);
      assert.equal(await store.checkpoints.set("mailer", p2, { expected: p1 }), true);
      assert.equal(await store.checkpoints.set("audit", p3, { expected: null }), true);
      const listed = await store.checkpoints.list();
      assert.deepEqual(listed.map((c) => [c.name, c.position]), [["audit", p3], ["mailer", p2]]);
      assert.ok(listed.every((c) => !Number.isNaN(Date.parse(c.updated))), "updated is a time");
      await store.checkpoints.reset("mailer");
      assert.equal(await store.checkpoints.get("mailer"), undefined);
      assert.deepEqual((await store.checkpoints.list()).map((c) => c.name), ["audit"]);
      assert.equal(
        await store.checkpoints.set("mailer", p1, { expected: null }),
        true,
        "a reset checkpoint starts from null",
      );
      const racing = await Promise.all(
        [1, 2, 3].map(() => store.checkpoints.set("race", p1, { expected: null })),
      );
      assert.deepEqual(racing.filter(Boolean).length, 1, "one of several racing setters wins");
      await store.adapter.putCheckpoint("kept", null, {
        position: p1,
        state: { seen: 1 },
        version: 3,
      });
      assert.equal(await store.checkpoints.set("kept", p2, { expected: p1 }), true);
      const kept = await store.checkpoints.get("kept");
      assert.deepEqual(
        [kept?.position, kept?.state, kept?.version],
        [p2, { seen: 1 }, 3],
        "state and version kept",
      );
    },
  },
];
