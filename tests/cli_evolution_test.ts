/**
 * The command line and event evolution: `export` writes records as stored (type, version,
 * payload) so a round trip and a copy are exact; `import` keeps versions and, with
 * definitions, checks what an upcast reads back; `verify --definitions` finds upcasters
 * that throw or return the wrong shape; `events` and `replay` read through definitions
 * when given them.
 */

import assert from "node:assert/strict";
import { EventStore } from "../mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { assertOneLineFailure, cli, tempDir, writeModule } from "../cli/_test_helpers.ts";
import { eventsV1 } from "../examples/evolution/events_v1.ts";
import { eventsV3 } from "../examples/evolution/events_v3.ts";

const V3 = new URL("../examples/evolution/events_v3.ts", import.meta.url).pathname;

/** Three users written by version 1 code, then one more by version 3 code. */
async function seed(path: string): Promise<void> {
  {
    await using old = new EventStore({ adapter: new SqliteAdapter(path), events: eventsV1 });
    await old.pushManyEvents([
      old.event({ type: "user:registered", stream: "user-1", data: { name: "Ada Lovelace" } }),
      old.event({ type: "user:registered", stream: "user-2", data: { name: "Grace Hopper" } }),
    ]);
    await old.pushEvent(old.event({ type: "user:deactivated", stream: "user-2" }));
  }
  await using current = new EventStore({ adapter: new SqliteAdapter(path), events: eventsV3 });
  await current.pushEvent(current.event({
    type: "user:created",
    stream: "user-3",
    data: { given: "Alan", family: "Turing", email: "alan@example.com" },
  }));
}

function lines(text: string): Record<string, unknown>[] {
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

Deno.test("cli: export writes records as stored, with their version; import and copy keep it exactly", async () => {
  await using dir = await tempDir();
  await seed(`${dir.path}/a.db`);
  const exported = await cli(["export", "--store", `sqlite:${dir.path}/a.db`]);
  assert.equal(exported.code, 0, exported.stderr);
  const records = lines(exported.stdout);
  assert.deepEqual(records.map((r) => [r.type, r.version]), [
    ["user:registered", 1],
    ["user:registered", 1],
    ["user:deactivated", 1],
    ["user:created", 3],
  ]);
  assert.deepEqual(records[0].data, { name: "Ada Lovelace" }, "the payload as written, not upcast");

  const imported = await cli(["import", "--store", `sqlite:${dir.path}/b.db`, "-"], {
    stdin: exported.stdout,
  });
  assert.equal(imported.code, 0, imported.stderr);
  const again = await cli(["export", "--store", `sqlite:${dir.path}/b.db`]);
  assert.equal(again.stdout, exported.stdout, "export, import, export: the same bytes");

  const copied = await cli(["copy", "--from", `sqlite:${dir.path}/a.db`, "--to", `sqlite:${dir.path}/c.db`]);
  assert.equal(copied.code, 0, copied.stderr);
  assert.equal((await cli(["export", "--store", `sqlite:${dir.path}/c.db`])).stdout, exported.stdout);

  // What the copy holds reads at version 3 through today's definitions.
  await using store = new EventStore({ adapter: new SqliteAdapter(`${dir.path}/c.db`), events: eventsV3 });
  const read = await store.getEvents();
  assert.deepEqual(read.map((r) => [r.type, r.version, r.storedVersion]), [
    ["user:created", 3, 1],
    ["user:created", 3, 1],
    ["user:deactivated", 1, 1],
    ["user:created", 3, 3],
  ]);
  assert.deepEqual(read[0].data, { given: "Ada", family: "Lovelace", email: null });
});

Deno.test("cli: import --definitions checks the upcast of an old line and refuses a newer version", async () => {
  await using dir = await tempDir();
  const line = (fields: Record<string, unknown>) =>
    JSON.stringify({
      id: crypto.randomUUID(),
      stream: "user-9",
      type: "user:registered",
      created: "2026-01-01T00:00:00.000Z",
      ...fields,
    });
  const store = `sqlite:${dir.path}/i.db`;
  const good = await cli(["import", "--store", store, "--definitions", V3, "--export", "eventsV3", "-"], {
    stdin: `${line({ version: 1, data: { name: "Ada Lovelace" } })}\n`,
  });
  assert.equal(good.code, 0, good.stderr);

  const newer = await cli(["import", "--store", store, "--definitions", V3, "--export", "eventsV3", "-"], {
    stdin: `${line({ version: 1, data: { name: "Alan Turing" } })}\n${line({ version: 4, data: {} })}\n`,
  });
  assertOneLineFailure(
    newer,
    1,
    /line 2: .*version 4, newer than the definition's version 3.*nothing was imported/,
  );

  const wrong = await cli(["import", "--store", store, "--definitions", V3, "--export", "eventsV3", "-"], {
    stdin: `${line({ version: 1, data: { name: 42 } })}\n`,
  });
  assertOneLineFailure(wrong, 1, /line 1: .*upcast from version 1 to 2.*nothing was imported/);

  await using opened = new EventStore({ adapter: new SqliteAdapter(`${dir.path}/i.db`), events: eventsV3 });
  const read = await opened.getEvents();
  assert.equal(read.length, 1, "only the good import is stored");
  assert.deepEqual([read[0].type, read[0].storedVersion, read[0].data], [
    "user:created",
    1,
    { given: "Ada", family: "Lovelace", email: null },
  ]);
});

Deno.test("cli: verify --definitions passes good upcasters and names the ones that throw or give the wrong shape", async () => {
  await using dir = await tempDir();
  await seed(`${dir.path}/v.db`);
  const store = `sqlite:${dir.path}/v.db`;
  const ok = await cli(["verify", "--store", store, "--definitions", V3, "--export", "eventsV3", "--json"]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.equal(lines(ok.stdout).at(-1)!.problems, 0);

  const broken = await writeModule(
    dir.path,
    "broken.ts",
    `import { event, EventFactory } from "MOD";
import { z } from "npm:zod@^4.1.0";
const user = z.object({ given: z.string(), family: z.string(), email: z.string().nullable() });
export const throwing = new EventFactory([
  event.type("user:created").version(3).data(user)
    .upcast(1, () => { throw new Error("no name split"); })
    .upcast(2, ({ data, meta }) => ({ data, meta }))
    .renamedFrom("user:registered"),
  event.type("user:deactivated"),
]);
export const misshaped = new EventFactory([
  event.type("user:created").version(3).data(user)
    .upcast(1, ({ data, meta }) => ({ data, meta }))
    .upcast(2, ({ data, meta }) => ({ data, meta }))
    .renamedFrom("user:registered"),
  event.type("user:deactivated"),
]);
`,
  );
  const thrown = await cli([
    "verify",
    "--store",
    store,
    "--definitions",
    broken,
    "--export",
    "throwing",
    "--json",
  ]);
  assert.equal(thrown.code, 1);
  const upcast = lines(thrown.stdout).filter((finding) => finding.problem === "upcast");
  assert.equal(upcast.length, 2, thrown.stdout);
  assert.match(
    String(upcast[0].message),
    /"user:created" \(stored as "user:registered"\) upcast from version 1 to 2.*no name split/,
  );

  const shaped = await cli([
    "verify",
    "--store",
    store,
    "--definitions",
    broken,
    "--export",
    "misshaped",
    "--json",
  ]);
  assert.equal(shaped.code, 1);
  const schema = lines(shaped.stdout).filter((finding) => finding.problem === "schema");
  assert.equal(schema.length, 2, shaped.stdout);
  assert.match(String(schema[0].message), /data\.given.*\(stored at version 1, upcast to version 3\)/);
});

Deno.test("cli: events prints records as stored, or through --definitions as the application reads them", async () => {
  await using dir = await tempDir();
  await seed(`${dir.path}/e.db`);
  const store = `sqlite:${dir.path}/e.db`;
  const stored = lines((await cli(["events", "--store", store, "--stream", "user-1"])).stdout);
  assert.deepEqual([stored[0].type, stored[0].version, stored[0].data], ["user:registered", 1, {
    name: "Ada Lovelace",
  }]);
  assert.equal("storedVersion" in stored[0], false);

  const run = await cli([
    "events",
    "--store",
    store,
    "--definitions",
    V3,
    "--export",
    "eventsV3",
    "--type",
    "user:created",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const current = lines(run.stdout);
  assert.deepEqual(
    current.map((r) => [r.stream, r.type, r.version, r.storedVersion]),
    [["user-1", "user:created", 3, 1], ["user-2", "user:created", 3, 1], [
      "user-3",
      "user:created",
      3,
      undefined,
    ]],
    "a filter by the new name finds records stored under the old one",
  );
  assert.deepEqual(current[1].data, { given: "Grace", family: "Hopper", email: null });

  const bad = await cli(["events", "--store", store, "--export", "eventsV3"]);
  assertOneLineFailure(bad, 2, /--export names an export of --definitions/);
});

Deno.test("cli: replay --definitions folds upcast events; without it the reducer sees them as stored", async () => {
  await using dir = await tempDir();
  await seed(`${dir.path}/r.db`);
  const store = `sqlite:${dir.path}/r.db`;
  const reducer = await writeModule(
    dir.path,
    "names.ts",
    `import { makeReducer } from "MOD";
export { eventsV3 as events } from "${V3}";
export default makeReducer((names: string[], record: { type: string; data: Record<string, unknown> | null }) =>
  record.type === "user:created" ? [...names, \`\${record.data!.given} \${record.data!.family}\`] : names, []);
`,
  );
  const run = await cli([
    "replay",
    "--store",
    store,
    "--module",
    reducer,
    "--definitions",
    reducer,
    "--json",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout).state, ["Ada Lovelace", "Grace Hopper", "Alan Turing"]);

  const raw = await cli(["replay", "--store", store, "--module", reducer, "--json"]);
  assert.equal(raw.code, 0, raw.stderr);
  assert.deepEqual(JSON.parse(raw.stdout).state, ["Alan Turing"], "stored names are not the new type");

  const bad = await cli(["replay", "--store", store, "--module", reducer, "--definitions-export", "events"]);
  assertOneLineFailure(bad, 2, /--definitions-export names an export of --definitions/);
});
