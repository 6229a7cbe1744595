/**
 * `eventfold workflows` and `events --correlation` on the store the order demo leaves.
 */
import assert from "node:assert/strict";
import { assertOneLineFailure, cli, ROOT, tempDir } from "../cli/_test_helpers.ts";

async function demoStore(path: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "examples/orders/main.ts", path],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
}

Deno.test("cli: workflows lists instances by status, show prints one, events --correlation prints its flow", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/o.db`;
  await demoStore(path);
  const store = `sqlite:${path}`;

  const listed = await cli(["workflows", "--store", store, "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  const [saga] = listed.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(saga, {
    name: "order-saga",
    instances: 3,
    byStatus: { completed: 1, compensated: 2 },
    timers: 0,
    due: 0,
  });
  const table = await cli(["workflows", "--store", store]);
  assert.match(table.stdout, /order-saga\s+3\s+0\s+1\s+2\s+0\s+0\s+0/);

  const events = await cli(["events", "--store", store, "--type", "order:placed"]);
  const orders = events.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
  const unpaid = orders[2];
  const shown = await cli([
    "workflows",
    "show",
    "order-saga",
    unpaid.data.orderId,
    "--store",
    store,
    "--json",
  ]);
  assert.equal(shown.code, 0, shown.stderr);
  const instance = JSON.parse(shown.stdout);
  assert.equal(instance.status, "compensated");
  assert.equal(instance.reason, "no payment within five minutes");
  assert.deepEqual(
    instance.inputs.map((input: { type: string; status: string }) => [input.type, input.status]),
    [["order:placed", "running"], ["payment:timed-out", "compensating"], [
      "payment:timed-out",
      "compensated",
    ]],
  );
  const text = await cli(["workflows", "show", "order-saga", unpaid.data.orderId, "--store", store]);
  assert.match(text.stdout, /compensated \(no payment within five minutes\)/);

  const flow = await cli(["events", "--store", store, "--correlation", unpaid.id]);
  assert.equal(flow.code, 0, flow.stderr);
  assert.deepEqual(flow.stdout.trimEnd().split("\n").map((line) => JSON.parse(line).type), [
    "order:placed",
    "payment:requested",
    "payment:timed-out",
    "payment:refund-requested",
    "order:cancelled",
  ]);
});

Deno.test("cli: workflows refuses bad actions and arguments, and names a missing instance", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/o.db`;
  await demoStore(path);
  const store = `sqlite:${path}`;
  assertOneLineFailure(await cli(["workflows", "explode", "--store", store]), 2, /unknown workflows action/);
  assertOneLineFailure(
    await cli(["workflows", "show", "order-saga", "--store", store]),
    2,
    /NAME and the instance's KEY/,
  );
  assertOneLineFailure(
    await cli(["workflows", "show", "order-saga", "nope", "--store", store]),
    1,
    /no instance "nope"/,
  );
  assertOneLineFailure(await cli(["events", "--store", store, "--correlation", ""]), 2, /--correlation/);
  const none = await cli(["workflows", "--store", "memory:", "--json"]);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, "");
});
