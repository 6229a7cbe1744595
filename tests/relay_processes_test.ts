import assert from "node:assert/strict";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { RELAY_HEADERS } from "../nats/mod.ts";
import { delay } from "../async.ts";
import { Child } from "./_child.ts";
import { freshStream, NATS_URL, natsAvailable, readStream, withStreams } from "./_nats_env.ts";
import { dropSchema, freshSchema, PG_URL, pgAvailable } from "./_postgres_env.ts";
import { relayStoreAdapter } from "./_relay_store.ts";
import { tempDir } from "./_sqlite_helpers.ts";

// Skipped (with the reason printed by natsAvailable) when no server answers, except under CI=true.
const ignore = !(await natsAvailable());

/** Where a killed relay left things: JetStream's last sequence, and how many of those its checkpoint missed. */
interface AtKill {
  readonly sequence: number;
  readonly unsaved: number;
}

/** The stream's last sequence, and how many events JetStream holds after the relay's checkpoint. */
async function leftAt(jsm: JetStreamManager, stream: string, store: string): Promise<AtKill> {
  const sequence = (await jsm.streams.info(stream)).state.last_seq;
  if (sequence === 0) return { sequence, unsaved: 0 };
  const last = await jsm.streams.getMessage(stream, { seq: sequence });
  const reached = last!.header.get(RELAY_HEADERS.position);
  await using adapter = relayStoreAdapter(store);
  const saved = (await adapter.getCheckpoint(`$relay:${stream}`))?.position ?? undefined;
  let unsaved = 0;
  let after = saved;
  for (;;) {
    const page = await adapter.readLog({ after, direction: "forward", limit: 1000 });
    const within = page.filter((record) => record.position <= reached);
    unsaved += within.length;
    if (within.length < page.length || page.length < 1000) break;
    after = page.at(-1)!.position;
  }
  return { sequence, unsaved };
}

/** A store for one run: its URL, made and empty; removed when disposed. */
type TestStore = { readonly url: string } & AsyncDisposable;

async function sqliteStore(): Promise<TestStore> {
  const dir = await tempDir();
  const url = `sqlite:${dir.file("events.db")}`;
  await relayStoreAdapter(url).close();
  return { url, [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose]() };
}

async function postgresStore(): Promise<TestStore> {
  const schema = freshSchema("relay_");
  const url = `${PG_URL}?schema=${schema}`;
  await using adapter = relayStoreAdapter(url);
  await adapter.getCheckpoint("$relay:none"); // makes the schema
  return { url, [Symbol.asyncDispose]: () => dropSchema(schema) };
}

const runs: [string, () => Promise<TestStore>, boolean][] = [
  ["SQLite", sqliteStore, ignore],
  ["PostgreSQL", postgresStore, ignore || !(await pgAvailable())],
];

for (const [kind, open, skip] of runs) {
  Deno.test({
    name:
      `eventfold relay on ${kind} SIGKILLed 5 times while 100,000 events are appended leaves each event once, in log order`,
    ignore: skip,
    fn: (t) => killedFiveTimes(t, open),
  });
}

async function killedFiveTimes(t: Deno.TestContext, open: () => Promise<TestStore>): Promise<void> {
  const stream = freshStream("KILL");
  await using store = await open();
  const total = 100_000;
  const started = Date.now();
  await withStreams([stream], async (nc) => {
    await using writer = new Child("_relay_writer.ts", [store.url, String(total), "6"]);
    const args = [
      "--store",
      store.url,
      "--nats",
      NATS_URL,
      "--subject",
      "orders.{stream}.{type}",
      "--stream",
      stream,
      "--lease-ttl",
      "600",
    ];
    const jsm = await jetstreamManager(nc);
    const sequence = async () => (await jsm.streams.info(stream).catch(() => undefined))?.state.last_seq ?? 0;
    const kills: AtKill[] = [];
    let caughtUp = 0;
    for (let kill = 0; kill < 5; kill++) {
      await using relay = new Child("_relay_cli.ts", args);
      await relay.line((line) => line.startsWith("relaying "));
      // Let it publish for a while (it waits up to the lease's time for the killed one's lease).
      const before = await sequence();
      const end = Date.now() + 10_000;
      while (await sequence() <= before && Date.now() < end) await delay(20);
      await delay(200 + Math.floor(Math.random() * 400));
      relay.process.kill("SIGKILL");
      await relay.status();
      assert.ok(
        !writer.lines.includes(`done ${total}`),
        `the writer had finished before kill ${kill + 1} (${writer.lines.at(-1)})`,
      );
      kills.push(await leftAt(jsm, stream, store.url));
    }
    const killed = Date.now() - started;
    await writer.line((line) => line === `done ${total}`, 60_000);
    const written = Date.now() - started;
    {
      await using relay = new Child("_relay_cli.ts", args);
      const end = Date.now() + 40_000;
      while (await sequence() < total && Date.now() < end) await delay(50);
      assert.equal(await sequence(), total, `stdout: ${relay.lines.join(" / ")}; stderr: ${relay.stderr}`);
      caughtUp = Date.now() - started;
      await delay(300); // nothing more comes: no duplicate after the last one
      assert.equal(await sequence(), total);
    }
    await using adapter = relayStoreAdapter(store.url);
    const log: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await adapter.readLog({ after, direction: "forward", limit: 10_000 });
      log.push(...page.map((record) => record.id));
      if (page.length < 10_000) break;
      after = page.at(-1)!.position;
    }
    const messages = await readStream(nc, stream);
    const ids = messages.map((message) => message.header.get(RELAY_HEADERS.id));
    assert.equal(ids.length, total);
    assert.equal(new Set(ids).size, total, "an event was published twice");
    assert.deepEqual(ids, log, "the stream is not in log order");
    // Per subject (one subject per stream and type), the messages keep the log's order.
    const bySubject = new Map<string, string[]>();
    for (const message of messages) {
      const positions = bySubject.get(message.subject) ?? [];
      positions.push(message.header.get(RELAY_HEADERS.position));
      bySubject.set(message.subject, positions);
    }
    for (const [subject, positions] of bySubject) {
      assert.ok(positions.every((p, i) => i === 0 || positions[i - 1] < p), `${subject} is out of order`);
    }
    await t.step(
      `measured: at the 5 kills JetStream held ${kills.map((k) => k.sequence).join(", ")} events, ` +
        `of which the checkpoint missed ${kills.map((k) => k.unsaved).join(", ")}; ` +
        `killed by ${killed} ms, writer done at ${written} ms, all ${total} in JetStream at ${caughtUp} ms ` +
        `(${bySubject.size} subjects), checked at ${Date.now() - started} ms`,
      () => {},
    );
  });
}
