import assert from "node:assert/strict";
import postgres from "postgres";
import {
  DecodeError,
  EventInsertionError,
  isConnectionLostError,
  StoreClosedError,
  StoreOpenError,
} from "../../errors.ts";
import type { EventRecord } from "../../events/record.ts";
import { event, EventFactory, EventStore } from "../../mod.ts";
import { dropSchema, freshSchema, PG_URL, pgAvailable } from "../../tests/_postgres_env.ts";
import { DuplicateIdError, type InsertableRecord, RevisionConflictError } from "../../contract/mod.ts";
import { PostgresAdapter, type PostgresAdapterOptions } from "./mod.ts";
import { SCHEMA_VERSION } from "./_schema.ts";

const ignore = !(await pgAvailable());

function test(name: string, fn: () => Promise<void> | void): void {
  Deno.test({ name, ignore, fn });
}

async function withAdapter(
  fn: (adapter: PostgresAdapter, schema: string) => Promise<void>,
  options: PostgresAdapterOptions = {},
): Promise<void> {
  const schema = options.schema ?? freshSchema();
  const adapter = new PostgresAdapter(PG_URL, { ...options, schema });
  try {
    await fn(adapter, schema);
  } finally {
    await adapter.close();
    await dropSchema(schema);
  }
}

let counter = 0;
function row(stream: string, revision: number, extra: Partial<InsertableRecord> = {}): InsertableRecord {
  return {
    id: `e${++counter}-${crypto.randomUUID()}`,
    stream,
    type: "t",
    data: { n: counter },
    meta: null,
    revision,
    created: new Date().toISOString(),
    outdated: false,
    ...extra,
  };
}

async function append(adapter: PostgresAdapter, records: InsertableRecord[]) {
  return await adapter.transaction(async (tx) => {
    await tx.revisions(records.map((record) => record.stream));
    return await tx.insert(records);
  });
}

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

test("insert() gives positions increasing in input order, and readLog pages both ways by cursor", async () => {
  await withAdapter(async (adapter) => {
    // More than 9 events in one transaction: sequence numbers of different lengths.
    const many = await append(adapter, Array.from({ length: 12 }, (_, i) => row("m", i + 1)));
    const first = await append(adapter, [row("b", 1), row("a", 1), row("b", 2)]);
    const second = await append(adapter, [row("a", 2), row("c", 1)]);
    const positions = [...many, ...first, ...second].map((record) => record.position);
    assert.deepEqual([...positions].sort(), positions);
    assert.equal(new Set(positions).size, 17);

    const forward: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await adapter.readLog({ direction: "forward", limit: 2, after: cursor, settle: true });
      if (page.length === 0) break;
      forward.push(...page.map((record) => record.position));
      cursor = page.at(-1)!.position;
    }
    assert.deepEqual(forward, positions);
    const backward = await adapter.readLog({
      direction: "backward",
      limit: 20,
      after: positions[15],
      settle: true,
    });
    assert.deepEqual(backward.map((record) => record.position), positions.slice(0, 15).reverse());
    assert.equal((await adapter.stats()).head, positions[16]);
    assert.equal((await adapter.lag(positions[10])).behind, 6);
    assert.deepEqual((await adapter.getByIds([second[1].id, "missing", first[0].id])).map((r) => r.id), [
      second[1].id,
      first[0].id,
    ]);
    await assert.rejects(
      () => adapter.readLog({ direction: "forward", limit: 1, after: "0000000000000042" }),
      RangeError,
    );
  });
});

test("insert() reports an existing id as DuplicateIdError and a taken revision as RevisionConflictError", async () => {
  await withAdapter(async (adapter) => {
    const [stored] = await append(adapter, [row("s", 1)]);
    await assert.rejects(
      () => append(adapter, [row("s", 2), { ...row("s", 3), id: stored.id }]),
      (error: unknown) => error instanceof DuplicateIdError && error.ids.join() === stored.id,
    );
    await assert.rejects(
      () => adapter.transaction((tx) => tx.insert([row("s", 1)])),
      (error: unknown) => error instanceof RevisionConflictError && error.stream === "s",
    );
    assert.equal((await adapter.stats()).events, 1);
    assert.deepEqual(
      await adapter.transaction((tx) => tx.revisions(["s", "new"])),
      new Map([["s", 1], ["new", 0]]),
    );
  });
});

/**
 * A slow writer: it inserts an event on stream "slow" (taking its transaction id), then
 * stays open until released.
 */
async function slowWriter(
  adapter: PostgresAdapter,
): Promise<{ slow: Promise<EventRecord[]>; release: () => void }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let inserted!: () => void;
  const insertedNow = new Promise<void>((resolve) => inserted = resolve);
  const slow = adapter.transaction(async (tx) => {
    const records = await tx.insert([row("slow", 1)]);
    inserted();
    await released;
    return records;
  });
  await insertedNow;
  return { slow, release };
}

test("readLog holds back events committed after an older open transaction, and lag() names it", async () => {
  await withAdapter(async (adapter) => {
    await append(adapter, [row("before", 1)]);
    const { slow, release } = await slowWriter(adapter);
    const [fast] = await append(adapter, [row("fast", 1)]);

    const visible = await adapter.readLog({ direction: "forward", limit: 10 });
    assert.deepEqual(visible.map((record) => record.stream), ["before"]);
    assert.equal((await adapter.readStream("fast", { direction: "forward", limit: 10 })).length, 1);
    const lag = await adapter.lag(visible[0].position);
    assert.equal(lag.behind, 0);
    assert.equal(lag.waiting, 1);
    assert.ok(lag.heldBy !== null && typeof lag.heldBy.pid === "number" && lag.heldBy.ms !== null);
    assert.equal(lag.head, visible[0].position);

    release();
    const [slowRecord] = await slow;
    const after = await adapter.readLog({ direction: "forward", limit: 10, after: visible[0].position });
    // The slow event sorts first: a reader that saw "fast" earlier would have skipped it.
    assert.deepEqual(after.map((record) => record.id), [slowRecord.id, fast.id]);
    assert.ok(slowRecord.position < fast.position);
    const done = await adapter.lag(after[1].position);
    assert.equal(done.behind, 0);
    assert.equal(done.waiting, 0);
  }, { visibilityWait: 0 });
});

test("a log read waits for events committed before it began, then returns them all in order", async () => {
  await withAdapter(async (adapter) => {
    await append(adapter, [row("before", 1)]);
    const { slow, release } = await slowWriter(adapter);
    await append(adapter, [row("fast", 1)]);
    let settled = false;
    const reading = adapter.readLog({ direction: "forward", limit: 10, settle: true }).finally(() =>
      settled = true
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(settled, false, "the read returned while an event committed before it was unreadable");
    release();
    await slow;
    assert.deepEqual((await reading).map((record) => record.stream), ["before", "slow", "fast"]);
  });
});

test("watch() wakes a listener of another adapter when events commit, and stops cleanly", async () => {
  await withAdapter(async (writer, schema) => {
    const watcher = new PostgresAdapter(PG_URL, { schema });
    try {
      let wakes = 0;
      const stop = watcher.watch(() => wakes++);
      const deadline = Date.now() + 5000;
      // LISTEN starts in the background: append until a notification arrives.
      for (let revision = 1; wakes === 0 && Date.now() < deadline; revision++) {
        await append(writer, [row("s", revision)]);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(wakes > 0, "no notification within 5 s");
      stop();
      stop();
    } finally {
      await watcher.close();
    }
    assert.throws(() => watcher.watch(() => {}), StoreClosedError);
  });
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

test("a statement that failed unseen in a transaction rolls it all back, and savepoints work on the handle", async () => {
  await withAdapter(async (adapter, schema) => {
    await adapter.open();
    const s = adapter.sql(schema);
    await assert.rejects(
      () =>
        adapter.transaction(async (tx) => {
          await tx.revisions(["s"]);
          await tx.insert([row("s", 1)]);
          // Not awaited: the failure aborts the transaction, and COMMIT must not pretend.
          tx.handle`SELECT 1 / 0`.catch(() => {});
        }),
      EventInsertionError,
    );
    assert.equal((await adapter.stats()).events, 0);

    await adapter.transaction(async (tx) => {
      await tx.revisions(["s"]);
      await tx.insert([row("s", 1)]);
      await assert.rejects(() =>
        tx.handle.savepoint(async (inner) => {
          await inner`INSERT INTO ${s}.relations (key, stream) VALUES ('k', 's')`;
          await inner`SELECT 1 / 0`;
        })
      );
      await tx.handle`INSERT INTO ${s}.relations (key, stream) VALUES ('kept', 's')`;
    });
    assert.deepEqual(await adapter.getStreamsByKeys(["k"]), []);
    assert.deepEqual(await adapter.getStreamsByKeys(["kept"]), ["s"]);
    assert.equal((await adapter.stats()).events, 1);
  });
});

test("an append whose COMMIT PostgreSQL refuses says it was rolled back, and nothing is stored", async () => {
  await withAdapter(async (adapter, schema) => {
    await adapter.open();
    const s = adapter.sql(schema);
    await adapter.sql`CREATE TABLE ${s}.deferred (k integer UNIQUE DEFERRABLE INITIALLY DEFERRED)`;
    await assert.rejects(
      () =>
        adapter.transaction(async (tx) => {
          await tx.revisions(["s"]);
          // Checked only at COMMIT, which travels with the final insert.
          await tx.handle`INSERT INTO ${s}.deferred (k) VALUES (1), (1)`;
          await tx.insert([row("s", 1)], { final: true });
        }),
      (error: unknown) => {
        assert.ok(error instanceof EventInsertionError, Deno.inspect(error));
        assert.match(error.message, /rolled the append back at COMMIT.*nothing was written/);
        assert.doesNotMatch(error.message, /unknown/);
        assert.equal((error.cause as { code?: string }).code, "23505");
        return true;
      },
    );
    assert.equal((await adapter.stats()).events, 0);
    assert.equal((await adapter.sql`SELECT k FROM ${s}.deferred`).length, 0);
  });
});

test("revisions() makes racing writers of one stream wait, so the second reads the first one's revision", async () => {
  await withAdapter(async (adapter) => {
    await adapter.open();
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    let locked!: () => void;
    const lockedNow = new Promise<void>((resolve) => locked = resolve);
    const first = adapter.transaction(async (tx) => {
      assert.equal((await tx.revisions(["s"])).get("s"), 0);
      locked();
      await held;
      return await tx.insert([row("s", 1), row("s", 2)]);
    });
    await lockedNow;
    let seen: number | undefined;
    const second = adapter.transaction(async (tx) => {
      seen = (await tx.revisions(["s", "other"])).get("s");
      return await tx.insert([row("s", seen! + 1)]);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(seen, undefined, "the second writer did not wait for the lock");
    release();
    await first;
    const [last] = await second;
    assert.equal(seen, 2);
    assert.equal(last.revision, 3);
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
      assert.match(Deno.inspect(adapter), /PostgresAdapter \{ source: "postgres:\/\/[^"]*@/);
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
