import assert from "node:assert/strict";
import { append, row, test, withAdapter } from "./_test_helpers.ts";

test("putCheckpoint() lets exactly one of many concurrent savers win", async () => {
  await withAdapter(async (adapter) => {
    await adapter.open();
    const first = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) => adapter.putCheckpoint("sub", null, { position: `p${i}` }),
      ),
    );
    assert.equal(first.filter(Boolean).length, 1);
    const winner = (await adapter.getCheckpoint("sub"))!.position!;
    const next = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) => adapter.putCheckpoint("sub", winner, { position: `q${i}`, state: [i], version: 3 }),
      ),
    );
    assert.equal(next.filter(Boolean).length, 1);
    const saved = (await adapter.getCheckpoint("sub"))!;
    assert.equal(saved.version, 3);
    assert.deepEqual(saved.state, [Number(saved.position!.slice(1))]);
    assert.equal(await adapter.putCheckpoint("sub", "stale", { position: "z" }), false);
    await adapter.deleteCheckpoint("sub");
    assert.equal(await adapter.getCheckpoint("sub"), undefined);
  });
});

test("leases of many subscriptions share one connection, so appends still get one from the pool", async () => {
  await withAdapter(async (adapter) => {
    // More leases than the pool's ten connections.
    const leases = await Promise.all(
      Array.from({ length: 12 }, (_, i) => adapter.acquireLease(`sub-${i}`, "me", 1000)),
    );
    try {
      assert.ok(leases.every((lease) => lease !== undefined));
      assert.equal(
        await adapter.acquireLease("sub-0", "me", 1000),
        undefined,
        "a held lease is not taken twice",
      );
      const [stored] = await append(adapter, [row("after-leases", 1)]);
      assert.equal(stored.revision, 1);
    } finally {
      await Promise.all(leases.map((lease) => lease?.release()));
    }
    const again = await adapter.acquireLease("sub-0", "me", 1000);
    assert.ok(again !== undefined, "a released lease can be taken again");
    await again.release();
  });
});
