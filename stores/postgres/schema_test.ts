import assert from "node:assert/strict";
import postgres from "postgres";
import { dropSchema, freshSchema, PG_URL, pgAvailable } from "../../tests/_postgres_env.ts";
import { PostgresAdapter } from "./mod.ts";
import { SCHEMA_VERSION } from "./_schema.ts";
import { rewindSchema } from "../../tests/_pg_rewind.ts";

/** Makes the current schema with one event (`e1`, stream `s`), for a test to take back to an older version. */
async function writeOneEvent(sql: postgres.Sql, schema: string): Promise<void> {
  const old = new PostgresAdapter(sql, { schema });
  await old.transaction(async (tx) => {
    await tx.revisions(["s"]);
    await tx.insert([{
      id: "e1",
      stream: "s",
      type: "t",
      data: { n: 1 },
      meta: null,
      revision: 1,
      created: "2024-01-01T00:00:00.000Z",
      outdated: false,
    }]);
  });
  await old.close();
}

Deno.test({
  name:
    "a version 1 schema is migrated to the current version (parked events, imported flag, versions), keeping its events",
  ignore: !(await pgAvailable()),
  async fn() {
    const schema = freshSchema();
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
    try {
      await writeOneEvent(sql, schema);
      // Back to what version 1 made, with version 1 recorded.
      await rewindSchema(sql, schema, 1);
      await using adapter = new PostgresAdapter(sql, { schema });
      const [old1] = await adapter.readStream("s", { direction: "forward", limit: 10 });
      assert.deepEqual([old1.id, old1.imported, old1.version], ["e1", false, 1]);
      const [{ version }] = await sql<{ version: number }[]>`SELECT max(version) AS version FROM ${
        sql(schema)
      }.migrations`;
      assert.equal(version, SCHEMA_VERSION);
      const parked = {
        name: "n",
        id: "e1",
        position: "p",
        stream: "s",
        type: "t",
        hydrated: true,
        error: "Error: x",
        attempts: 2,
        parked: "2024-01-01T00:00:00.000Z",
      };
      await adapter.parkEvent(parked);
      assert.deepEqual(await adapter.listParked(), [parked]);
    } finally {
      await sql.end({ timeout: 1 });
      await dropSchema(schema);
    }
  },
});

Deno.test({
  name:
    "a version 3 schema with events gets the version column: old rows read version 1, new ones keep theirs",
  ignore: !(await pgAvailable()),
  async fn() {
    const schema = freshSchema();
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
    const event = (id: string, revision: number, extra: { imported?: boolean; version?: number } = {}) => ({
      id,
      stream: "s",
      type: "t",
      data: { n: revision },
      meta: null,
      revision,
      created: "2024-01-01T00:00:00.000Z",
      outdated: false,
      ...extra,
    });
    try {
      const old = new PostgresAdapter(sql, { schema });
      await old.transaction(async (tx) => {
        await tx.revisions(["s"]);
        await tx.insert([event("e1", 1), event("e2", 2, { imported: true })]);
      });
      await old.close();
      // Back to what version 3 made, with version 3 recorded.
      await rewindSchema(sql, schema, 3);
      await using adapter = new PostgresAdapter(sql, { schema });
      await adapter.transaction(async (tx) => {
        await tx.revisions(["s"]);
        await tx.insert([event("e3", 3, { version: 3 }), event("e4", 4)]);
      });
      const read = await adapter.readStream("s", { direction: "forward", limit: 10 });
      assert.deepEqual(read.map((r) => [r.id, r.imported, r.version]), [
        ["e1", false, 1],
        ["e2", true, 1],
        ["e3", false, 3],
        ["e4", false, 1],
      ]);
      const log = await adapter.readLog({ direction: "backward", limit: 10, settle: true });
      assert.deepEqual(log.map((r) => r.version), [1, 3, 1, 1]);
      assert.deepEqual((await adapter.getByIds(["e3", "e1"])).map((r) => r.version), [3, 1]);
      const [{ version }] = await sql<{ version: number }[]>`SELECT max(version) AS version FROM ${
        sql(schema)
      }.migrations`;
      assert.equal(version, SCHEMA_VERSION);
    } finally {
      await sql.end({ timeout: 1 });
      await dropSchema(schema);
    }
  },
});

Deno.test({
  name:
    "a version 5 schema gets the key table and the retention columns, keeping its events and stream status",
  ignore: !(await pgAvailable()),
  async fn() {
    const schema = freshSchema();
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
    try {
      await writeOneEvent(sql, schema);
      // Back to what version 5 made: no key table, no retention columns.
      await rewindSchema(sql, schema, 5);
      await using adapter = new PostgresAdapter(sql, { schema });
      const [first] = await adapter.readStream("s", { direction: "forward", limit: 10 });
      assert.equal(first.id, "e1");
      assert.equal((await adapter.streamStatus(["s"])).get("s")?.revision, 1);
      const [{ version }] = await sql<{ version: number }[]>`SELECT max(version) AS version FROM ${
        sql(schema)
      }.migrations`;
      assert.equal(version, SCHEMA_VERSION);
      assert.equal(SCHEMA_VERSION, 7);
      await adapter.transaction((tx) => tx.setStreamMetadata!("s", { maxAge: 60_000 }));
      assert.deepEqual((await adapter.streamStatus(["s"])).get("s")?.metadata, { maxAge: 60_000 });
      assert.deepEqual(await adapter.streamsWithMetadata(undefined, 10), ["s"]);
      const key = new Uint8Array(32).fill(9);
      assert.deepEqual(await adapter.createKey("u1", key), key);
      assert.deepEqual(await adapter.getKeys(["u1"]), new Map([["u1", key]]));
      assert.equal(await adapter.deleteKey("u1"), true);
    } finally {
      await sql.end({ timeout: 1 });
      await dropSchema(schema);
    }
  },
});
