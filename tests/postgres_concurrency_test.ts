import assert from "node:assert/strict";
import { ConcurrencyError, event, EventFactory, EventStore } from "../mod.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { dropSchema, freshSchema, PG_URL, pgAvailable } from "./_postgres_env.ts";
import { runWriters } from "./_postgres_writer.ts";
import { delay } from "../async.ts";

const ignore = !(await pgAvailable());

const PROCESSES = 3;
const WRITERS_PER_PROCESS = 2;
const LOCAL_WRITERS = 2;
const PER_WRITER = 2500;
const STREAMS = 40;
const TOTAL = (PROCESSES * WRITERS_PER_PROCESS + LOCAL_WRITERS) * PER_WRITER;

interface Seen {
  id: string;
  position: string;
}

/** Follows the log from the start with a cursor, as a subscription does, until `total` events. */
async function tail(adapter: PostgresAdapter, total: number, deadline: () => number): Promise<Seen[]> {
  const seen: Seen[] = [];
  let cursor: string | undefined;
  let wake: (() => void) | undefined;
  const stop = adapter.watch(() => wake?.());
  try {
    while (seen.length < total) {
      if (Date.now() > deadline()) throw new Error(`reader stalled at ${seen.length} of ${total} events`);
      const page = await adapter.readLog({ direction: "forward", limit: 1000, after: cursor });
      for (const record of page) seen.push({ id: record.id, position: record.position });
      if (page.length > 0) {
        cursor = page.at(-1)!.position;
        continue;
      }
      // Woken by NOTIFY, or after a short poll: nothing depends on the notification.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 25);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    const extra = await adapter.readLog({ direction: "forward", limit: 1000, after: cursor });
    assert.equal(extra.length, 0, "events beyond those written");
    return seen;
  } finally {
    stop();
  }
}

async function spawnWriters(schema: string): Promise<number> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "tests/_postgres_writer.ts",
      PG_URL,
      schema,
      String(WRITERS_PER_PROCESS),
      String(PER_WRITER),
      String(STREAMS),
    ],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `writer process failed: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(text.trim().split("\n").at(-1)!).written;
}

Deno.test({
  name: `${TOTAL} events from 8 writers in ${
    PROCESSES + 1
  } processes reach 2 tailing readers exactly once, in one order`,
  ignore,
  async fn() {
    const schema = freshSchema();
    const setup = new PostgresAdapter(PG_URL, { schema });
    const readers = [new PostgresAdapter(PG_URL, { schema }), new PostgresAdapter(PG_URL, { schema })];
    let reading: Promise<Seen[]>[] = [];
    try {
      await setup.open();
      let deadline = Date.now() + 120_000;
      reading = readers.map((reader) => tail(reader, TOTAL, () => deadline));
      const written = await Promise.all([
        ...Array.from({ length: PROCESSES }, () => spawnWriters(schema)),
        runWriters(PG_URL, schema, LOCAL_WRITERS, PER_WRITER, STREAMS),
      ]);
      // Every event is committed now: a reader that is still short has skipped some. (The
      // visibility horizon is server-wide: another test's open transaction on the shared
      // server may hold the readers back a while, the more so under load; a skipped event
      // never comes, however long they wait.)
      deadline = Date.now() + 30_000;
      assert.equal(written.reduce((a, b) => a + b, 0), TOTAL);
      const [first, second] = await Promise.all(reading);

      assert.equal(first.length, TOTAL);
      assert.equal(new Set(first.map((seen) => seen.id)).size, TOTAL, "an event was received twice");
      for (let i = 1; i < first.length; i++) {
        assert.ok(first[i - 1].position < first[i].position, `positions out of order at ${i}`);
      }
      assert.deepEqual(
        second.map((seen) => seen.id),
        first.map((seen) => seen.id),
        "the readers disagree on the order",
      );

      const sql = setup.sql;
      const streams = await sql<
        { stream: string; events: number; low: number; high: number; distinct: number }[]
      >`
        SELECT stream, count(*)::int AS events, min(revision) AS low, max(revision) AS high,
               count(DISTINCT revision)::int AS distinct
        FROM ${sql(schema)}.events GROUP BY stream`;
      assert.equal(streams.reduce((sum, row) => sum + row.events, 0), TOTAL);
      for (const row of streams) {
        assert.deepEqual(
          [row.low, row.high, row.distinct],
          [1, row.events, row.events],
          `stream ${row.stream} has a gap or a duplicate revision`,
        );
      }
      const [{ stored }] = await sql<{ stored: number }[]>`
        SELECT count(*)::int AS stored FROM ${sql(schema)}.events`;
      assert.equal(stored, TOTAL);
    } finally {
      await Promise.all([setup.close(), ...readers.map((reader) => reader.close())]);
      // A reader still polling (after a failure above) stops on the closed adapter.
      await Promise.allSettled(reading);
      await dropSchema(schema);
    }
  },
});

const raceEvents = new EventFactory([event.type("step")]);

Deno.test({
  name:
    "racing writers on one stream with expected revisions: one wins each revision, the rest get ConcurrencyError",
  ignore,
  async fn() {
    const schema = freshSchema();
    const stores = Array.from(
      { length: 6 },
      () => new EventStore({ adapter: new PostgresAdapter(PG_URL, { schema }), events: raceEvents }),
    );
    const ROUNDS = 15;
    const BATCH = 3;
    try {
      await stores[0].adapter.open();
      for (let round = 0; round < ROUNDS; round++) {
        const expected = round * BATCH;
        const outcomes = await Promise.allSettled(stores.map((store, writer) =>
          store.pushManyEvents(
            Array.from({ length: BATCH }, (_, i) =>
              store.event({ type: "step", stream: "race", id: `r${round}-w${writer}-${i}` })),
            { expectedRevision: expected },
          )
        ));
        const won = outcomes.filter((outcome) => outcome.status === "fulfilled");
        assert.equal(won.length, 1, `round ${round}: ${won.length} writers won`);
        for (const outcome of outcomes) {
          if (outcome.status === "rejected") {
            assert.ok(outcome.reason instanceof ConcurrencyError, String(outcome.reason));
            assert.equal(outcome.reason.stream, "race");
            assert.equal(outcome.reason.expected, expected);
            assert.equal(outcome.reason.actual, expected + BATCH);
          }
        }
      }
      const stream = await stores[0].getEventsByStreams(["race"]);
      assert.deepEqual(
        stream.map((record) => record.revision),
        Array.from({ length: ROUNDS * BATCH }, (_, i) => i + 1),
      );
      for (let round = 0; round < ROUNDS; round++) {
        // Each round's three events come from one writer, whole and in order.
        const ids = stream.slice(round * BATCH, (round + 1) * BATCH).map((record) => record.id);
        const writer = ids[0].split("-")[1];
        assert.deepEqual(ids, [0, 1, 2].map((i) => `r${round}-${writer}-${i}`));
      }
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await dropSchema(schema);
    }
  },
});

Deno.test({
  name: "appends spanning several streams keep each stream's log order equal to its revision order",
  ignore,
  async fn() {
    const schema = freshSchema();
    const stores = Array.from(
      { length: 8 },
      () => new EventStore({ adapter: new PostgresAdapter(PG_URL, { schema }), events: raceEvents }),
    );
    const STREAMS = ["a", "b", "c", "d"];
    try {
      await stores[0].adapter.open();
      for (const store of stores) {
        // Hold the stream locks a little while, so writers queue behind each other.
        store.onEventsInserting(() => delay(Math.random() * 4));
      }
      await Promise.all(stores.map(async (store) => {
        for (let i = 0; i < 30; i++) {
          const picked = STREAMS.filter(() => Math.random() < 0.5);
          const streams = picked.length > 0 ? picked : [STREAMS[i % STREAMS.length]];
          await store.pushManyEvents(streams.map((stream) => store.event({ type: "step", stream })));
        }
      }));
      const log = await stores[0].getEvents();
      const last = new Map<string, number>();
      for (const record of log) {
        const before = last.get(record.stream) ?? 0;
        assert.equal(
          record.revision,
          before + 1,
          `stream ${record.stream}: revision ${record.revision} at ${record.position} follows ${before}`,
        );
        last.set(record.stream, record.revision);
      }
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await dropSchema(schema);
    }
  },
});
