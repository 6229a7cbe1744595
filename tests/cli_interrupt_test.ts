import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ROOT, seedSqlite, tempDir } from "../cli/_test_helpers.ts";
import { delay } from "../async.ts";

const COUNT = 100_000;

async function writeNdjson(path: string): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    lines.push(
      `{"id":"0190a000-0000-7000-8000-${String(i).padStart(12, "0")}","stream":"s-${i % 500}","type":"t",` +
        `"created":"2026-01-01T00:00:00.000Z","data":{"n":${i}},"meta":null}`,
    );
  }
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}

function storedEvents(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number((db.prepare("SELECT count(*) AS n FROM eventfold_events").get() as { n: number }).n);
  } finally {
    db.close();
  }
}

/** Runs the CLI, sends SIGINT once `ready()` holds (checked every 20 ms), and returns how it ended. */
async function interrupted(args: string[], ready: () => Promise<boolean>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/mod.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const output = child.output();
  const deadline = Date.now() + 60_000;
  let sent = false;
  try {
    while (Date.now() < deadline) {
      if (await ready()) {
        child.kill("SIGINT");
        sent = true;
        break;
      }
      await delay(20);
    }
  } finally {
    if (!sent) child.kill("SIGKILL");
  }
  const { code, stderr } = await output;
  assert(sent, "the command became ready to interrupt");
  return { code, stderr: new TextDecoder().decode(stderr) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("cli: Ctrl-C during import stops after a chunk, says how far it got, exits 130, and a re-run resumes", async () => {
  await using dir = await tempDir();
  const input = `${dir.path}/in.ndjson`;
  const db = `${dir.path}/e.db`;
  await writeNdjson(input);
  let seenAt: number | undefined;
  const run = await interrupted(["import", "--store", `sqlite:${db}`, input], async () => {
    // The store is created once the file is checked; give the import a moment to start.
    if (seenAt === undefined && await exists(db)) seenAt = Date.now();
    return seenAt !== undefined && Date.now() - seenAt > 300;
  });
  assert.equal(run.code, 130, run.stderr);
  const match = /^eventfold: import into sqlite:.* interrupted after ([\d,]+) events; run it again to resume/m
    .exec(
      run.stderr,
    );
  assert(match !== null, run.stderr);
  const reported = Number(match[1].replaceAll(",", ""));
  assert(reported > 0 && reported < COUNT, `interrupted midway: ${reported}`);
  assert.equal(storedEvents(db), reported, "what it says it imported is what is stored");

  const again = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/mod.ts", "import", "--store", `sqlite:${db}`, input],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  });
  const rerun = await again.output();
  const text = new TextDecoder().decode(rerun.stderr);
  assert.equal(rerun.code, 0, text);
  assert.match(
    text,
    new RegExp(
      `imported ${(COUNT - reported).toLocaleString("en-US")} events .*\\(${match[1]} already present\\)`,
    ),
  );
  assert.equal(storedEvents(db), COUNT);
});

Deno.test("cli: Ctrl-C during copy and export says how far it got and exits 130", async (t) => {
  await using dir = await tempDir();
  const input = `${dir.path}/in.ndjson`;
  const source = `${dir.path}/source.db`;
  await writeNdjson(input);
  const seed = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/mod.ts", "import", "--store", `sqlite:${source}`, input],
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
  }).output();
  assert.equal(seed.code, 0);
  await t.step("copy", async () => {
    const target = `${dir.path}/target.db`;
    let seenAt: number | undefined;
    const run = await interrupted([
      "copy",
      "--from",
      `sqlite:${source}`,
      "--to",
      `sqlite:${target}`,
      "--batch",
      "1000",
    ], async () => {
      if (seenAt === undefined && await exists(target)) seenAt = Date.now();
      return seenAt !== undefined && Date.now() - seenAt > 300;
    });
    assert.equal(run.code, 130, run.stderr);
    const match = /copy to sqlite:.* interrupted after ([\d,]+) events; run it again to resume/.exec(
      run.stderr,
    );
    assert(match !== null, run.stderr);
    assert.equal(storedEvents(target), Number(match[1].replaceAll(",", "")));
  });
  await t.step("export", async () => {
    const output = `${dir.path}/out.ndjson`;
    const run = await interrupted(["export", "--store", `sqlite:${source}`, "--output", output], async () => {
      try {
        return (await Deno.stat(output)).size > 1_000_000;
      } catch {
        return false;
      }
    });
    assert.equal(run.code, 130, run.stderr);
    const match =
      /export interrupted after ([\d,]+) events; the output is incomplete: run it again, or continue with --after (\d+)/
        .exec(run.stderr);
    assert(match !== null, run.stderr);
    const lines = (await Deno.readTextFile(output)).trim().split("\n");
    assert.equal(lines.length, Number(match[1].replaceAll(",", "")), "every event it counted is in the file");
    assert.equal(Number(match[2]), lines.length, "--after names the last position written");
  });
});

Deno.test("cli: Ctrl-C during scavenge stops between transactions, exits 130, and a re-run finishes", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/r.db`;
  const total = 50_000;
  await seedSqlite(db, async (store) => {
    for (let i = 0; i < total; i += 5000) {
      await store.pushManyEvents(
        Array.from(
          { length: 5000 },
          () => store.event({ type: "account:deposited", stream: "s", data: 1, meta: { by: "ada" } }),
        ),
      );
    }
    await store.setStreamMetadata("s", { maxCount: 10 });
  });
  const run = await interrupted(
    ["scavenge", "--store", `sqlite:${db}`, "--batch", "1"],
    () => Promise.resolve(storedEvents(db) < total),
  );
  assert.equal(run.code, 130, run.stderr);
  const match = /scavenge of sqlite:.* interrupted after removing ([\d,]+) events .* run it again to go on/
    .exec(
      run.stderr,
    );
  assert(match !== null, run.stderr);
  const removed = Number(match[1].replaceAll(",", ""));
  assert(removed > 0 && removed < total - 10, `interrupted midway: ${removed}`);
  assert.equal(storedEvents(db), total - removed, "what it says it removed is what is gone");

  const rerun = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/mod.ts", "scavenge", "--store", `sqlite:${db}`, "--json"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(rerun.code, 0, new TextDecoder().decode(rerun.stderr));
  assert.equal(JSON.parse(new TextDecoder().decode(rerun.stdout)).removed, total - 10 - removed);
  assert.equal(storedEvents(db), 10);
});
