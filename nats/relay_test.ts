import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { z } from "zod";
import { delay } from "../async.ts";
import {
  event,
  EventFactory,
  EventStore,
  SPAN_NAMES,
  type Telemetry,
  type TelemetryAttributes,
} from "../mod.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { cborCodec } from "../stores/codec.ts";
import {
  freePort,
  freshStream,
  NATS_URL,
  natsAvailable,
  readStream,
  withStreams,
} from "../tests/_nats_env.ts";
import { startProxy } from "../tests/_tcp_proxy.ts";
import { isRelayError, relay, RELAY_HEADERS, type RelayErrorContext } from "./mod.ts";

// Skipped (with the reason printed by natsAvailable) when no server answers, except under CI=true.
const ignore = !(await natsAvailable());
const events = new EventFactory([event.type("order:placed"), event.type("order:paid"), event.type("note")]);
const natsPort = Number(new URL(NATS_URL).port || 4222);

function newStore(): EventStore<typeof events> {
  return new EventStore({ adapter: new MemoryAdapter(), events });
}

async function append(store: EventStore<typeof events>, n: number, streams = ["o.1", "o 2"]) {
  const records = [];
  for (let i = 0; i < n; i++) {
    const type = i % 3 === 0 ? "order:placed" : i % 3 === 1 ? "order:paid" : "note";
    records.push(await store.pushEvent(store.event({ type, stream: streams[i % streams.length] })));
  }
  return records;
}

Deno.test({
  name:
    "relay() publishes the log in order, with the event id as Nats-Msg-Id and the record in headers and body",
  ignore,
  fn: async () => {
    const stream = freshStream();
    await withStreams([stream], async (nc) => {
      await using store = newStore();
      const records = await append(store, 30);
      await using running = relay(store, { servers: NATS_URL, stream, subject: "ev.{stream}.{type}" });
      await running.waitFor(records.at(-1)!.position, { timeout: 10_000 });
      const stored = await readStream(nc, stream);
      assert.deepEqual(stored.map((m) => m.header.get(RELAY_HEADERS.id)), records.map((r) => r.id));
      const first = stored[0];
      assert.equal(first.subject, "ev.o%2E1.order:placed");
      assert.equal(first.header.get(RELAY_HEADERS.stream), "o.1");
      assert.equal(stored[1].header.get(RELAY_HEADERS.stream), "o 2");
      assert.equal(first.header.get(RELAY_HEADERS.revision), "1");
      assert.equal(first.header.get(RELAY_HEADERS.position), records[0].position);
      assert.equal(first.header.get(RELAY_HEADERS.created), records[0].created);
      assert.equal(first.header.get(RELAY_HEADERS.codec), "cbor");
      const body = cborCodec.decode(first.data) as Record<string, unknown>;
      assert.equal(body.id, records[0].id);
      assert.equal(body.type, "order:placed");
      const info = running.info();
      assert.equal(info.relayed, 30);
      assert.equal(info.sequence, 30);
      assert.equal(info.state, "live");
      assert.equal((await store.checkpoints.get(`$relay:${stream}`))?.position, records.at(-1)!.position);
      // Live: a new event goes out at once.
      const [later] = await append(store, 1);
      await running.waitFor(later.position, { timeout: 5000 });
      assert.equal((await readStream(nc, stream)).length, 31);
    });
  },
});

Deno.test({
  name: "relay() resumes after stop from its checkpoint, publishing nothing twice",
  ignore,
  fn: async () => {
    const stream = freshStream();
    await withStreams([stream], async (nc) => {
      await using store = newStore();
      const first = await append(store, 10);
      {
        await using running = relay(store, { servers: NATS_URL, stream, subject: "ev.{type}" });
        await running.waitFor(first.at(-1)!.position, { timeout: 10_000 });
      }
      const second = await append(store, 10);
      await using again = relay(store, { servers: NATS_URL, stream, subject: "ev.{type}" });
      await again.waitFor(second.at(-1)!.position, { timeout: 10_000 });
      assert.equal(again.info().relayed, 10);
      const ids = (await readStream(nc, stream)).map((m) => m.header.get(RELAY_HEADERS.id));
      assert.deepEqual(ids, [...first, ...second].map((r) => r.id));
    });
  },
});

Deno.test({
  name:
    "relay() goes on after the stream's last message when the checkpoint lags behind it (a crash after the ack)",
  ignore,
  fn: async () => {
    const stream = freshStream();
    await withStreams([stream], async (nc) => {
      await using store = newStore();
      const records = await append(store, 12);
      {
        await using running = relay(store, { servers: NATS_URL, stream, subject: "ev.{type}" });
        await running.waitFor(records.at(-1)!.position, { timeout: 10_000 });
      }
      // As if the relay had died between the acks and the checkpoint.
      await store.checkpoints.put(`$relay:${stream}`, records[3].position, {
        expected: records.at(-1)!.position,
      });
      const more = await append(store, 3);
      await using again = relay(store, { servers: NATS_URL, stream, subject: "ev.{type}" });
      await again.waitFor(more.at(-1)!.position, { timeout: 10_000 });
      assert.equal(again.info().relayed, 3);
      const ids = (await readStream(nc, stream)).map((m) => m.header.get(RELAY_HEADERS.id));
      assert.deepEqual(ids, [...records, ...more].map((r) => r.id));
    });
  },
});

Deno.test({
  name: "relay() with types publishes only those types and its checkpoint moves past the others",
  ignore,
  fn: async () => {
    const stream = freshStream();
    await withStreams([stream], async (nc) => {
      await using store = newStore();
      const records = await append(store, 9);
      await using running = relay(store, {
        servers: NATS_URL,
        stream,
        subject: "ev.{type}",
        types: ["order:paid"],
        name: "paid",
      });
      await running.waitFor(records.at(-1)!.position, { timeout: 10_000 });
      const stored = await readStream(nc, stream);
      assert.deepEqual(
        stored.map((m) => m.header.get(RELAY_HEADERS.id)),
        records.filter((r) => r.type === "order:paid").map((r) => r.id),
      );
      assert.equal((await store.checkpoints.get("$relay:paid"))?.position, records.at(-1)!.position);
    });
  },
});

Deno.test("relay() refuses a template naming an unknown field, and other bad options, at the call", async (t) => {
  await using store = newStore();
  const base = { servers: "nats://127.0.0.1:1", stream: "EVENTS", subject: "ev.{type}" };
  const cases: [string, Record<string, unknown>, RegExp, ErrorConstructor][] = [
    ["an unknown field", { subject: "ev.{kind}" }, /unknown field \{kind\}.*\{stream\}, \{type\}/, TypeError],
    ["an unclosed brace", { subject: "ev.{type" }, /without its "\}"/, TypeError],
    ["an empty token", { subject: "ev..{type}" }, /empty token/, TypeError],
    ["a wildcard", { subject: "ev.*" }, /wildcard/, TypeError],
    ["no subject", { subject: "" }, /non-empty template/, TypeError],
    ["a bad stream name", { stream: "a.b" }, /JetStream name/, TypeError],
    ["a server that is no NATS URL", { servers: "http://x" }, /not a NATS URL/, TypeError],
    ["no servers", { servers: [] }, /servers must be/, TypeError],
    ["empty types", { types: [] }, /types must be/, TypeError],
    ["a bad codec", { codec: "xml" }, /codec must be/, TypeError],
    ["a bad lease", { leaseTtl: 100, leaseInterval: 100 }, /leaseTtl/, RangeError],
  ];
  for (const [what, change, message, kind] of cases) {
    await t.step(what, () => {
      assert.throws(() => relay(store, { ...base, ...change } as never), (error: Error) => {
        assert.ok(error instanceof kind, `${error}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

Deno.test({
  name: "relay() against a NATS that is down reports it, retries, and loses nothing once the server is up",
  ignore,
  fn: async () => {
    const stream = freshStream();
    await withStreams([stream], async (nc) => {
      await using proxy = startProxy(natsPort);
      await proxy.cut();
      await using store = newStore();
      const records = await append(store, 20);
      const reports: [unknown, RelayErrorContext][] = [];
      await using running = relay(store, {
        servers: `nats://127.0.0.1:${proxy.port}`,
        stream,
        subject: "ev.{type}",
        backoff: 20,
        maxBackoff: 100,
        onError: (error, context) => void reports.push([error, context]),
      });
      while (reports.length < 3) await delay(20);
      const [error, context] = reports[0];
      assert.ok(isRelayError(error) && !error.fatal);
      assert.match(
        (error as Error).message,
        new RegExp(`cannot reach NATS at nats://127.0.0.1:${proxy.port}`),
      );
      assert.equal(context.action, "retry");
      assert.equal(reports[2][1].attempt, 3);
      assert.equal(running.info().state, "retrying");
      assert.equal(running.info().lastError?.attempt !== undefined, true);
      proxy.restore();
      await running.waitFor(records.at(-1)!.position, { timeout: 10_000 });
      // Cut in the middle of a catch-up (windows of 512 in flight), then bring it back.
      await proxy.cut();
      const backlog = await store.pushManyEvents(
        Array.from({ length: 10_000 }, (_, i) => store.event({ type: "note", stream: `n${i % 7}` })),
      );
      proxy.restore();
      const relayed = running.info().relayed;
      while (running.info().relayed === relayed) await delay(1);
      const reported = reports.length;
      await proxy.cut();
      const atCut = running.info().relayed - relayed;
      assert.ok(atCut < backlog.length, `the cut came after the catch-up (${atCut} relayed)`);
      while (reports.length === reported) await delay(5);
      assert.match(String(reports.at(-1)![0]), /closed|cannot reach NATS|publishing to JetStream stream/);
      proxy.restore();
      await running.waitFor(backlog.at(-1)!.position, { timeout: 15_000 });
      const ids = (await readStream(nc, stream)).map((m) => m.header.get(RELAY_HEADERS.id));
      assert.equal(ids.length, records.length + backlog.length);
      assert.deepEqual(ids, [...records, ...backlog].map((r) => r.id));
    });
  },
});

Deno.test({
  name: "relay() keeps retrying while nothing listens on the NATS port, and says where it tried",
  ignore,
  fn: async () => {
    const stream = freshStream();
    await withStreams([stream], async () => {
      const port = freePort();
      await using store = newStore();
      const reports: [unknown, RelayErrorContext][] = [];
      await using running = relay(store, {
        servers: `nats://127.0.0.1:${port}`,
        stream,
        subject: "ev.{type}",
        backoff: 10,
        maxBackoff: 40,
        onError: (error, context) => void reports.push([error, context]),
      });
      while (reports.length < 5) await delay(10);
      for (const [error, context] of reports) {
        assert.ok(isRelayError(error) && !error.fatal && error.relay === stream);
        assert.match(
          error.message,
          new RegExp(`^Relay "${stream}": cannot reach NATS at nats://127\\.0\\.0\\.1:${port}`),
        );
        assert.equal(context.action, "retry");
        assert.ok(context.delay! >= 5 && context.delay! <= 40, `delay ${context.delay}`);
      }
      assert.deepEqual(reports.map(([, context]) => context.attempt), [1, 2, 3, 4, 5]);
      assert.equal(running.info().position, null);
      await running.stop();
      assert.equal(running.info().state, "stopped");
      await running.done; // a stop is no failure
    });
  },
});

Deno.test({
  name: "relay() runs each window of publishes in an eventfold.relay.publish span of the store's telemetry",
  ignore,
  fn: async () => {
    const stream = freshStream();
    await withStreams([stream], async () => {
      const spans: { name: string; attributes: TelemetryAttributes }[] = [];
      const spy: Telemetry = {
        span: (name, attributes, run) => (spans.push({ name, attributes }), run({ set: () => {} })),
        count: () => {},
        record: () => {},
        observe: () => () => {},
      };
      await using store = new EventStore({ adapter: new MemoryAdapter(), events, telemetry: spy });
      const records = await store.pushManyEvents(
        Array.from({ length: 25 }, () => store.event({ type: "note", stream: "s" })),
      );
      await using running = relay(store, {
        servers: NATS_URL,
        stream,
        subject: "ev.{type}",
        maxInFlight: 10,
      });
      await running.waitFor(records.at(-1)!.position, { timeout: 10_000 });
      const published = spans.filter((span) => span.name === SPAN_NAMES.relayPublish);
      assert.deepEqual(published.map((span) => span.attributes["eventfold.event.count"]), [10, 10, 5]);
      assert.deepEqual(published[0].attributes, {
        "messaging.system": "nats",
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.destination.name": "ev.note",
        "messaging.batch.message_count": 10,
        "eventfold.relay.name": stream,
        "eventfold.event.count": 10,
        "eventfold.position.first": records[0].position,
        "eventfold.position.last": records[9].position,
      });
      assert.equal(published[2].attributes["eventfold.position.last"], records[24].position);
    });
  },
});

Deno.test({
  name:
    "relay() stops for good on a stream taking other subjects, another publisher's message, an event too large",
  ignore,
  fn: async (t) => {
    const other = freshStream();
    const foreign = freshStream();
    const large = freshStream();
    await withStreams([other, foreign, large], async (nc) => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: other, subjects: [`${other}.x`] });
      await jsm.streams.add({ name: foreign, subjects: [`${foreign}.>`] });
      await jetstream(nc).publish(`${foreign}.note`, new Uint8Array([1]));
      await using store = newStore();
      await append(store, 2);
      await t.step("other subjects", async () => {
        const stops: RelayErrorContext[] = [];
        const running = relay(store, {
          servers: NATS_URL,
          stream: other,
          subject: "ev.{type}",
          onError: (_error, context) => void stops.push(context),
        });
        await assert.rejects(running.done, (error: Error) => {
          assert.ok(isRelayError(error) && error.fatal);
          assert.match(error.message, /does not take the subjects ev\.\* \(it takes .*\.x\)/);
          return true;
        });
        assert.equal(stops[0].action, "stop");
        assert.equal(running.info().state, "failed");
      });
      await t.step("another publisher's message", async () => {
        const running = relay(store, {
          servers: NATS_URL,
          stream: foreign,
          subject: `${foreign}.{type}`,
          onError: () => {},
        });
        await assert.rejects(running.done, /holds a message this relay did not publish \(sequence 1/);
      });
      await t.step("an event larger than the server's max_payload", async () => {
        const blobs = new EventFactory([event.type("note"), event.type("blob").data(z.string())]);
        await using big = new EventStore({ adapter: new MemoryAdapter(), events: blobs });
        const [one, two, blob] = await big.pushManyEvents([
          big.event({ type: "note", stream: "s" }),
          big.event({ type: "note", stream: "s" }),
          big.event({ type: "blob", stream: "s", data: "x".repeat(nc.info!.max_payload + 1) }),
          big.event({ type: "note", stream: "s" }),
        ]);
        const running = relay(big, {
          servers: NATS_URL,
          stream: large,
          subject: "ev.{type}",
          onError: () => {},
        });
        await assert.rejects(running.done, (error: Error) => {
          assert.ok(isRelayError(error) && error.fatal);
          assert.match(
            error.message,
            new RegExp(`cannot publish event ${blob.id} \\(blob, position ${blob.position}\\)`),
          );
          assert.match(error.message, /larger than the server's max_payload \(\d+ bytes/);
          return true;
        });
        assert.equal(running.info().state, "failed");
        assert.equal(running.info().position, two.position);
        const ids = (await readStream(nc, large)).map((m) => m.header.get(RELAY_HEADERS.id));
        assert.deepEqual(ids, [one.id, two.id]);
      });
    });
  },
});

Deno.test({
  name: "relay() with a signal stops when it aborts, and one relay per name runs at a time",
  ignore,
  fn: async () => {
    const stream = freshStream();
    await withStreams([stream], async () => {
      await using store = newStore();
      const records = await append(store, 3);
      const controller = new AbortController();
      const one = relay(store, {
        servers: NATS_URL,
        stream,
        subject: "ev.{type}",
        signal: controller.signal,
      });
      await one.waitFor(records.at(-1)!.position, { timeout: 10_000 });
      await using two = relay(store, { servers: NATS_URL, stream, subject: "ev.{type}" });
      await delay(100);
      assert.equal(two.info().state, "waiting-for-lease");
      controller.abort();
      await one.done;
      assert.equal(one.info().state, "stopped");
      const [later] = await append(store, 1);
      await two.waitFor(later.position, { timeout: 10_000 });
      assert.equal(two.info().relayed, 1);
    });
  },
});
