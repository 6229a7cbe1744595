/**
 * `eventfold forget` on a real SQLite file: the subject's personal fields read as null
 * afterwards, exports never held their cleartext, and bad input is one line, exit 2.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { event, EventFactory, type EventRecord, EventStore, SUBJECT_FORGOTTEN } from "../mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { assertOneLineFailure, cli, tempDir } from "../cli/_test_helpers.ts";

const people = new EventFactory([
  event.type("person:registered").data(z.object({ personId: z.string(), email: z.string() }))
    .personal({ subject: (data) => data.personId, fields: ["email"] }),
]);

Deno.test("cli: forget destroys a subject's key; exports hold no cleartext before or after", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/p.db`;
  {
    await using store = new EventStore({ adapter: new SqliteAdapter(path), events: people });
    await store.pushManyEvents([
      store.event({
        type: "person:registered",
        stream: "a",
        data: { personId: "p-a", email: "ada@example.com" },
      }),
      store.event({
        type: "person:registered",
        stream: "b",
        data: { personId: "p-b", email: "bob@example.com" },
      }),
    ]);
  }
  const before = await cli(["export", "--store", `sqlite:${path}`]);
  assert.equal(before.code, 0, before.stderr);
  assert.ok(!before.stdout.includes("ada@example.com") && before.stdout.includes("$sealed"), before.stdout);

  const run = await cli(["forget", "--store", `sqlite:${path}`, "p-a", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { subject: "p-a", destroyed: true });
  const again = await cli(["forget", "--store", `sqlite:${path}`, "p-a", "--json"]);
  assert.deepEqual(JSON.parse(again.stdout), { subject: "p-a", destroyed: false }, "idempotent");

  await using store = new EventStore({ adapter: new SqliteAdapter(path), events: people });
  const [a, b] = await store.getEvents();
  assert.deepEqual([a.data, a.forgotten], [{ personId: "p-a", email: null }, true]);
  const log = await store.getEvents() as EventRecord[];
  assert.deepEqual(log.filter((r) => r.type === SUBJECT_FORGOTTEN).map((r) => r.data), [
    { subject: "p-a", destroyed: true },
    { subject: "p-a", destroyed: false },
  ], "each call is in the log, for projectors and sync");
  assert.deepEqual(b.data, { personId: "p-b", email: "bob@example.com" });
  const verified = await cli(["verify", "--store", `sqlite:${path}`]);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);

  assertOneLineFailure(await cli(["forget", "--store", `sqlite:${path}`]), 2, /give the subject to forget/);
  assertOneLineFailure(
    await cli(["forget", "--store", `sqlite:${path}`, "a", "b"]),
    2,
    /unexpected argument "b"/,
  );
});
