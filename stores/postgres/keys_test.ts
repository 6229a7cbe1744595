import assert from "node:assert/strict";
import postgres from "postgres";
import { dropSchema, freshSchema, PG_URL } from "../../tests/_postgres_env.ts";
import { PostgresAdapter } from "./mod.ts";
import { test, withAdapter } from "./_test_helpers.ts";

function randomKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

test("a key is created, read back as a copy, and deleted", async () => {
  await withAdapter(async (adapter) => {
    const key = randomKey();
    const created = await adapter.createKey("u1", key);
    assert.ok(created instanceof Uint8Array);
    assert.deepEqual(created, key);
    const keys = await adapter.getKeys(["u1", "u2"]);
    assert.deepEqual([...keys.keys()], ["u1"]);
    assert.deepEqual(keys.get("u1"), key);
    keys.get("u1")!.fill(0);
    assert.deepEqual((await adapter.getKeys(["u1"])).get("u1"), key);
    assert.deepEqual(await adapter.getKeys([]), new Map());
    assert.equal(await adapter.deleteKey("u1"), true);
    assert.deepEqual(await adapter.getKeys(["u1"]), new Map());
  });
});

test("createKey keeps the first key of a subject", async () => {
  await withAdapter(async (adapter) => {
    const first = randomKey();
    assert.deepEqual(await adapter.createKey("u1", first), first);
    assert.deepEqual(await adapter.createKey("u1", randomKey()), first);
    assert.deepEqual((await adapter.getKeys(["u1"])).get("u1"), first);
  });
});

test("two adapters on one schema racing to create keys agree on each subject's key", async () => {
  const schema = freshSchema();
  const a = new PostgresAdapter(PG_URL, { schema });
  const b = new PostgresAdapter(PG_URL, { schema });
  try {
    await a.open();
    await b.open();
    const subjects = Array.from({ length: 20 }, (_, i) => `subject-${i}`);
    const results = await Promise.all(
      subjects.flatMap((subject) => [a.createKey(subject, randomKey()), b.createKey(subject, randomKey())]),
    );
    const stored = await a.getKeys(subjects);
    assert.equal(stored.size, subjects.length);
    subjects.forEach((subject, i) => {
      assert.deepEqual(results[2 * i], results[2 * i + 1], subject);
      assert.deepEqual(results[2 * i], stored.get(subject), subject);
    });
    assert.deepEqual(await b.getKeys(subjects), stored);
  } finally {
    await a.close();
    await b.close();
    await dropSchema(schema);
  }
});

test("bad subjects and keys are TypeErrors", async () => {
  await withAdapter(async (adapter) => {
    const key = randomKey();
    await assert.rejects(adapter.createKey("", key), TypeError);
    await assert.rejects(adapter.createKey(7 as unknown as string, key), TypeError);
    await assert.rejects(adapter.createKey("u1", new Uint8Array(31)), TypeError);
    await assert.rejects(adapter.createKey("u1", new Uint8Array(33)), TypeError);
    await assert.rejects(adapter.createKey("u1", [...key] as unknown as Uint8Array), TypeError);
    await assert.rejects(adapter.createKey("u1", undefined as unknown as Uint8Array), TypeError);
    await assert.rejects(adapter.deleteKey(""), TypeError);
    await assert.rejects(adapter.deleteKey(null as unknown as string), TypeError);
    assert.deepEqual(await adapter.getKeys(["u1"]), new Map());
  });
});

test("deleteKey is idempotent, leaves no row, and a key made after a delete is a new one", async () => {
  await withAdapter(async (adapter, schema) => {
    const old = await adapter.createKey("u1", randomKey());
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
    try {
      const count = async () =>
        Number((await sql<{ n: string }[]>`SELECT count(*) AS n FROM ${sql(schema)}.keys`)[0].n);
      assert.equal(await count(), 1);
      assert.equal(await adapter.deleteKey("u1"), true);
      assert.equal(await count(), 0);
      assert.deepEqual(await adapter.getKeys(["u1"]), new Map());
      assert.equal(await adapter.deleteKey("u1"), false);
      assert.equal(await adapter.deleteKey("never"), false);
      const next = await adapter.createKey("u1", randomKey());
      assert.notDeepEqual(next, old);
      assert.deepEqual((await adapter.getKeys(["u1"])).get("u1"), next);
      assert.equal(await count(), 1);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});

test("deleteKey vacuums the table after the delete", async () => {
  await withAdapter(async (adapter, schema) => {
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
    const vacuums = async () => {
      await sql`SELECT pg_stat_clear_snapshot()`;
      const [row] = await sql<{ n: string }[]>`
        SELECT vacuum_count AS n FROM pg_stat_user_tables WHERE schemaname = ${schema} AND relname = 'keys'`;
      return Number(row?.n ?? 0);
    };
    try {
      await adapter.createKey("u1", randomKey());
      await adapter.createKey("u2", randomKey());
      const before = await vacuums();
      assert.equal(await adapter.deleteKey("u1"), true);
      const [{ n }] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM ${sql(schema)}.keys`;
      assert.equal(Number(n), 1);
      // A vacuum's statistics are written when it ends; allow them a moment to show.
      let after = await vacuums();
      for (let i = 0; i < 100 && after === before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        after = await vacuums();
      }
      assert.equal(after, before + 1);
      assert.equal(await adapter.deleteKey("u1"), false);
      assert.equal(await vacuums(), before + 1);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
