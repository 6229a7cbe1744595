import assert from "node:assert/strict";
import { assertOneLineFailure, cli, tempDir } from "../cli/_test_helpers.ts";

function line(id: number, data: string): string {
  return `{"id":"0190a000-0000-7000-8000-${String(id).padStart(12, "0")}","stream":"s","type":"t",` +
    `"created":"2026-01-01T00:00:00.000Z","data":${data},"meta":null}`;
}

/** Imports `lines` into a new SQLite store; returns the run and its wall time. */
async function importLines(dir: string, lines: string[], ...flags: string[]) {
  const file = `${dir}/in.ndjson`;
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  const started = performance.now();
  const run = await cli(["import", "--store", `sqlite:${dir}/e.db`, file, ...flags]);
  return { run, ms: performance.now() - started };
}

Deno.test("cli: import refuses a 1 MB $bigint line at once, naming the line", async () => {
  await using dir = await tempDir();
  const { run, ms } = await importLines(dir.path, [
    line(1, "1"),
    line(2, `{"$bigint":"${"7".repeat(1_000_000)}"}`),
  ]);
  assertOneLineFailure(
    run,
    1,
    /line 2: data\.\$bigint: \$bigint has 1,000,000 characters; at most 10,000 digits/,
  );
  assert.match(run.stderr, /nothing was imported/);
  // The whole run (a Deno start-up included) stays far below the 16 s it used to take.
  assert(ms < 8000, `took ${Math.round(ms)} ms`);
});

Deno.test("cli: import refuses a 5,000-deep line with its number, not a bare RangeError", async () => {
  await using dir = await tempDir();
  const deep = "[".repeat(5000) + "]".repeat(5000);
  const { run } = await importLines(dir.path, [line(1, "1"), line(2, "2"), line(3, deep)]);
  assertOneLineFailure(
    run,
    1,
    /line 3: data\.0\.0\.0\.0\.0\.0\.\(\d+ more\)\.0\.0: nested deeper than 256 levels/,
  );
  assert.doesNotMatch(run.stderr, /RangeError/);
  const skipped = await importLines(dir.path, [line(1, "1"), line(2, "2"), line(3, deep)], "--skip-bad");
  assert.equal(skipped.run.code, 0, skipped.run.stderr);
  assert.match(skipped.run.stderr, /skipping .* line 3: .*nested deeper than 256 levels/);
  assert.match(skipped.run.stderr, /imported 2 events .*1 bad line skipped/);
});

Deno.test("cli: a line over the size limit is a bad line with its number; --max-line-mib raises the limit", async () => {
  await using dir = await tempDir();
  const big = line(2, JSON.stringify("x".repeat(17 * 1024 * 1024)));
  const { run } = await importLines(dir.path, [line(1, "1"), big, line(3, "3")]);
  assertOneLineFailure(
    run,
    1,
    /line 2: the line is 17 MiB, over the 16 MiB limit \(raise it with --max-line-mib\); nothing was imported/,
  );
  const raised = await importLines(dir.path, [line(1, "1"), big, line(3, "3")], "--max-line-mib", "18");
  assert.equal(raised.run.code, 0, raised.run.stderr);
  assert.match(raised.run.stderr, /imported 3 events/);
  assertOneLineFailure(
    await cli(["import", "--store", "memory:", `${dir.path}/in.ndjson`, "--max-line-mib", "0"]),
    2,
    /--max-line-mib must be 1 to 1024/,
  );
});
