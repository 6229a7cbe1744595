/**
 * Open errors tell the truth about permissions. Root bypasses file permissions, so when
 * the tests run as root the CLI runs as the user `nobody` (setpriv); as any other user
 * it runs as that user. Either way the refusals are real ones of the file system.
 */
import assert from "node:assert/strict";
import { EventStore } from "../mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { PermissiveEvents } from "../cli/_permissive_events.ts";
import { type CliRun, ROOT, seedSqlite, tempDir, writeHistory } from "../cli/_test_helpers.ts";
import { requireHost, unprivilegedNeed } from "./_host_tools.ts";

const NOBODY = 65534;
const root = Deno.uid() === 0;

const unprivileged = unprivilegedNeed();

/** Runs the CLI as a user without root's bypass of permissions. */
async function cliUnprivileged(args: string[], denoDir: string): Promise<CliRun> {
  const deno = [Deno.execPath(), "run", "-A", "cli/mod.ts", ...args];
  const [command, ...rest] = root
    ? [
      "setpriv",
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "env",
      `HOME=${denoDir}`,
      `DENO_DIR=${denoDir}`,
      "NO_COLOR=1",
      ...deno,
    ]
    : deno;
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args: rest,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr), bytes: stdout };
}

/** Gives a path to the user the CLI runs as (a no-op when that is us). */
async function giveAway(path: string): Promise<void> {
  if (root) await Deno.chown(path, NOBODY, NOBODY);
}

async function setup() {
  const dir = await tempDir();
  await Deno.chmod(dir.path, 0o777);
  const denoDir = `${dir.path}/deno-dir`;
  await Deno.mkdir(denoDir, { mode: 0o777 });
  await Deno.chmod(denoDir, 0o777);
  return { dir, denoDir };
}

function assertFailure(run: CliRun, pattern: RegExp): void {
  assert.equal(run.code, 1, run.stderr);
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(run.stderr, /not a SQLite database/);
}

Deno.test({
  name: `cli: a chmod-000 store is "permission denied", not "not a SQLite database"${
    root ? " (run as nobody)" : ""
  }${unprivileged.note}`,
  ignore: unprivileged.ignore,
  fn: async () => {
    requireHost(unprivileged);
    const { dir, denoDir } = await setup();
    await using _ = dir;
    const path = `${dir.path}/zero.db`;
    await seedSqlite(path, writeHistory);
    await Deno.chmod(path, 0o000);
    assertFailure(
      await cliUnprivileged(["info", "--store", `sqlite:${path}`], denoDir),
      /^eventfold: cannot open .*zero\.db: permission denied: .*zero\.db cannot be read by this user/,
    );
    await Deno.chmod(path, 0o644);
  },
});

Deno.test({
  name: `cli: a store in a read-only directory says the directory is not writable${
    root ? " (run as nobody)" : ""
  }${unprivileged.note}`,
  ignore: unprivileged.ignore,
  fn: async () => {
    requireHost(unprivileged);
    const { dir, denoDir } = await setup();
    await using _ = dir;
    const ro = `${dir.path}/ro`;
    await Deno.mkdir(ro);
    await seedSqlite(`${ro}/x.db`, writeHistory);
    await giveAway(`${ro}/x.db`);
    await Deno.chmod(ro, 0o555);
    try {
      // Reading needs the directory too: SQLite creates x.db-wal and x.db-shm beside it.
      assertFailure(
        await cliUnprivileged(["info", "--store", `sqlite:${ro}/x.db`], denoDir),
        /^eventfold: cannot open .*x\.db: permission denied: the directory .*ro is not writable by this user, and SQLite must create .*x\.db-wal and .*x\.db-shm there/,
      );
      await Deno.writeTextFile(`${dir.path}/empty.ndjson`, "");
      assertFailure(
        await cliUnprivileged(
          ["import", "--store", `sqlite:${ro}/new.db`, `${dir.path}/empty.ndjson`],
          denoDir,
        ),
        /^eventfold: cannot open .*new\.db: permission denied: cannot create .*new\.db: the directory .*ro is not writable/,
      );
    } finally {
      await Deno.chmod(ro, 0o755);
    }
  },
});

Deno.test({
  name: `cli: a read-only WAL file still reads, and refuses a write up front${
    root ? " (run as nobody)" : ""
  }${unprivileged.note}`,
  ignore: unprivileged.ignore,
  fn: async () => {
    requireHost(unprivileged);
    const { dir, denoDir } = await setup();
    await using _ = dir;
    const path = `${dir.path}/w.db`;
    // An open store keeps its -wal and -shm files (closing the last connection removes them).
    await using store = new EventStore({
      adapter: new SqliteAdapter(path),
      events: new PermissiveEvents(),
      unknownEvents: "pass",
    });
    await store.pushEvent(store.event({ type: "a", stream: "s", data: 1 } as never));
    await giveAway(path);
    await giveAway(`${path}-shm`);
    await Deno.chmod(`${path}-wal`, 0o444);
    try {
      // What SQLite really does: a reader only reads the WAL, so info works.
      const info = await cliUnprivileged(["info", "--store", `sqlite:${path}`, "--json"], denoDir);
      assert.equal(info.code, 0, info.stderr);
      assert.equal(JSON.parse(info.stdout).events, 1);
      const input = `${dir.path}/one.ndjson`;
      await Deno.writeTextFile(
        input,
        '{"id":"0190a000-0000-7000-8000-000000000009","stream":"t","type":"a","created":"2026-01-01T00:00:00.000Z","data":2,"meta":null}\n',
      );
      assertFailure(
        await cliUnprivileged(["import", "--store", `sqlite:${path}`, input], denoDir),
        /^eventfold: cannot open .*w\.db for writing: permission denied: .*w\.db-wal is not writable by this user/,
      );
    } finally {
      await Deno.chmod(`${path}-wal`, 0o644);
    }
  },
});

Deno.test("cli: a file that is not a database is still called so", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/text.db`, "hello, not a database at all".repeat(100));
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/mod.ts", "info", "--store", `sqlite:${dir.path}/text.db`],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 1);
  assert.match(
    new TextDecoder().decode(stderr),
    /text\.db is not a SQLite database \(file is not a database\)/,
  );
});
