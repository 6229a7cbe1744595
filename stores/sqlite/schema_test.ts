import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { StoreOpenError } from "../../errors.ts";
import { type Codec, jsonCodec } from "../codec.ts";
import { _Connection } from "./database.ts";
import { row, tempDir } from "../../tests/_sqlite_helpers.ts";
import { MIGRATIONS, prepareSchema, SCHEMA_VERSION } from "./schema.ts";
import { SqliteAdapter } from "./sqlite_adapter.ts";

function meta(path: string): Record<string, string> {
  const db = new DatabaseSync(path);
  try {
    const rows = db.prepare("SELECT key, value FROM eventfold_meta").all() as {
      key: string;
      value: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  } finally {
    db.close();
  }
}

function setMeta(path: string, key: string, value: string): void {
  const db = new DatabaseSync(path);
  db.prepare("UPDATE eventfold_meta SET value = ? WHERE key = ?").run(value, key);
  db.close();
}

Deno.test("a new file records the schema version and the codec", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  await new SqliteAdapter(path).close();
  assert.deepEqual(meta(path), { schema_version: String(SCHEMA_VERSION), codec: "cbor" });
  await new SqliteAdapter(dir.file("json.db"), { codec: "json" }).close();
  assert.equal(meta(dir.file("json.db")).codec, "json");
});

Deno.test("opening a path in a missing directory is a StoreOpenError naming the path", async () => {
  await using dir = await tempDir();
  const path = dir.file("missing/events.db");
  const error = (() => {
    try {
      new SqliteAdapter(path);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof StoreOpenError);
  assert.equal(error.store, path);
  assert.match(error.message, /directory .*missing does not exist/);
});

Deno.test("opening a file that is not SQLite is a StoreOpenError naming the file", async () => {
  await using dir = await tempDir();
  const path = dir.file("notes.txt");
  await Deno.writeTextFile(path, "these are my notes, not a database\n".repeat(200));
  assert.throws(
    () => new SqliteAdapter(path),
    (error) =>
      error instanceof StoreOpenError && error.store === path && /not a SQLite database/.test(error.message),
  );
  assert.equal(await Deno.readTextFile(path), "these are my notes, not a database\n".repeat(200));
});

Deno.test("opening a file with a newer schema version is a StoreOpenError naming the file and versions", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  await new SqliteAdapter(path).close();
  setMeta(path, "schema_version", String(SCHEMA_VERSION + 1));
  assert.throws(
    () => new SqliteAdapter(path),
    (error) =>
      error instanceof StoreOpenError && error.message.includes(path) &&
      error.message.includes(`schema version ${SCHEMA_VERSION + 1}`) &&
      /upgrade Eventfold/.test(error.message),
  );
});

Deno.test("an older schema is migrated in one transaction, and a failed migration changes nothing", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  {
    await using adapter = new SqliteAdapter(path);
    await adapter.transaction((tx) => tx.insert([row("a", 1)]));
  }
  const broken = [...MIGRATIONS, {
    version: SCHEMA_VERSION + 1,
    sql: "CREATE TABLE eventfold_extra (x); CREATE TABLE eventfold_extra (x);",
  }];
  const db = new DatabaseSync(path);
  const connection = new _Connection(db);
  assert.throws(
    () => prepareSchema(connection, { source: path, codec: undefined, migrations: broken }),
    /already exists/,
  );
  assert.equal(
    db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'eventfold_extra'").get()!.n,
    0,
  );
  const next = [...MIGRATIONS, {
    version: SCHEMA_VERSION + 1,
    sql: "ALTER TABLE eventfold_events ADD COLUMN extra TEXT; CREATE TABLE eventfold_extra (x);",
  }];
  const codec = prepareSchema(connection, { source: path, codec: undefined, migrations: next });
  assert.equal(codec.name, "cbor");
  db.close();
  assert.equal(meta(path).schema_version, String(SCHEMA_VERSION + 1));
  // Reading again with the same steps is a no-op: no write lock, no change.
  const again = new _Connection(new DatabaseSync(path));
  prepareSchema(again, { source: path, codec: "cbor", migrations: next });
  (again.raw as DatabaseSync).close();
});

Deno.test("the codec recorded in the file is used when none is asked for", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  {
    await using adapter = new SqliteAdapter(path, { codec: "json" });
    await adapter.transaction((tx) => tx.insert([row("a", 1, { data: { when: "now" } })]));
  }
  await using adapter = new SqliteAdapter(path);
  assert.equal(adapter.codec, jsonCodec);
  assert.deepEqual((await adapter.readStream("a", { direction: "forward", limit: 1 }))[0].data, {
    when: "now",
  });
});

Deno.test("asking for another codec than the recorded one is a StoreOpenError", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  await new SqliteAdapter(path, { codec: "json" }).close();
  assert.throws(
    () => new SqliteAdapter(path, { codec: "cbor" }),
    (error) => error instanceof StoreOpenError && /"json" codec, not "cbor"/.test(error.message),
  );
});

Deno.test("a file written with a custom codec must be opened with that codec", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  const reversed: Codec = {
    name: "reversed-json",
    encode: (value) => jsonCodec.encode(value).reverse(),
    decode: (bytes) => jsonCodec.decode(bytes.slice().reverse()),
  };
  {
    await using adapter = new SqliteAdapter(path, { codec: reversed });
    await adapter.transaction((tx) => tx.insert([row("a", 1)]));
  }
  assert.throws(() => new SqliteAdapter(path), /custom codec "reversed-json"/);
  await using adapter = new SqliteAdapter(path, { codec: reversed });
  assert.deepEqual((await adapter.readStream("a", { direction: "forward", limit: 1 }))[0].data, { n: 1 });
});

Deno.test("an unknown codec name is a TypeError before anything is opened", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  assert.throws(() => new SqliteAdapter(path, { codec: "yaml" as never }), TypeError);
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
});

Deno.test("a version 1 file is migrated to the current version (subscription tables, imported flag), keeping its events", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  const db = new DatabaseSync(path);
  prepareSchema(new _Connection(db), { source: path, codec: undefined, migrations: MIGRATIONS.slice(0, 1) });
  db.prepare(
    "INSERT INTO eventfold_events (id, stream, type, revision, created, recorded) VALUES (?, ?, ?, ?, ?, ?)",
  ).run("e1", "s", "t", 1, "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z");
  db.close();
  assert.equal(meta(path).schema_version, "1");
  await using adapter = new SqliteAdapter(path);
  assert.equal(meta(path).schema_version, String(SCHEMA_VERSION));
  const [old] = await adapter.readStream("s", { direction: "forward", limit: 10 });
  assert.deepEqual([old.id, old.imported, old.version], ["e1", false, 1]);
  const parked = {
    name: "n",
    id: "e1",
    position: "0000000000000001",
    stream: "s",
    type: "t",
    hydrated: false,
    error: "Error: x",
    attempts: 1,
    parked: "2024-01-01T00:00:00.000Z",
  };
  await adapter.parkEvent(parked);
  assert.deepEqual(await adapter.listParked("n"), [parked]);
  const lease = await adapter.acquireLease("n", "me", 1000);
  assert.ok(lease);
  await lease.release();
});

Deno.test("a version 3 file with events gets the version column: old rows read version 1, new ones keep theirs", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  const db = new DatabaseSync(path);
  prepareSchema(new _Connection(db), { source: path, codec: undefined, migrations: MIGRATIONS.slice(0, 3) });
  const insert = db.prepare(
    "INSERT INTO eventfold_events (id, stream, type, revision, created, recorded, imported) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  insert.run("e1", "s", "t", 1, "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z", 0);
  insert.run("e2", "s", "t", 2, "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z", 1);
  db.close();
  assert.equal(meta(path).schema_version, "3");
  await using adapter = new SqliteAdapter(path);
  assert.equal(meta(path).schema_version, String(SCHEMA_VERSION));
  await adapter.transaction((tx) => tx.insert([row("s", 3, { version: 3 }), row("s", 4)]));
  const read = await adapter.readStream("s", { direction: "forward", limit: 10 });
  assert.deepEqual(read.map((r) => [r.id.length > 2 ? "new" : r.id, r.imported, r.version]), [
    ["e1", false, 1],
    ["e2", true, 1],
    ["new", false, 3],
    ["new", false, 1],
  ]);
  const log = await adapter.readLog({ direction: "backward", limit: 10 });
  assert.deepEqual(log.map((r) => r.version), [1, 3, 1, 1]);
  assert.deepEqual((await adapter.getByIds(["e2", read[2].id])).map((r) => r.version), [1, 3]);
});

Deno.test("a version 4 file gets the stream lifecycle table, keeping its events, and its streams can then be removed", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  const db = new DatabaseSync(path);
  prepareSchema(new _Connection(db), { source: path, codec: undefined, migrations: MIGRATIONS.slice(0, 4) });
  const insert = db.prepare(
    "INSERT INTO eventfold_events (id, stream, type, revision, created, recorded, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  insert.run("e1", "s", "t", 1, "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z", 2);
  insert.run("e2", "s", "t", 2, "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z", 1);
  insert.run("e3", "k", "t", 1, "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z", 1);
  assert.equal(
    db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'eventfold_streams'").get()!.n,
    0,
  );
  db.close();
  assert.equal(meta(path).schema_version, "4");
  await using adapter = new SqliteAdapter(path);
  assert.equal(meta(path).schema_version, String(SCHEMA_VERSION));
  assert.ok(SCHEMA_VERSION >= 5);
  const read = await adapter.readStream("s", { direction: "forward", limit: 10 });
  assert.deepEqual(read.map((r) => [r.id, r.revision, r.version]), [["e1", 1, 2], ["e2", 2, 1]]);
  assert.deepEqual(await adapter.stats(), { events: 3, streams: 2, head: "0000000000000003" });
  assert.deepEqual(
    await adapter.streamStatus(["s"]),
    new Map([["s", { revision: 2, deletedAt: 0, tombstoned: false, truncatedBefore: 1 }]]),
  );
  await adapter.transaction((tx) => tx.removeStream!("s", { revision: 2, tombstone: false }));
  assert.deepEqual(
    await adapter.transaction((tx) => tx.revisions(["s", "k"])),
    new Map([["s", 2], ["k", 1]]),
  );
  assert.deepEqual((await adapter.streamStatus(["s"])).get("s")?.deletedAt, 2);
});

Deno.test("a version 5 file gets the key table and the retention columns, keeping its events and stream status", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  const db = new DatabaseSync(path);
  prepareSchema(new _Connection(db), { source: path, codec: undefined, migrations: MIGRATIONS.slice(0, 5) });
  db.prepare(
    "INSERT INTO eventfold_events (id, stream, type, revision, created, recorded) VALUES (?, ?, ?, ?, ?, ?)",
  ).run("e1", "s", "t", 1, "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z");
  db.prepare("INSERT INTO eventfold_streams (stream, revision, deleted_at) VALUES (?, ?, ?)").run(
    "gone",
    3,
    3,
  );
  assert.equal(
    db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'eventfold_keys'").get()!.n,
    0,
  );
  db.close();
  assert.equal(meta(path).schema_version, "5");
  await using adapter = new SqliteAdapter(path);
  assert.equal(meta(path).schema_version, String(SCHEMA_VERSION));
  assert.equal(SCHEMA_VERSION, 7);
  const [old] = await adapter.readStream("s", { direction: "forward", limit: 10 });
  assert.equal(old.id, "e1");
  assert.deepEqual((await adapter.streamStatus(["gone"])).get("gone"), {
    revision: 3,
    deletedAt: 3,
    tombstoned: false,
    truncatedBefore: 1,
  });
  await adapter.transaction((tx) => tx.setStreamMetadata!("gone", { maxCount: 2 }));
  assert.deepEqual((await adapter.streamStatus(["gone"])).get("gone")?.metadata, { maxCount: 2 });
  assert.deepEqual(await adapter.streamsWithMetadata(undefined, 10), ["gone"]);
  const key = new Uint8Array(32).fill(7);
  assert.deepEqual(await adapter.createKey("u1", key), key);
  assert.deepEqual(await adapter.getKeys(["u1"]), new Map([["u1", key]]));
  assert.equal(await adapter.deleteKey("u1"), true);
});
