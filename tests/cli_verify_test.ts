import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { cli, seedSqlite, tempDir, writeHistory, writeModule } from "../cli/_test_helpers.ts";

/** Seeds a store, changes it behind the store's back with `sql`, and runs verify on it. */
async function verifyTampered(sql: string | undefined, ...args: string[]) {
  await using dir = await tempDir();
  const path = `${dir.path}/e.db`;
  await seedSqlite(path, writeHistory);
  if (sql !== undefined) {
    const db = new DatabaseSync(path);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  }
  const run = await cli([
    "verify",
    "--store",
    `sqlite:${path}`,
    ...args.map((a) => a.replace("DIR", dir.path)),
  ]);
  const json = await cli([
    "verify",
    "--store",
    `sqlite:${path}`,
    "--json",
    ...args.map((a) => a.replace("DIR", dir.path)),
  ]);
  const lines = json.stdout.trim().split("\n").map((line) => JSON.parse(line));
  return { run, findings: lines.slice(0, -1), summary: lines[lines.length - 1] };
}

Deno.test("cli: verify passes a sound store", async () => {
  const { run, findings, summary } = await verifyTampered(undefined);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /^verify sqlite:.*: 9 events in 3 streams, no problems/);
  assert.deepEqual(findings, []);
  assert.deepEqual(summary, { ok: true, events: 9, streams: 3, problems: 0 });
});

Deno.test("cli: verify catches a revision changed by hand", async () => {
  const { run, findings, summary } = await verifyTampered(
    "UPDATE eventfold_events SET revision = 7 WHERE position = 3",
  );
  assert.equal(run.code, 1);
  assert.match(
    run.stdout,
    /^revision-gap {2}position 0000000000000003 {2}stream "acct-1": revision 7 follows revision 2: revisions 3 to 6 are missing$/m,
  );
  // The events after the edited one are its consequences: one finding with a count.
  assert.match(
    run.stdout,
    /^revision-order {2}position 0000000000000004 {2}stream "acct-1": 3 events out of order after revision 7 \(revisions 4 to 6 at positions 0000000000000004 to 0000000000000009; repeated or out of order\)$/m,
  );
  assert.equal(run.stdout.trim().split("\n").length, 2);
  assert.deepEqual(findings.map((f) => [f.problem, f.position, f.count, f.lastPosition]), [
    ["revision-gap", "0000000000000003", undefined, undefined],
    ["revision-order", "0000000000000004", 3, "0000000000000009"],
  ]);
  assert.equal(summary.ok, false);
  assert.equal(summary.problems, 2);
});

Deno.test("cli: verify reports one line, not 49, for one edited revision of a 52-event stream", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/long.db`;
  await seedSqlite(path, async (store) => {
    const events = [];
    for (let i = 0; i < 52; i++) {
      events.push(store.event({ type: "account:deposited", stream: "s", data: i, meta: { by: "t" } }));
    }
    await store.pushManyEvents(events);
  });
  const db = new DatabaseSync(path);
  try {
    db.exec("UPDATE eventfold_events SET revision = 99 WHERE stream = 's' AND revision = 3");
  } finally {
    db.close();
  }
  const run = await cli(["verify", "--store", `sqlite:${path}`]);
  assert.equal(run.code, 1);
  const lines = run.stdout.trim().split("\n");
  assert.equal(lines.length, 2, run.stdout);
  assert.match(lines[0], /^revision-gap .*revision 99 follows revision 2: revisions 3 to 98 are missing$/);
  assert.match(
    lines[1],
    /^revision-order .*stream "s": 49 events out of order after revision 99 \(revisions 4 to 52 /,
  );
  assert.match(run.stderr, /52 events in 1 stream, 2 problems/);
});

Deno.test("cli: verify catches a gap left by a deleted event", async () => {
  const { run, findings } = await verifyTampered("DELETE FROM eventfold_events WHERE position = 2");
  assert.equal(run.code, 1);
  assert.deepEqual(findings, [{
    problem: "revision-gap",
    position: "0000000000000003",
    stream: "acct-1",
    id: findings[0].id,
    message: "revision 3 follows revision 1: revision 2 is missing",
  }]);
});

Deno.test("cli: verify catches an undecodable payload and reads on", async () => {
  const { run, findings, summary } = await verifyTampered(
    "UPDATE eventfold_events SET data = X'a3ff1c' WHERE position = 7; UPDATE eventfold_events SET meta = X'1c' WHERE position = 4",
  );
  assert.equal(run.code, 1);
  assert.deepEqual(findings.map((f) => [f.problem, f.position, f.message.split(":")[0]]), [
    ["decode", "0000000000000004", "meta does not decode"],
    ["decode", "0000000000000007", "data does not decode"],
  ]);
  assert.equal(summary.events, 9, "every event was read");
});

Deno.test("cli: verify checks payloads against the definitions when given", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/e.db`;
  await seedSqlite(path, writeHistory);
  const definitions = await writeModule(
    dir.path,
    "events.ts",
    `import { event, EventFactory } from "MOD";
import { z } from "zod";
export const events = new EventFactory([
  event.type("account:opened").data(z.object({ owner: z.string(), opened: z.date(), limit: z.bigint() })),
  event.type("account:deposited").data(z.number().max(300)).meta(z.object({ by: z.string() })),
  event.type("account:tagged").data(z.object({ tags: z.set(z.string()), scores: z.map(z.string(), z.number()) })),
]);
`,
  );
  const run = await cli([
    "verify",
    "-s",
    `sqlite:${path}`,
    "--definitions",
    definitions,
    "--export",
    "events",
    "--json",
  ]);
  assert.equal(run.code, 1, run.stderr);
  const findings = run.stdout.trim().split("\n").map((line) => JSON.parse(line)).slice(0, -1);
  assert.deepEqual(findings.map((f) => [f.problem, f.position]), [
    ["schema", "0000000000000005"],
    ["unknown-type", "0000000000000008"],
  ]);
  assert.match(findings[0].message, /^Invalid event "account:deposited": data: .*300$/);
  const missing = await cli([
    "verify",
    "-s",
    `sqlite:${path}`,
    "--definitions",
    definitions,
    "--export",
    "nope",
  ]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /has no export named "nope" \(it exports: events\)/);
});
