import assert from "node:assert/strict";
import { assertOneLineFailure, cli, seedSqlite, tempDir, writeHistory } from "../cli/_test_helpers.ts";
import { VERSION } from "../cli/_version.ts";

Deno.test("cli: --version prints the version of deno.json", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  for (const flag of ["--version", "-V"]) {
    const run = await cli([flag]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `eventfold ${manifest.version}\n`);
  }
  assert.equal(VERSION, manifest.version);
});

Deno.test("cli: every command that prints data takes --json", async (t) => {
  await using dir = await tempDir();
  const store = `sqlite:${dir.path}/e.db`;
  await seedSqlite(`${dir.path}/e.db`, writeHistory);
  for (
    const args of [
      ["info"],
      ["streams"],
      ["events"],
      ["checkpoints"],
      ["verify"],
      ["export"],
    ]
  ) {
    await t.step(args[0], async () => {
      const run = await cli([...args, "--store", store, "--json"]);
      assert.equal(run.code, 0, run.stderr);
      for (const line of run.stdout.trim().split("\n")) JSON.parse(line);
    });
  }
  await t.step("events --json prints the same NDJSON as without it", async () => {
    const plain = await cli(["events", "--store", store]);
    const json = await cli(["events", "--store", store, "--json"]);
    assert.equal(json.stdout, plain.stdout);
    assert.equal(json.stdout.trim().split("\n").length, 9);
  });
});

Deno.test("cli: a filter that matches nothing says what the store holds, and exits 0", async (t) => {
  await using dir = await tempDir();
  const store = `sqlite:${dir.path}/e.db`;
  await seedSqlite(`${dir.path}/e.db`, writeHistory);
  await t.step("events --type", async () => {
    const run = await cli(["events", "--store", store, "--type", "x"]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, "");
    assert.equal(
      run.stderr.trim(),
      'eventfold: no events match --type "x" (types in the store: "account:deposited", "account:opened", ' +
        '"account:tagged", "blob:stored")',
    );
  });
  await t.step("events --stream", async () => {
    const run = await cli(["events", "--store", store, "--stream", "nope"]);
    assert.equal(run.code, 0);
    assert.match(
      run.stderr,
      /no events match --stream "nope" \(no stream "nope" among its 3 streams; eventfold streams lists them\)/,
    );
  });
  await t.step("export --type", async () => {
    const run = await cli(["export", "--store", store, "--type", "x"]);
    assert.equal(run.code, 0);
    assert.match(run.stderr, /no events match --type "x" \(types in the store: /);
  });
  await t.step("streams --prefix", async () => {
    const run = await cli(["streams", "--store", store, "--prefix", "zz"]);
    assert.equal(run.code, 0);
    assert.match(run.stderr, /no events match --prefix "zz" \(no stream id starts with it among 3 streams\)/);
  });
  await t.step("a match prints no hint", async () => {
    const run = await cli(["events", "--store", store, "--type", "account:tagged"]);
    assert.equal(run.stderr, "");
    assert.equal(run.stdout.trim().split("\n").length, 1);
  });
  await t.step("an empty store says so", async () => {
    const run = await cli(["events", "--store", "memory:", "--type", "x"]);
    assert.equal(run.code, 0);
    assert.match(run.stderr, /no events match --type "x" \(the store is empty\)/);
  });
});

Deno.test("cli: --until means a position, head or a time in events and replay, and says so when wrong", async (t) => {
  await using dir = await tempDir();
  const store = `sqlite:${dir.path}/e.db`;
  await seedSqlite(`${dir.path}/e.db`, writeHistory);
  await t.step("events --until a position is inclusive", async () => {
    const run = await cli(["events", "--store", store, "--until", "3"]);
    assert.equal(run.code, 0, run.stderr);
    const positions = run.stdout.trim().split("\n").map((line) => JSON.parse(line).position);
    assert.deepEqual(positions, ["0000000000000001", "0000000000000002", "0000000000000003"]);
  });
  await t.step("events --until head and a time", async () => {
    assert.equal(
      (await cli(["events", "--store", store, "--until", "head"])).stdout.trim().split("\n").length,
      9,
    );
    const run = await cli(["events", "--store", store, "--until", "2026-01-01T00:06:00Z"]);
    assert.equal(run.stdout.trim().split("\n").length, 3, run.stdout);
  });
  for (const command of ["events", "replay"]) {
    await t.step(`${command} --until tomorrow lists what is accepted`, async () => {
      const extra = command === "replay"
        ? ["--module", "./examples/users/reducer.ts", "--export", "userReducer"]
        : [];
      assertOneLineFailure(
        await cli([command, "--store", store, "--until", "tomorrow", ...extra]),
        2,
        /--until: "tomorrow" is neither a position nor a time; accepted: a position as "events" prints it \(0000000000000042, or short: 42\), head \(the newest position\), or an ISO-8601 time/,
      );
    });
  }
  await t.step("--after lists the position forms", async () => {
    assertOneLineFailure(
      await cli(["events", "--store", store, "--after", "x"]),
      2,
      /--after: "x" is not a position of a sqlite store; accepted: a position as "events" prints it .* or head/,
    );
  });
});
