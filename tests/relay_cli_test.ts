import assert from "node:assert/strict";
import { main } from "../cli/mod.ts";
import { delay } from "../async.ts";
import { event, EventFactory, EventStore } from "../mod.ts";
import { RELAY_HEADERS } from "../nats/mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { Child } from "./_child.ts";
import { freePort, freshStream, NATS_URL, natsAvailable, readStream, withStreams } from "./_nats_env.ts";
import { tempDir } from "./_sqlite_helpers.ts";

// Skipped (with the reason printed by natsAvailable) when no server answers, except under CI=true.
const ignore = !(await natsAvailable());

Deno.test("eventfold relay refuses bad arguments with exit code 2, and a missing store with 1", async (t) => {
  const cases: [string, string[], number][] = [
    ["no subject", ["--store", "memory:"], 2],
    ["a template naming an unknown field", ["--store", "memory:", "--subject", "ev.{kind}"], 2],
    ["a template with a wildcard", ["--store", "memory:", "--subject", "ev.>"], 2],
    ["a NATS URL that is not one", ["--store", "memory:", "--subject", "ev.{type}", "--nats", "http://x"], 2],
    ["a bad stream name", ["--store", "memory:", "--subject", "ev.{type}", "--stream", "a.b"], 2],
    ["a bad codec", ["--store", "memory:", "--subject", "ev.{type}", "--codec", "xml"], 2],
    ["empty types", ["--store", "memory:", "--subject", "ev.{type}", "--types", ","], 2],
    [
      "a lease time that is no number",
      ["--store", "memory:", "--subject", "ev.{type}", "--lease-ttl", "x"],
      2,
    ],
    ["a lease time too short", ["--store", "memory:", "--subject", "ev.{type}", "--lease-ttl", "2"], 2],
    ["a bad store URL", ["--store", "mysql://x", "--subject", "ev.{type}"], 2],
    ["an unknown flag", ["--store", "memory:", "--subject", "ev.{type}", "--bogus"], 2],
    ["an extra argument", ["--store", "memory:", "--subject", "ev.{type}", "extra"], 2],
    [
      "a store that does not exist",
      ["--store", "sqlite:/nonexistent/events.db", "--subject", "ev.{type}"],
      1,
    ],
  ];
  for (const [what, args, code] of cases) {
    await t.step(what, async () => assert.equal(await main(["relay", ...args]), code));
  }
});

Deno.test({
  name:
    "eventfold relay with NATS down says so on stderr and retries; started again with NATS up, loses nothing",
  ignore,
  fn: async () => {
    const stream = freshStream("CLI");
    await using dir = await tempDir();
    const path = dir.file("events.db");
    const events = new EventFactory([event.type("order:placed"), event.type("order:paid")]);
    const records = await (async () => {
      await using store = new EventStore({ adapter: new SqliteAdapter(path), events });
      return await store.pushManyEvents(
        Array.from(
          { length: 50 },
          (_, i) => store.event({ type: i % 2 ? "order:paid" : "order:placed", stream: `o${i % 5}` }),
        ),
      );
    })();
    const args = ["--store", `sqlite:${path}`, "--subject", "orders.{type}", "--stream", stream];
    await withStreams([stream], async (nc) => {
      const port = freePort();
      {
        const down = new Child("_relay_cli.ts", [...args, "--nats", `nats://127.0.0.1:${port}`]);
        await using _ = down;
        await down.line((line) => line.startsWith("relaying "));
        while ((down.stderr.match(/cannot reach NATS/g) ?? []).length < 2) await delay(20);
        assert.match(
          down.stderr,
          new RegExp(
            `eventfold: Relay "${stream}": cannot reach NATS at nats://127\\.0\\.0\\.1:${port}: .*\\(retrying in \\d+ ms, attempt 1\\)`,
          ),
        );
        assert.match(down.stderr, /attempt 2\)/);
        down.process.kill("SIGINT");
        assert.equal((await down.status()).code, 0, down.stderr);
      }
      const up = new Child("_relay_cli.ts", [...args, "--nats", NATS_URL, "--json"]);
      await using _ = up;
      const started = JSON.parse((await up.line((line) => line.includes('"started"'))).line);
      assert.deepEqual(started, {
        event: "started",
        name: stream,
        stream,
        subject: "orders.{type}",
        checkpoint: `$relay:${stream}`,
      });
      const status = JSON.parse((await up.line((line) => line.includes('"relayed":50'))).line);
      assert.equal(status.position, records.at(-1)!.position);
      assert.equal(status.sequence, 50);
      up.process.kill("SIGINT");
      assert.equal((await up.status()).code, 0, up.stderr);
      const messages = await readStream(nc, stream);
      assert.deepEqual(messages.map((m) => m.header.get(RELAY_HEADERS.id)), records.map((r) => r.id));
      assert.deepEqual(messages.slice(0, 2).map((m) => m.subject), [
        "orders.order:placed",
        "orders.order:paid",
      ]);
      await using adapter = new SqliteAdapter(path);
      assert.equal((await adapter.getCheckpoint(`$relay:${stream}`))?.position, records.at(-1)!.position);
    });
  },
});
