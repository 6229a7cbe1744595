import assert from "node:assert/strict";
import { cli, seedSqlite, tempDir, writeHistory, writeModule } from "../cli/_test_helpers.ts";

const MODEL = `
import { AggregateRoot, makeReducer, Projector, type EventRecord } from "MOD";

type Account = { owner: string; balance: number; deposits: number };
export const account = makeReducer<any, Account>((state, record: EventRecord) => {
  if (record.type === "account:opened") state.owner = (record.data as { owner: string }).owner;
  if (record.type === "account:deposited" && !record.outdated) {
    state.balance += record.data as number;
    state.deposits++;
  }
  return state;
}, () => ({ owner: "", balance: 0, deposits: 0 }));

export const counts = makeReducer<any, Map<string, number>>((state, record: EventRecord) => {
  state.set(record.type, (state.get(record.type) ?? 0) + 1);
  return state;
}, () => new Map());

export class Account2 extends AggregateRoot<any> {
  static override readonly name = "account";
  owner = "";
  total = 0;
  with(record: EventRecord): void {
    if (record.type === "account:opened") this.owner = (record.data as { owner: string }).owner;
    if (record.type === "account:deposited") this.total += record.data as number;
  }
}

const log: string[] = [];
export const projector = new Projector();
projector.on("account:deposited", (record) => void log.push(\`on \${record.id}\`));
projector.once("account:deposited", () => { throw new Error("a once handler ran during a replay"); });
projector.all("account:deposited", async (record) => {
  if (record.outdated) log.push("outdated seen");
  await Deno.writeTextFile(Deno.env.get("PROJECTION_LOG")!, log.join("\\n"));
});

export const failing = new Projector();
failing.on("account:tagged", () => { throw new RangeError("score out of range"); });
`;

async function setUp(dir: string): Promise<{ store: string; model: string }> {
  await seedSqlite(`${dir}/e.db`, writeHistory);
  return { store: `sqlite:${dir}/e.db`, model: await writeModule(dir, "model.ts", MODEL) };
}

Deno.test("cli: replay folds a stream with a reducer and prints its state", async () => {
  await using dir = await tempDir();
  const { store, model } = await setUp(dir.path);
  const run = await cli(["replay", "-s", store, "-m", model, "-e", "account", "--stream", "acct-1"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { owner: "Ada", balance: 1000, deposits: 4 });
  assert.match(run.stderr, /^folded 6 events of stream "acct-1" up to position 0000000000000009/);
});

Deno.test("cli: replay --until gives the state at that position or time", async (t) => {
  await using dir = await tempDir();
  const { store, model } = await setUp(dir.path);
  const state = async (...args: string[]) => {
    const run = await cli([
      "replay",
      "-s",
      store,
      "-m",
      model,
      "-e",
      "account",
      "--stream",
      "acct-1",
      "--json",
      ...args,
    ]);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout);
  };
  await t.step("a position (inclusive)", async () => {
    const at3 = await state("--until", "3");
    assert.deepEqual(at3.state, { owner: "Ada", balance: 300, deposits: 2 });
    assert.equal(at3.position, "0000000000000003");
    assert.equal(at3.revision, 3);
  });
  await t.step("an ISO time (created at or before it)", async () => {
    assert.deepEqual((await state("--until", "2026-01-01T00:30:00Z")).state, {
      owner: "Ada",
      balance: 600,
      deposits: 3,
    });
    assert.deepEqual((await state("--until", "2026-01-01T00:29:59.999Z")).state, {
      owner: "Ada",
      balance: 300,
      deposits: 2,
    });
  });
  await t.step("before the first event there is no state", async () => {
    const before = await state("--until", "2025-12-31");
    assert.equal(before.state, null);
    assert.equal(before.events, 0);
  });
});

Deno.test("cli: replay folds the whole log and tags CBOR-only state", async () => {
  await using dir = await tempDir();
  const { store, model } = await setUp(dir.path);
  const run = await cli(["replay", "-s", store, "-m", model, "-e", "counts", "--until", "7", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout).state, {
    $map: [["account:opened", 2], ["account:deposited", 4], ["account:tagged", 1]],
  });
});

Deno.test("cli: replay folds an aggregate class", async () => {
  await using dir = await tempDir();
  const { store, model } = await setUp(dir.path);
  const run = await cli([
    "replay",
    "-s",
    store,
    "-m",
    model,
    "-e",
    "Account2",
    "--stream",
    "acct-1",
    "--until",
    "2",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { owner: "Ada", total: 100 });
});

Deno.test("cli: replay drives a projector with hydrated events; once handlers stay silent", async () => {
  await using dir = await tempDir();
  const { store, model } = await setUp(dir.path);
  const logFile = `${dir.path}/projection.log`;
  const run = await cli(["replay", "-s", store, "-m", model, "-e", "projector", "--json"], {
    env: { PROJECTION_LOG: logFile },
  });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), {
    kind: "projector",
    stream: null,
    events: 9,
    position: "0000000000000009",
    revision: null,
    dryRun: false,
  });
  const log = (await Deno.readTextFile(logFile)).split("\n");
  assert.equal(log.filter((line) => line.startsWith("on ")).length, 4, "on skips the outdated deposit");
  assert(log.includes("outdated seen"), "all sees it");
});

Deno.test("cli: a failing projector handler names the event and exits 1", async () => {
  await using dir = await tempDir();
  const { store, model } = await setUp(dir.path);
  const run = await cli(["replay", "-s", store, "-m", model, "-e", "failing"]);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /^eventfold: the handler failed on event .* \(account:tagged\) at position 0000000000000007: RangeError: score out of range\n$/,
  );
});

Deno.test("cli: replay --dry-run counts and calls nothing", async () => {
  await using dir = await tempDir();
  const { store, model } = await setUp(dir.path);
  const logFile = `${dir.path}/projection.log`;
  const run = await cli(["replay", "-s", store, "-m", model, "-e", "projector", "--dry-run"], {
    env: { PROJECTION_LOG: logFile },
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /^dry run: would have projected 9 events of the log/);
  await assert.rejects(Deno.stat(logFile));
});
