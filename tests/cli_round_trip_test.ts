import assert from "node:assert/strict";
import { cli, seedSqlite, tempDir, writeHistory } from "../cli/_test_helpers.ts";
import { dropSchema, freshSchema, PG_URL, pgAvailable } from "./_postgres_env.ts";

function pgStore(schema: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set("schema", schema);
  return url.href;
}

async function ok(args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const run = await cli(args, { stdin });
  assert.equal(run.code, 0, `eventfold ${args.join(" ")}: ${run.stderr}`);
  return run.bytes;
}

Deno.test("cli: SQLite -> NDJSON -> SQLite -> NDJSON is byte-identical, and importing twice imports nothing", async () => {
  await using dir = await tempDir();
  await seedSqlite(`${dir.path}/a.db`, writeHistory);
  const first = await ok(["export", "--store", `sqlite:${dir.path}/a.db`]);
  const text = new TextDecoder().decode(first);
  assert.equal(text.trim().split("\n").length, 9);
  assert.match(text, /"outdated":true/);
  assert.match(text, /\{"\$bigint":"1180591620717411303424"\}/);
  assert.match(text, /\{"\$undefined":true\}/);
  assert.match(text, /\{"\$object":\{"\$date":"not a tag"\}\}/);

  const once = await cli(["import", "--store", `sqlite:${dir.path}/b.db`, "--json"], { stdin: first });
  assert.equal(once.code, 0, once.stderr);
  assert.deepEqual(JSON.parse(once.stdout), { ...JSON.parse(once.stdout), imported: 9, skipped: 0, bad: 0 });
  const twice = await cli(["import", "--store", `sqlite:${dir.path}/b.db`, "--json", "-"], { stdin: first });
  assert.equal(twice.code, 0, twice.stderr);
  assert.deepEqual(JSON.parse(twice.stdout), { ...JSON.parse(twice.stdout), imported: 0, skipped: 9 });

  const second = await ok(["export", "--store", `sqlite:${dir.path}/b.db`]);
  assert.deepEqual(second, first);
});

Deno.test({
  name: "cli: SQLite -> NDJSON -> PostgreSQL -> NDJSON is byte-identical, and copy keeps the same bytes",
  ignore: !(await pgAvailable()),
  async fn(t) {
    await using dir = await tempDir();
    const schema = freshSchema("cli_rt_");
    const copied = freshSchema("cli_cp_");
    try {
      await seedSqlite(`${dir.path}/a.db`, writeHistory);
      const fromSqlite = await ok([
        "export",
        "--store",
        `sqlite:${dir.path}/a.db`,
        "--output",
        `${dir.path}/a.ndjson`,
      ]);
      assert.equal(fromSqlite.length, 0, "with --output nothing goes to stdout");
      const file = await Deno.readFile(`${dir.path}/a.ndjson`);

      await t.step("through an NDJSON file", async () => {
        await ok(["import", "--store", pgStore(schema), `${dir.path}/a.ndjson`]);
        const fromPostgres = await ok(["export", "--store", pgStore(schema)]);
        assert.deepEqual(fromPostgres, file);
        const again = await cli(["import", "--store", pgStore(schema), `${dir.path}/a.ndjson`, "--json"]);
        assert.equal(JSON.parse(again.stdout).imported, 0);
      });

      await t.step("with copy", async () => {
        await ok(["copy", "--from", `sqlite:${dir.path}/a.db`, "--to", pgStore(copied)]);
        const twice = await cli([
          "copy",
          "--from",
          `sqlite:${dir.path}/a.db`,
          "--to",
          pgStore(copied),
          "--json",
        ]);
        assert.deepEqual(JSON.parse(twice.stdout), {
          ...JSON.parse(twice.stdout),
          read: 9,
          imported: 0,
          skipped: 9,
        });
        assert.deepEqual(await ok(["export", "--store", pgStore(copied)]), file);
        await ok(["copy", "--from", pgStore(copied), "--to", `sqlite:${dir.path}/back.db`]);
        assert.deepEqual(await ok(["export", "--store", `sqlite:${dir.path}/back.db`]), file);
      });
    } finally {
      await dropSchema(schema);
      await dropSchema(copied);
    }
  },
});

Deno.test("cli: export filters by stream, type and position", async () => {
  await using dir = await tempDir();
  await seedSqlite(`${dir.path}/a.db`, writeHistory);
  const store = `sqlite:${dir.path}/a.db`;
  const lines = async (...args: string[]) =>
    new TextDecoder().decode(await ok(["export", "--store", store, ...args])).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
  assert.deepEqual((await lines("--stream", "acct-2")).map((e) => e.type), [
    "account:opened",
    "account:tagged",
  ]);
  assert.equal((await lines("--type", "account:deposited")).length, 5);
  assert.equal((await lines("--after", "7")).length, 2);
});
