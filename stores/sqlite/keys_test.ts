import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { tempDir } from "../../tests/_sqlite_helpers.ts";
import { SqliteAdapter } from "./sqlite_adapter.ts";

function randomKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** Whether `needle` occurs in `haystack`. */
function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = haystack.indexOf(needle[0]); i !== -1; i = haystack.indexOf(needle[0], i + 1)) {
    if (i + needle.length > haystack.length) return false;
    for (let j = 1; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

/** Whether the database file or its WAL holds `bytes`. */
async function fileHolds(path: string, bytes: Uint8Array): Promise<boolean> {
  for (const file of [path, `${path}-wal`]) {
    let content: Uint8Array;
    try {
      content = await Deno.readFile(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    if (contains(content, bytes)) return true;
  }
  return false;
}

Deno.test("a key is created, read back as a copy, and deleted", async () => {
  await using dir = await tempDir();
  await using adapter = new SqliteAdapter(dir.file("events.db"));
  const key = randomKey();
  const created = await adapter.createKey("u1", key);
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

Deno.test("createKey keeps the first key of a subject", async () => {
  await using adapter = new SqliteAdapter(":memory:");
  const first = randomKey();
  assert.deepEqual(await adapter.createKey("u1", first), first);
  assert.deepEqual(await adapter.createKey("u1", randomKey()), first);
  assert.deepEqual((await adapter.getKeys(["u1"])).get("u1"), first);
});

Deno.test("two adapters on one file racing to create keys agree on each subject's key", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  await using a = new SqliteAdapter(path);
  await using b = new SqliteAdapter(path);
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
});

Deno.test("bad subjects and keys are TypeErrors", async () => {
  await using adapter = new SqliteAdapter(":memory:");
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

Deno.test("deleteKey is idempotent, and a key made after a delete is a new one", async () => {
  await using dir = await tempDir();
  await using adapter = new SqliteAdapter(dir.file("events.db"));
  const old = await adapter.createKey("u1", randomKey());
  assert.equal(await adapter.deleteKey("u1"), true);
  assert.equal(await adapter.deleteKey("u1"), false);
  assert.equal(await adapter.deleteKey("never"), false);
  const next = await adapter.createKey("u1", randomKey());
  assert.notDeepEqual(next, old);
  assert.deepEqual((await adapter.getKeys(["u1"])).get("u1"), next);
});

Deno.test("a deleted key's bytes are left neither in the database file nor in its WAL", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  const adapter = new SqliteAdapter(path);
  const key = new TextEncoder().encode("SHRED-ME".repeat(4));
  const other = new TextEncoder().encode("KEEP-ME!".repeat(4));
  await adapter.createKey("u1", key);
  await adapter.createKey("u2", other);
  // Copy the committed pages into the file, so the key is there as it would be for good.
  const outside = new DatabaseSync(path);
  outside.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  outside.close();
  assert.equal(await fileHolds(path, key), true);
  assert.equal(await fileHolds(path, other), true);

  assert.equal(await adapter.deleteKey("u1"), true);
  // Still open: the delete's own checkpoint carried the overwritten page into the file.
  assert.equal(await fileHolds(path, key), false);
  assert.equal(await fileHolds(path, other), true);
  await adapter.close();
  assert.equal(await fileHolds(path, key), false);
  assert.equal(await fileHolds(path, other), true);
});

Deno.test("deleteKey succeeds while another connection's read keeps the checkpoint from finishing", async () => {
  await using dir = await tempDir();
  const path = dir.file("events.db");
  await using adapter = new SqliteAdapter(path);
  await adapter.createKey("u1", randomKey());
  const outside = new DatabaseSync(path);
  try {
    outside.exec("BEGIN");
    assert.equal(outside.prepare("SELECT count(*) AS n FROM eventfold_keys").get()!.n, 1);
    assert.equal(await adapter.deleteKey("u1"), true);
    assert.deepEqual(await adapter.getKeys(["u1"]), new Map());
    outside.exec("COMMIT");
  } finally {
    outside.close();
  }
});

Deno.test("keys written inside a transaction commit and roll back with it", async () => {
  await using dir = await tempDir();
  await using adapter = new SqliteAdapter(dir.file("events.db"));
  const key = randomKey();
  await assert.rejects(
    adapter.transaction(async () => {
      await adapter.createKey("u1", key);
      throw new Error("undo");
    }),
    /undo/,
  );
  assert.deepEqual(await adapter.getKeys(["u1"]), new Map());
  await adapter.transaction(async () => {
    assert.deepEqual(await adapter.createKey("u1", key), key);
  });
  assert.deepEqual((await adapter.getKeys(["u1"])).get("u1"), key);
  await adapter.transaction(async () => {
    assert.equal(await adapter.deleteKey("u1"), true);
  });
  assert.deepEqual(await adapter.getKeys(["u1"]), new Map());
});
