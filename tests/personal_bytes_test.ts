/**
 * What is on disk and in the tables when events hold personal fields: no byte of their
 * cleartext, before a subject is forgotten or after. SQLite: the database file and its
 * WAL, searched byte for byte (the search is shown to find a field that is not personal),
 * also of a sync target, for what its source forgot before and after the sync.
 * PostgreSQL: the events table's payload column, searched in the server.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { event, EventFactory, EventStore } from "../mod.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { sync } from "../sync/mod.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { test } from "../stores/postgres/_test_helpers.ts";
import { dropSchema, freshSchema, PG_URL } from "./_postgres_env.ts";

const people = new EventFactory([
  event.type("person:registered")
    .data(z.object({ personId: z.string(), email: z.string(), name: z.string(), city: z.string() }))
    .personal({ subject: (data) => data.personId, fields: ["email", "name"] }),
]);

const EMAIL = "grace.hopper.personal@example.com";
const NAME = "Grace Brewster Murray Hopper";
const CITY = "Arlington-Not-Personal";

async function write(store: EventStore<typeof people>): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await store.pushEvent(store.event({
      type: "person:registered",
      stream: `grace-${i}`,
      data: { personId: "p-grace", email: EMAIL, name: NAME, city: CITY },
    }));
  }
}

function contains(haystack: Uint8Array, text: string): boolean {
  const needle = new TextEncoder().encode(text);
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

async function fileBytes(path: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const file of [path, `${path}-wal`]) {
    try {
      out.push(await Deno.readFile(file));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return out;
}

Deno.test("SQLite: the file and its WAL never hold a personal field's cleartext, before or after forget", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventfold-personal-" });
  try {
    const path = `${dir}/p.db`;
    {
      await using store = new EventStore({ adapter: new SqliteAdapter(path), events: people });
      await write(store);
      const open = await fileBytes(path);
      assert.ok(open.some((bytes) => contains(bytes, CITY)), "the search finds a field that is not personal");
      for (const bytes of open) {
        assert.ok(!contains(bytes, EMAIL) && !contains(bytes, NAME), "no cleartext while open");
      }
    }
    for (const bytes of await fileBytes(path)) {
      assert.ok(!contains(bytes, EMAIL) && !contains(bytes, NAME), "no cleartext after a checkpoint");
    }
    {
      await using store = new EventStore({ adapter: new SqliteAdapter(path), events: people });
      assert.equal((await store.getEvents())[0].data.email, EMAIL, "readable while the key exists");
      await store.forget("p-grace");
      const [record] = await store.getEvents();
      assert.deepEqual([record.data.email, record.data.name, record.data.city, record.forgotten], [
        null,
        null,
        CITY,
        true,
      ]);
    }
    const after = await fileBytes(path);
    for (const bytes of after) {
      assert.ok(!contains(bytes, EMAIL) && !contains(bytes, NAME), "no cleartext after forget");
    }
    assert.ok(after.some((bytes) => contains(bytes, CITY)), "the rest of the records stays");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SQLite: a sync target's file never holds the cleartext of what its source forgot, before or after the sync", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventfold-personal-" });
  try {
    const path = `${dir}/target.db`;
    await using source = new EventStore({ adapter: new MemoryAdapter(), events: people });
    await write(source);
    const ada = "ada.lovelace.personal@example.com";
    await source.pushEvent(source.event({
      type: "person:registered",
      stream: "ada",
      data: { personId: "p-ada", email: ada, name: "Ada Lovelace", city: CITY },
    }));
    await source.forget("p-ada"); // before the first sync: Ada arrives forgotten
    {
      await using target = new EventStore({ adapter: new SqliteAdapter(path), events: people });
      await sync({ from: source, to: target });
      assert.equal((await target.getEvents())[0].data.email, EMAIL, "Grace readable, under the target's key");
    }
    for (const bytes of await fileBytes(path)) {
      assert.ok(!contains(bytes, ada), "Ada never reached the target");
    }
    await source.forget("p-grace"); // after it: the forget travels
    {
      await using target = new EventStore({ adapter: new SqliteAdapter(path), events: people });
      await sync({ from: source, to: target });
      const registered = (await target.getEvents()).filter((record) => record.type === "person:registered");
      assert.deepEqual(registered.map((record) => [record.data.email, record.forgotten]), [
        [null, true],
        [null, true],
        [null, true],
        [null, true],
      ]);
    }
    const after = await fileBytes(path);
    for (const bytes of after) {
      assert.ok(!contains(bytes, EMAIL) && !contains(bytes, NAME) && !contains(bytes, ada), "no cleartext");
    }
    assert.ok(after.some((bytes) => contains(bytes, CITY)), "the search finds a field that is not personal");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("PostgreSQL: the events table holds no personal field's cleartext, before or after forget", async () => {
  const schema = freshSchema();
  try {
    await using store = new EventStore({ adapter: new PostgresAdapter(PG_URL, { schema }), events: people });
    await write(store);
    const found = async (text: string): Promise<number> => {
      const [row] = await store.adapter.sql.unsafe(
        `SELECT count(*)::int AS n FROM "${schema}".events WHERE position(convert_to($1, 'UTF8') in data) > 0`,
        [text],
      );
      return (row as { n: number }).n;
    };
    assert.equal(await found(CITY), 3, "the scan finds a field that is not personal");
    assert.equal(await found(EMAIL), 0);
    assert.equal(await found(NAME), 0);
    await store.forget("p-grace");
    assert.equal(await found(EMAIL), 0);
    assert.equal(await found(NAME), 0);
    const [record] = await store.getEvents();
    assert.deepEqual([record.data.email, record.data.city, record.forgotten], [null, CITY, true]);
  } finally {
    await dropSchema(schema);
  }
});
