/**
 * `eventfold import --from-valkyr` against databases made exactly as @valkyr/event-store
 * makes them (PostgreSQL and SQLite), 10,000 events in 100 streams with relations: the
 * real CLI imports them exactly (ids, order, created, payloads, relations), the ported user
 * reducer folds them to the states valkyr's reducer gives, a second run imports nothing,
 * and bad sources fail with one clear line.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { type Adapter, EventStore, StoreOpenError } from "../mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { assertOneLineFailure, cli, tempDir } from "../cli/_test_helpers.ts";
import { dropSchema, freshSchema, PG_URL, pgAvailable } from "./_postgres_env.ts";
import { userReducer, valkyrEvents } from "./fixtures/valkyr_domain.ts";
import {
  type ValkyrHistory,
  valkyrHistory,
  writeValkyrPostgres,
  writeValkyrSqlite,
} from "./fixtures/valkyr_tables.ts";

const history = valkyrHistory(10_000, 100);

/** valkyr's clock text as the ISO-8601 time of its millisecond. */
function isoOf(created: string): string {
  return new Date(parseInt(created.split("-")[0], 36)).toISOString();
}

function pgUrl(schema: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set("schema", schema);
  return url.href;
}

async function importJson(args: string[]): Promise<Record<string, unknown>> {
  const run = await cli(["import", ...args, "--json"]);
  assert.equal(run.code, 0, `eventfold import ${args.join(" ")}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** Reads the imported store back and checks it against the history, event by event. */
async function assertImported(adapter: Adapter, expected: ValkyrHistory): Promise<void> {
  await using store = new EventStore({ adapter, events: valkyrEvents });
  const records = await store.getEvents();
  assert.equal(records.length, expected.ordered.length);
  const revisions = new Map<string, number>();
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const row = expected.ordered[i];
    assert.equal(record.id, row.id, `event #${i}: the log keeps valkyr's order`);
    assert.equal(record.stream, row.stream);
    assert.equal(record.type, row.type);
    assert.equal(record.created, isoOf(row.created), "created keeps valkyr's millisecond");
    assert.deepEqual(record.data, row.data);
    assert.deepEqual(record.meta, row.meta);
    assert.equal(record.outdated, false);
    const revision = (revisions.get(row.stream) ?? 0) + 1;
    revisions.set(row.stream, revision);
    assert.equal(record.revision, revision, "each stream keeps valkyr's order as contiguous revisions");
  }
  assert.equal(revisions.size, 100);
  const keys = [...new Set(expected.relations.map((r) => r.key))];
  for (const key of keys) {
    const streams = expected.relations.filter((r) => r.key === key).map((r) => r.stream).sort();
    assert.deepEqual((await store.relations.getByKey(key)).sort(), streams, `relation ${key}`);
  }
  for (const [stream, state] of expected.states) {
    assert.deepEqual(
      await store.reduce({ name: "user", stream, reducer: userReducer }),
      state,
      `state of ${stream}`,
    );
  }
  const team = await store.getEventsByRelations(["team:3"]);
  const inTeam = new Set(expected.relations.filter((r) => r.key === "team:3").map((r) => r.stream));
  assert.equal(team.length, expected.ordered.filter((row) => inTeam.has(row.stream)).length);
}

Deno.test("valkyr import: a valkyr SQLite file (10,000 events, 100 streams) imports exactly, once", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/valkyr.db`;
  await writeValkyrSqlite(source, history);
  const target = `sqlite:${dir.path}/eventfold.db`;
  const first = await importJson(["--store", target, "--from-valkyr", `sqlite:${source}`]);
  assert.deepEqual(
    { imported: first.imported, skipped: first.skipped, bad: first.bad, relations: first.relations },
    { imported: 10_000, skipped: 0, bad: 0, relations: history.relations.length },
  );
  const second = await importJson(["--store", target, "--from-valkyr", `sqlite:${source}`]);
  assert.equal(second.imported, 0, "a second run imports nothing");
  assert.equal(second.skipped, 10_000);
  await assertImported(new SqliteAdapter(`${dir.path}/eventfold.db`), history);
});

Deno.test({
  name: "valkyr import: a valkyr PostgreSQL schema (10,000 events, 100 streams) imports exactly, once",
  ignore: !(await pgAvailable()),
  async fn() {
    const valkyr = freshSchema("valkyr_");
    const eventfold = freshSchema("ef_valkyr_");
    try {
      await writeValkyrPostgres(PG_URL, valkyr, history);
      const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
      try {
        const [{ kind }] = await sql`SELECT jsonb_typeof(data) AS kind FROM ${sql(valkyr)}.events LIMIT 1`;
        assert.equal(kind, "string", "valkyr's provider stores JSON text inside jsonb");
      } finally {
        await sql.end({ timeout: 1 });
      }
      const args = ["--store", pgUrl(eventfold), "--from-valkyr", pgUrl(valkyr)];
      const first = await importJson(args);
      assert.deepEqual(
        { imported: first.imported, skipped: first.skipped, bad: first.bad, relations: first.relations },
        { imported: 10_000, skipped: 0, bad: 0, relations: history.relations.length },
      );
      const second = await importJson(args);
      assert.equal(second.imported, 0, "a second run imports nothing");
      assert.equal(second.skipped, 10_000);
      await assertImported(new PostgresAdapter(PG_URL, { schema: eventfold }), history);
    } finally {
      await dropSchema(valkyr);
      await dropSchema(eventfold);
    }
  },
});

Deno.test({
  name:
    "valkyr import: PostgresAdapter pointed at valkyr's schema fails with StoreOpenError and changes nothing",
  ignore: !(await pgAvailable()),
  async fn() {
    const valkyr = freshSchema("valkyr_");
    try {
      await writeValkyrPostgres(PG_URL, valkyr, valkyrHistory(10, 2));
      const adapter = new PostgresAdapter(PG_URL, { schema: valkyr });
      try {
        await assert.rejects(adapter.open(), (error: unknown) => {
          assert.ok(error instanceof StoreOpenError, `a StoreOpenError, got ${error}`);
          assert.match(
            error.message,
            /already holds tables Eventfold did not create: "events", "relations", "snapshots"/,
          );
          assert.match(error.message, /@valkyr\/event-store/);
          assert.match(error.message, /import --from-valkyr/);
          return true;
        });
      } finally {
        await adapter.close();
      }
      const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
      try {
        const tables =
          await sql`SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = ${valkyr} ORDER BY 1`;
        assert.deepEqual(
          tables.map((t) => t.tablename),
          ["events", "relations", "snapshots"],
          "nothing was added",
        );
      } finally {
        await sql.end({ timeout: 1 });
      }
      // Eventfold's own schema in the same database works beside valkyr's.
      const eventfold = freshSchema("ef_beside_");
      try {
        await using store = new EventStore({
          adapter: new PostgresAdapter(PG_URL, { schema: eventfold }),
          events: valkyrEvents,
        });
        await store.pushEvent(store.event({ type: "user:activated", stream: "u1", meta: { auditor: "a" } }));
        assert.equal((await store.getEvents()).length, 1);
      } finally {
        await dropSchema(eventfold);
      }
    } finally {
      await dropSchema(valkyr);
    }
  },
});

Deno.test("valkyr import: a source without valkyr's tables is one clear line naming what was expected", async () => {
  await using dir = await tempDir();
  const empty = `${dir.path}/other.db`;
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(empty);
  db.exec("CREATE TABLE notes (id text)");
  db.close();
  const target = `sqlite:${dir.path}/eventfold.db`;
  assertOneLineFailure(
    await cli(["import", "--store", target, "--from-valkyr", `sqlite:${empty}`]),
    1,
    /no @valkyr\/event-store tables in sqlite:.*other\.db: expected a table "valkyr_events" \(or "events"\) with id, stream, type, data, meta, recorded, created/,
  );
  assertOneLineFailure(
    await cli(["import", "--store", target, "--from-valkyr", `sqlite:${dir.path}/missing.db`]),
    1,
    /no valkyr store at sqlite:.*missing\.db: no such file/,
  );
  assertOneLineFailure(
    await cli(["import", "--store", target, "--from-valkyr", "mysql://x/y"]),
    2,
    /--from-valkyr: expected postgres:\/\/user@host\/db\[\?schema=name\] or sqlite:path/,
  );
  await assert.rejects(Deno.stat(`${dir.path}/eventfold.db`), Deno.errors.NotFound, "no store was created");
  if (!await pgAvailable()) return;
  const schema = freshSchema("not_valkyr_");
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await sql`CREATE SCHEMA ${sql(schema)}`;
    assertOneLineFailure(
      await cli(["import", "--store", target, "--from-valkyr", pgUrl(schema)]),
      1,
      new RegExp(
        `no @valkyr/event-store tables in .*schema=${schema}: schema "${schema}" has no table "events" ` +
          `\\(expected a table "events" \\(id, stream, type, data, meta, recorded, created\\) and a table "relations" \\(key, stream\\)\\)`,
      ),
    );
  } finally {
    await sql.end({ timeout: 1 });
    await dropSchema(schema);
  }
});

Deno.test("valkyr import: an undecodable row is named by its id and nothing is imported, unless --skip-bad", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/valkyr.db`;
  const small = valkyrHistory(50, 5, 11);
  await writeValkyrSqlite(source, small);
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(source);
  const broken = small.ordered[20];
  db.prepare("UPDATE valkyr_events SET data = ? WHERE id = ?").run("{not json", broken.id);
  db.close();
  const target = `${dir.path}/eventfold.db`;
  const run = await cli(["import", "--store", `sqlite:${target}`, "--from-valkyr", `sqlite:${source}`]);
  assertOneLineFailure(
    run,
    1,
    new RegExp(
      `row id=${broken.id}: "data" is not JSON .*; nothing was imported \\(fix the rows, or pass --skip-bad`,
    ),
  );
  await assert.rejects(Deno.stat(target), Deno.errors.NotFound, "nothing was imported, no store was made");
  const skipped = await cli([
    "import",
    "--store",
    `sqlite:${target}`,
    "--from-valkyr",
    `sqlite:${source}`,
    "--skip-bad",
    "--json",
  ]);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.match(skipped.stderr, new RegExp(`skipping row id=${broken.id}`));
  assert.deepEqual(
    { imported: JSON.parse(skipped.stdout).imported, bad: JSON.parse(skipped.stdout).bad },
    { imported: 49, bad: 1 },
  );
  await using store = new EventStore({ adapter: new SqliteAdapter(target), events: valkyrEvents });
  const ids = (await store.getEvents()).map((r) => r.id);
  assert.deepEqual(ids, small.ordered.filter((row) => row.id !== broken.id).map((row) => row.id));
});

Deno.test("valkyr import: the help text names --from-valkyr", async () => {
  const run = await cli(["import", "--help"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout + run.stderr, /--from-valkyr URL/);
  assert.match(run.stdout + run.stderr, /@valkyr\/event-store/);
});
