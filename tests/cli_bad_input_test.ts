import assert from "node:assert/strict";
import {
  assertOneLineFailure,
  cli,
  seedSqlite,
  tempDir,
  writeHistory,
  writeModule,
} from "../cli/_test_helpers.ts";

Deno.test("cli: an unknown command is one line on stderr and exit 2", async () => {
  assertOneLineFailure(await cli(["frobnicate"]), 2, /unknown command "frobnicate"/);
});

Deno.test("cli: an unknown flag is one line on stderr and exit 2", async () => {
  assertOneLineFailure(
    await cli(["info", "--store", "memory:", "--colour"]),
    2,
    /unknown flag --colour for "eventfold info"/,
  );
});

Deno.test("cli: a malformed store URL is exit 2 and never shows the password", async (t) => {
  for (
    const url of ["postgres://ada:hunter2@host:port/db", "mysql://ada:hunter2@db/x", "events.db", "sqlite:"]
  ) {
    await t.step(url, async () => {
      const run = await cli(["info", "--store", url]);
      assertOneLineFailure(run, 2, /--store: /);
      assert.doesNotMatch(run.stderr, /hunter2/);
    });
  }
});

Deno.test("cli: an unreachable server is exit 1, one line, without the password", async () => {
  const run = await cli(["info", "--store", "postgres://ada:hunter2@127.0.0.1:1/db?schema=x"]);
  assertOneLineFailure(run, 1, /cannot open postgres:\/\/ada@127\.0\.0\.1:1\/db\?schema=x: .*ECONNREFUSED/);
  assert.doesNotMatch(run.stderr, /hunter2/);
});

Deno.test("cli: --debug adds the stack trace", async () => {
  const run = await cli(["info", "--store", "postgres://ada:hunter2@127.0.0.1:1/db", "--debug"]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^\s+at /m);
  assert.doesNotMatch(run.stderr, /hunter2/);
});

Deno.test("cli: missing files are exit 1 with one line", async (t) => {
  await using dir = await tempDir();
  await t.step("a missing SQLite store is not created", async () => {
    assertOneLineFailure(
      await cli(["info", "--store", `sqlite:${dir.path}/none.db`]),
      1,
      /no SQLite store at .*none\.db/,
    );
    await assert.rejects(Deno.stat(`${dir.path}/none.db`));
  });
  await t.step("a file that is not a store", async () => {
    await Deno.writeTextFile(`${dir.path}/text.db`, "hello, not a database at all".repeat(100));
    assertOneLineFailure(
      await cli(["info", "--store", `sqlite:${dir.path}/text.db`]),
      1,
      /is not a SQLite database/,
    );
  });
  await t.step("a missing NDJSON file", async () => {
    assertOneLineFailure(
      await cli(["import", "--store", "memory:", `${dir.path}/none.ndjson`]),
      1,
      /none\.ndjson: no such file/,
    );
  });
  await t.step("a missing module", async () => {
    const run = await cli(["replay", "--store", "memory:", "--module", `${dir.path}/none.ts`]);
    assertOneLineFailure(run, 1, /--module .*none\.ts: no such file/);
  });
});

Deno.test("cli: a module without the named export is exit 2 and lists what it exports", async () => {
  await using dir = await tempDir();
  const module = await writeModule(
    dir.path,
    "model.ts",
    "export const total = 1;\nexport const other = 2;\n",
  );
  await seedSqlite(`${dir.path}/e.db`, writeHistory);
  const run = await cli(["replay", "-s", `sqlite:${dir.path}/e.db`, "-m", module, "-e", "balance"]);
  assertOneLineFailure(run, 2, /has no export named "balance" \(it exports: other, total\)/);
  const wrong = await cli(["replay", "-s", `sqlite:${dir.path}/e.db`, "-m", module, "-e", "total"]);
  assertOneLineFailure(wrong, 2, /#total is number; expected a reducer/);
});

Deno.test("cli: NDJSON with a broken line names it and imports nothing unless --skip-bad", async () => {
  await using dir = await tempDir();
  const good = (n: number) =>
    JSON.stringify({
      id: `e${n}`,
      stream: "s",
      type: "t",
      created: `2026-01-01T00:00:0${n}.000Z`,
      data: { n },
    });
  const file = `${dir.path}/in.ndjson`;
  await Deno.writeTextFile(file, [good(1), good(2), '{"id": "e3", "stream": ', good(4), "[]", ""].join("\n"));
  const store = `sqlite:${dir.path}/e.db`;

  const refused = await cli(["import", "--store", store, file]);
  assertOneLineFailure(
    refused,
    1,
    /in\.ndjson: line 3: invalid JSON .*\(and 1 more bad line\); nothing was imported/,
  );
  await assert.rejects(Deno.stat(`${dir.path}/e.db`), "no store was created");

  const skipped = await cli(["import", "--store", store, file, "--skip-bad", "--json"]);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.deepEqual(JSON.parse(skipped.stdout).imported, 3);
  assert.match(skipped.stderr, /skipping .*line 3: invalid JSON/);
  assert.match(skipped.stderr, /skipping .*line 5: expected a JSON object/);
  const exported = await cli(["export", "--store", store]);
  assert.deepEqual(exported.stdout.trim().split("\n").map((line) => JSON.parse(line).id), ["e1", "e2", "e4"]);
});

Deno.test("cli: --help works for the tool and every command, with examples", async () => {
  const tool = await cli(["--help"]);
  assert.equal(tool.code, 0);
  const names = [...tool.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]);
  assert.deepEqual(names, [
    "info",
    "streams",
    "events",
    "replay",
    "export",
    "import",
    "copy",
    "verify",
    "checkpoints",
    "forget",
    "scavenge",
    "workflows",
    "relay",
  ]);
  for (const name of names) {
    const help = await cli([name, "--help"]);
    assert.equal(help.code, 0, name);
    assert.match(help.stdout, new RegExp(`^eventfold ${name}: `));
    assert.match(help.stdout, /Examples:\n {2}# .+\n {2}eventfold /);
  }
  const none = await cli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage:/);
});

Deno.test("cli: import --definitions refuses a file whose event fails its schema, naming the line", async () => {
  await using dir = await tempDir();
  const definitions = await writeModule(
    dir.path,
    "events.ts",
    `import { event, EventFactory } from "MOD";
import { z } from "zod";
export const events = new EventFactory([event.type("t").data(z.object({ n: z.number() }))]);
`,
  );
  const line = (n: unknown) =>
    JSON.stringify({ id: `e${n}`, stream: "s", type: "t", created: "2026-01-01T00:00:00.000Z", data: { n } });
  const file = `${dir.path}/in.ndjson`;
  await Deno.writeTextFile(file, `${line(1)}\n${line("two")}\n${line(3)}\n`);
  const run = await cli(["import", "-s", `sqlite:${dir.path}/e.db`, file, "--definitions", definitions]);
  assertOneLineFailure(run, 1, /in\.ndjson: line 2: Invalid event "t": data\.n: .*nothing was imported/);
  const dry = await cli([
    "import",
    "-s",
    "memory:",
    file,
    "--definitions",
    definitions,
    "--dry-run",
    "--skip-bad",
    "--json",
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(JSON.parse(dry.stdout), { events: 2, bad: 1, dryRun: true });
});

Deno.test("cli: events stops with one line naming the position of an undecodable payload", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/e.db`;
  await seedSqlite(path, writeHistory);
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path);
  db.exec("UPDATE eventfold_events SET data = X'1c' WHERE position = 2");
  db.close();
  const run = await cli(["events", "-s", `sqlite:${path}`]);
  assertOneLineFailure(run, 1, /Cannot decode data of the event at position 0000000000000002/);
});
