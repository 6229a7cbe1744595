import assert from "node:assert/strict";
import postgres from "postgres";
import { DecodeError, isConnectionLostError, StoreClosedError, StoreOpenError } from "../../errors.ts";
import { event, EventFactory, EventStore } from "../../mod.ts";
import { dropSchema, freshSchema, PG_URL } from "../../tests/_postgres_env.ts";
import { PostgresAdapter } from "./mod.ts";
import { SCHEMA_VERSION } from "./_schema.ts";
import { append, row, test, withAdapter } from "./_test_helpers.ts";

const SECRET = "hunter2-not-shown";

Deno.test("new PostgresAdapter() rejects a URL it cannot parse with a TypeError that hides the password", () => {
  for (const url of [`postgres://u:${SECRET}@[::bad/db`, `mysql://u:${SECRET}@localhost/db`]) {
    assert.throws(() => new PostgresAdapter(url), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.ok(!Deno.inspect(error).includes(SECRET), Deno.inspect(error));
      return true;
    });
  }
});

Deno.test("new PostgresAdapter() rejects schema names PostgreSQL or postgres.js would misread", () => {
  assert.throws(() => new PostgresAdapter(PG_URL, { schema: "" }), TypeError);
  assert.throws(() => new PostgresAdapter(PG_URL, { schema: "a.b" }), TypeError);
  assert.throws(() => new PostgresAdapter(PG_URL, { schema: "pg_mine" }), TypeError);
  assert.throws(() => new PostgresAdapter(PG_URL, { schema: "x".repeat(64) }), RangeError);
  assert.throws(() => new PostgresAdapter(PG_URL, { codec: "yaml" as "json" }), TypeError);
});

test("open() reports a refused connection as a retryable ConnectionLostError without the password", async () => {
  const adapter = new PostgresAdapter(`postgres://root:${SECRET}@127.0.0.1:1/test`, {
    schema: freshSchema(),
  });
  try {
    for (const call of [() => adapter.open(), () => adapter.stats()]) {
      const error = await call().then(() => undefined, (error) => error);
      assert.ok(isConnectionLostError(error), `expected ConnectionLostError, got ${error}`);
      assert.equal(error.operation, "open");
      assert.equal(error.mayHaveCommitted, false);
      assert.equal((error.cause as { code?: string }).code, "ECONNREFUSED");
      assert.match(error.message, /retried/);
      assert.ok(!Deno.inspect(error).includes(SECRET), Deno.inspect(error));
    }
  } finally {
    await adapter.close();
  }
});

test("open() reports a missing database and an unknown user as StoreOpenError without the password", async () => {
  const target = new URL(PG_URL);
  const cases: [string, RegExp][] = [
    [
      `postgres://${target.username || "root"}:${SECRET}@${target.host}/eventfold_no_such_db`,
      /does not exist/,
    ],
    [`postgres://eventfold_nobody:${SECRET}@${target.host}${target.pathname}`, /eventfold_nobody/],
  ];
  for (const [url, reason] of cases) {
    const adapter = new PostgresAdapter(url, { schema: freshSchema() });
    try {
      const error = await adapter.open().then(() => undefined, (error) => error);
      assert.ok(error instanceof StoreOpenError, `expected StoreOpenError, got ${error}`);
      assert.match(error.message, reason);
      assert.ok(!error.store.includes(SECRET));
      assert.ok(!Deno.inspect(error).includes(SECRET), Deno.inspect(error));
      assert.ok(!adapter.source.includes(SECRET));
    } finally {
      await adapter.close();
    }
  }
});

test("the schema is created once when several adapters open it at the same time", async () => {
  const schema = freshSchema();
  const adapters = Array.from({ length: 6 }, () => new PostgresAdapter(PG_URL, { schema }));
  try {
    await Promise.all(adapters.map((adapter) => adapter.open()));
    const [{ count }] = await adapters[0].sql`SELECT count(*)::int AS count FROM ${
      adapters[0].sql(schema)
    }.migrations`;
    assert.equal(count, SCHEMA_VERSION, "each migration recorded once");
  } finally {
    await Promise.all(adapters.map((adapter) => adapter.close()));
    await dropSchema(schema);
  }
});

test("a JSON store keeps payloads in jsonb, and a later adapter reads them with the recorded codec", async () => {
  await withAdapter(async (adapter, schema) => {
    await append(adapter, [row("s", 1, { data: { a: [1, "two", null] }, meta: { by: "me" } })]);
    const [{ type }] = await adapter.sql`
      SELECT data_type AS type FROM information_schema.columns
      WHERE table_schema = ${schema} AND table_name = 'events' AND column_name = 'data'`;
    assert.equal(type, "jsonb");
    const [{ a }] = await adapter.sql`SELECT data->'a'->>1 AS a FROM ${adapter.sql(schema)}.events`;
    assert.equal(a, "two");

    const reader = new PostgresAdapter(PG_URL, { schema });
    const wrong = new PostgresAdapter(PG_URL, { schema, codec: "cbor" });
    try {
      assert.equal((await reader.codec()).name, "json");
      const [record] = await reader.readStream("s", { direction: "forward", limit: 10 });
      assert.deepEqual(record.data, { a: [1, "two", null] });
      assert.deepEqual(record.meta, { by: "me" });
      await assert.rejects(() => wrong.open(), StoreOpenError);
    } finally {
      await reader.close();
      await wrong.close();
    }
  }, { codec: "json" });
});

test("the CBOR default keeps dates, bigints, maps and bytes", async () => {
  await withAdapter(async (adapter) => {
    const data = {
      at: new Date(1234),
      big: 2n ** 70n,
      map: new Map([[1, "one"]]),
      bytes: new Uint8Array([0, 255]),
    };
    await append(adapter, [row("s", 1, { data })]);
    const [record] = await adapter.readLog({ direction: "forward", limit: 1, settle: true });
    assert.deepEqual(record.data, data);
    assert.equal(record.meta, null);
  });
});

test("schema, stream, type and other names with quotes, semicolons and unicode are stored as data", async () => {
  const schema = `t_${crypto.randomUUID().slice(0, 6)} '";-- ü😀`;
  const stream = `s'); DROP TABLE events; --"ü😀`;
  const type = `type"with'quote;and\\backslash`;
  await withAdapter(async (adapter) => {
    await append(adapter, [row(stream, 1, { type }), row(stream, 2, { type: "plain" }), row("other", 1)]);
    const byStream = await adapter.readStream(stream, { direction: "forward", limit: 10, types: [type] });
    assert.deepEqual(byStream.map((record) => [record.stream, record.type, record.revision]), [[
      stream,
      type,
      1,
    ]]);
    const byLog = await adapter.readLog({
      direction: "forward",
      limit: 10,
      streams: [stream],
      types: [type, "plain"],
      settle: true,
    });
    assert.equal(byLog.length, 2);
    await adapter.updateRelations([{ op: "insert", key: `k'";`, stream }]);
    assert.deepEqual(await adapter.getStreamsByKeys([`k'";`]), [stream]);
    await adapter.putSnapshot({
      name: `n"'`,
      stream,
      state: { x: 1 },
      revision: 2,
      position: null,
      version: 1,
    });
    assert.deepEqual((await adapter.getSnapshot(`n"'`, stream))?.state, { x: 1 });
    assert.ok(await adapter.putCheckpoint(`c;'"`, null, { position: byLog[1].position }));
    assert.equal((await adapter.getCheckpoint(`c;'"`))?.position, byLog[1].position);
    assert.equal((await adapter.stats()).events, 3);
  }, { schema });
});

test("an adapter given a client uses it and leaves it open; close() is idempotent", async () => {
  const schema = freshSchema();
  const sql = postgres(PG_URL, { onnotice: () => {} });
  try {
    const adapter = new PostgresAdapter(sql, { schema });
    await append(adapter, [row("s", 1)]);
    const stop = adapter.watch(() => {});
    stop();
    await adapter.close();
    await adapter.close();
    await assert.rejects(() => adapter.stats(), StoreClosedError);
    const [{ one }] = await sql`SELECT 1 AS one`;
    assert.equal(one, 1);
    assert.ok(!adapter.source.includes("@@"));
  } finally {
    await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
    await sql.end();
  }
});

test("a payload the codec cannot read raises DecodeError naming the position", async () => {
  await withAdapter(async (adapter, schema) => {
    const [stored] = await append(adapter, [row("s", 1)]);
    await adapter.sql`UPDATE ${adapter.sql(schema)}.events SET data = '\\xff00ff'::bytea`;
    await assert.rejects(
      () => adapter.readLog({ direction: "forward", limit: 1, settle: true }),
      (error: unknown) =>
        error instanceof DecodeError && error.position === stored.position && error.field === "data",
    );
  });
});

test("printing an adapter or its store never shows the password, even deep and while connected", async () => {
  const schema = freshSchema();
  const url = new URL(PG_URL);
  url.password = SECRET;
  const adapter = new PostgresAdapter(url.href, { schema });
  try {
    const store = new EventStore({ adapter, events: new EventFactory([event.type("tick")]) });
    await store.pushEvent(store.event({ type: "tick" }));
    const stop = adapter.watch(() => {});
    const lease = await adapter.acquireLease("printed", "me", 1000);
    try {
      for (const printed of [Deno.inspect(adapter, { depth: 8 }), Deno.inspect(store, { depth: 8 })]) {
        assert.ok(!printed.includes(SECRET), printed);
      }
      assert.match(Deno.inspect(adapter), /PostgresAdapter \{ location: "postgres:\/\/[^"]*@/);
      // The client is still there for read models, and its options still work.
      assert.equal((await adapter.sql<{ one: number }[]>`SELECT 1 AS one`)[0].one, 1);
      assert.ok(!Object.keys(adapter).includes("sql"), "the client is not an own field");
    } finally {
      await lease?.release();
      stop();
    }
  } finally {
    await adapter.close();
    await dropSchema(schema);
  }
});
