import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Context,
  context,
  type ContextManager,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import { z } from "zod";
import {
  event,
  EventFactory,
  EventStore,
  isConcurrencyError,
  makeReducer,
  Projector,
  publishSpan,
} from "../mod.ts";
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { dropSchema, freshSchema, PG_URL, pgAvailable } from "../tests/_postgres_env.ts";
import { INSTRUMENTATION_SCOPE, METRIC_NAMES, openTelemetry, SPAN_NAMES } from "./mod.ts";

const events = new EventFactory([
  event.type("tick").data(z.number()),
  event.type("tock"),
  event.type("boom"),
]);

/** A reader that collects when asked (no timer). */
class ManualReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * An SDK in memory: the spans exported, and the data points of a metric when collected
 * (cumulative, or `delta`: what was measured since the last collection only).
 */
function sdk(temporality = AggregationTemporality.CUMULATIVE) {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new ManualReader({ aggregationTemporalitySelector: () => temporality });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    telemetry: openTelemetry({ tracerProvider, meterProvider }),
    spans: (name?: string): ReadableSpan[] =>
      exporter.getFinishedSpans().filter((span) => name === undefined || span.name === name),
    reset: () => exporter.reset(),
    async points(metric: string): Promise<DataPoint<number | Histogram>[]> {
      const { resourceMetrics, errors } = await reader.collect();
      assert.deepEqual(errors, []);
      const found = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
        .filter((data) => data.descriptor.name === metric);
      return found.flatMap((data) => data.dataPoints as DataPoint<number | Histogram>[]);
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

const childOf = (child: ReadableSpan, parent: ReadableSpan): boolean =>
  child.parentSpanContext?.spanId === parent.spanContext().spanId &&
  child.spanContext().traceId === parent.spanContext().traceId;

const STORES = {
  memory: () =>
    Promise.resolve({ adapter: new MemoryAdapter(), system: "memory", cleanup: () => Promise.resolve() }),
  sqlite: async () => {
    const dir = await Deno.makeTempDir({ prefix: "eventfold-otel-" });
    return {
      adapter: new SqliteAdapter(`${dir}/events.db`),
      system: "sqlite",
      cleanup: () => Deno.remove(dir, { recursive: true }),
    };
  },
  postgres: () => {
    const schema = freshSchema();
    return Promise.resolve({
      adapter: new PostgresAdapter(PG_URL, { schema }),
      system: "postgresql",
      cleanup: () => dropSchema(schema),
    });
  },
};

const noPostgres = !(await pgAvailable());

for (const [kind, open] of Object.entries(STORES)) {
  const ignore = kind === "postgres" && noPostgres;
  Deno.test(
    `${kind}: appends, reads and folds make spans with their stream, types and counts`,
    { ignore },
    async () => {
      const otel = sdk();
      const { adapter, system, cleanup } = await open();
      try {
        await using store = new EventStore({ adapter, events, telemetry: otel.telemetry });
        await store.pushManyEvents([
          store.event({ type: "tick", stream: "clock", data: 1 }),
          store.event({ type: "tick", stream: "clock", data: 2 }),
        ]);
        const [append] = otel.spans(SPAN_NAMES.append);
        assert.equal(append.kind, SpanKind.CLIENT);
        assert.equal(append.status.code, SpanStatusCode.UNSET);
        assert.deepEqual(append.instrumentationScope.name, INSTRUMENTATION_SCOPE.name);
        assert.equal(append.attributes["db.system.name"], system);
        assert.equal(append.attributes["db.operation.name"], "append");
        assert.equal(append.attributes["eventfold.stream"], "clock");
        assert.equal(append.attributes["eventfold.event.type"], "tick");
        assert.equal(append.attributes["eventfold.event.count"], 2);
        assert.equal(append.attributes["eventfold.event.inserted"], 2);
        assert.ok(!("eventfold.read.after" in append.attributes), "undefined attributes are left out");

        otel.reset();
        const sum = makeReducer<typeof events, number>(
          (total, record) => record.type === "tick" ? total + record.data : total,
          0,
        );
        assert.equal(await store.reduce({ name: "sum", stream: "clock", reducer: sum }), 3);
        const [fold] = otel.spans(SPAN_NAMES.fold);
        assert.equal(fold.kind, SpanKind.INTERNAL);
        assert.equal(fold.attributes["eventfold.fold.name"], "sum");
        assert.equal(fold.attributes["eventfold.stream"], "clock");
        assert.equal(fold.attributes["eventfold.event.count"], 2);
        const reads = otel.spans(SPAN_NAMES.read);
        assert.ok(reads.length >= 1);
        for (const read of reads) assert.ok(childOf(read, fold), "a fold's reads are its children");
        assert.equal(reads[0].attributes["db.operation.name"], "readStream");
        assert.equal(reads[0].attributes["eventfold.stream"], "clock");
        assert.equal(reads[0].attributes["eventfold.event.count"], 2);

        otel.reset();
        const all = [];
        for await (const record of store.readAll({ types: ["tick"] })) all.push(record);
        assert.equal(all.length, 2);
        const [page] = otel.spans(SPAN_NAMES.read);
        assert.equal(page.attributes["db.operation.name"], "readLog");
        assert.deepEqual(page.attributes["eventfold.event.types"], ["tick"]);
        assert.equal(page.attributes["eventfold.event.count"], 2);
        assert.equal(page.attributes["eventfold.position.last"], all[1].position);
        assert.equal(page.parentSpanContext, undefined, "a read outside any span is a root");
      } finally {
        await otel.shutdown();
        await cleanup();
      }
    },
  );

  Deno.test(
    `${kind}: imports and stream deletions are append spans named by their operation`,
    { ignore },
    async () => {
      const otel = sdk();
      const { adapter, cleanup } = await open();
      try {
        await using store = new EventStore({ adapter, events, telemetry: otel.telemetry });
        const record = store.event({ type: "tock", stream: "old" });
        await store.import([record]);
        await store.import([record]);
        await store.deleteStream("old");
        const [first, again, deletion] = otel.spans(SPAN_NAMES.append);
        assert.equal(first.attributes["db.operation.name"], "import");
        assert.equal(first.attributes["eventfold.event.inserted"], 1);
        assert.equal(again.attributes["eventfold.event.skipped"], 1);
        assert.equal(deletion.attributes["db.operation.name"], "deleteStream");
        assert.equal(
          deletion.attributes["eventfold.stream"],
          "old",
          "the stream deleted, not the system stream",
        );
        const appended = await otel.points(METRIC_NAMES.eventsAppended);
        assert.deepEqual(
          appended.map((point) => [point.attributes["eventfold.event.type"], point.value]).sort(),
          [["$stream:deleted", 1], ["tock", 1]],
        );
      } finally {
        await otel.shutdown();
        await cleanup();
      }
    },
  );

  Deno.test(`${kind}: a stale expected revision ends the append span in error`, { ignore }, async () => {
    const otel = sdk();
    const { adapter, cleanup } = await open();
    try {
      await using store = new EventStore({ adapter, events, telemetry: otel.telemetry });
      await store.pushEvent(store.event({ type: "tock", stream: "s" }));
      const error = await store.pushEvent(store.event({ type: "tock", stream: "s" }), { expectedRevision: 0 })
        .catch((error) => error);
      assert.ok(isConcurrencyError(error));
      const [, failed] = otel.spans(SPAN_NAMES.append);
      assert.equal(failed.status.code, SpanStatusCode.ERROR);
      assert.equal(failed.status.message, error.message);
      assert.equal(failed.attributes["error.type"], "ConcurrencyError");
      assert.equal(failed.events[0]?.name, "exception");
      assert.equal(failed.events[0]?.attributes?.["exception.type"], "ConcurrencyError");

      const durations = await otel.points(METRIC_NAMES.appendDuration);
      const byError = new Map(
        durations.map((point) => [point.attributes["error.type"], point.value as Histogram]),
      );
      assert.equal(byError.get(undefined)?.count, 1);
      assert.equal(byError.get("ConcurrencyError")?.count, 1);
      assert.ok((byError.get(undefined)?.sum ?? 0) > 0);
      assert.ok((byError.get(undefined)?.sum ?? Infinity) < 10, "in seconds");
      const appended = await otel.points(METRIC_NAMES.eventsAppended);
      assert.deepEqual(appended.map((point) => [point.attributes["eventfold.event.type"], point.value]), [[
        "tock",
        1,
      ]]);
    } finally {
      await otel.shutdown();
      await cleanup();
    }
  });

  Deno.test(`${kind}: a subscription page holds its handled events, and an append of a handler nests in it`, {
    ignore,
  }, async () => {
    const otel = sdk();
    const { adapter, cleanup } = await open();
    try {
      await using store = new EventStore({ adapter, events, telemetry: otel.telemetry });
      const projector = new Projector<typeof events>();
      projector.on("tick", async (record) => {
        await store.pushEvent(store.event({ type: "tock", stream: `echo-${record.stream}` }));
      });
      await using subscription = store.subscribe("echo", projector);
      const last = (await store.pushManyEvents([
        store.event({ type: "tick", stream: "a", data: 1 }),
        store.event({ type: "tick", stream: "b", data: 2 }),
      ]))[1];
      await subscription.waitFor(last.position, { timeout: 5000 });
      await subscription.stop();

      const handles = otel.spans(SPAN_NAMES.handle);
      assert.deepEqual(handles.map((span) => span.attributes["eventfold.stream"]).sort(), ["a", "b"]);
      const pages = otel.spans(SPAN_NAMES.subscriptionPage);
      assert.ok(pages.length >= 1);
      for (const handle of handles) {
        assert.equal(handle.attributes["eventfold.subscription.name"], "echo");
        assert.equal(handle.attributes["eventfold.event.type"], "tick");
        assert.ok(pages.some((page) => childOf(handle, page)), "a handled event is a child of its page");
        const echo = otel.spans(SPAN_NAMES.append)
          .find((span) =>
            span.attributes["eventfold.stream"] === `echo-${handle.attributes["eventfold.stream"]}`
          );
        assert.ok(
          echo !== undefined && childOf(echo, handle),
          "the handler's append is a child of its handle span",
        );
      }
      const counted = pages.reduce((sum, page) => sum + Number(page.attributes["eventfold.event.count"]), 0);
      assert.equal(counted, 2, "the pages hold the two ticks (the projector reads only its types)");
    } finally {
      await otel.shutdown();
      await cleanup();
    }
  });

  Deno.test(
    `${kind}: lag and parked events are gauges of each running subscription`,
    { ignore },
    async () => {
      // Delta: a gauge shows what its probe observed at this collection, nothing older.
      const otel = sdk(AggregationTemporality.DELTA);
      const { adapter, system, cleanup } = await open();
      try {
        await using store = new EventStore({ adapter, events, telemetry: otel.telemetry });
        const failing = new Projector<typeof events>();
        failing.on("boom", () => {
          throw new Error("no");
        });
        await using parker = store.subscribe("parker", failing, {
          onFailure: "park",
          attempts: 1,
          onError: () => {},
        });
        const tocks = new Projector<typeof events>();
        tocks.on("tock", () => {});
        await using paused = store.subscribe("paused", tocks);
        const boom = await store.pushEvent(store.event({ type: "boom", stream: "x" }));
        await parker.waitFor(boom.position, { timeout: 5000 });
        await paused.waitFor(boom.position, { timeout: 5000 });
        await paused.pause();
        await store.pushManyEvents([
          store.event({ type: "tock", stream: "y" }),
          store.event({ type: "tock", stream: "y" }),
        ]);
        await parker.waitFor((await store.pushEvent(store.event({ type: "tock", stream: "z" }))).position, {
          timeout: 5000,
        });

        const value = (points: DataPoint<number | Histogram>[], name: string) =>
          points.find((point) => point.attributes["eventfold.subscription.name"] === name)?.value;
        const lag = await otel.points(METRIC_NAMES.subscriptionLag);
        const parked = await otel.points(METRIC_NAMES.subscriptionParked);
        assert.equal(value(lag, "parker"), 0);
        assert.equal(value(lag, "paused"), 3);
        assert.equal(value(parked, "parker"), 1);
        assert.equal(value(parked, "paused"), 0);
        assert.equal(lag[0].attributes["db.system.name"], system);

        await parker.stop();
        const after = await otel.points(METRIC_NAMES.subscriptionLag);
        assert.deepEqual(after.map((point) => point.attributes["eventfold.subscription.name"]), ["paused"]);
        await store.close();
        assert.deepEqual(await otel.points(METRIC_NAMES.subscriptionLag), [], "a closed store has no probe");
      } finally {
        await otel.shutdown();
        await cleanup();
      }
    },
  );
}

/** The context manager of `@opentelemetry/context-async-hooks`, in a few lines. */
class LocalContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    at: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(at, () => fn.call(thisArg, ...args));
  }
  bind<T>(_context: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

Deno.test("with a context manager registered, a store's spans are children of the caller's span", async () => {
  const otel = sdk();
  assert.ok(context.setGlobalContextManager(new LocalContextManager()));
  try {
    await using store = new EventStore({ adapter: new MemoryAdapter(), events, telemetry: otel.telemetry });
    const tracer = otel.tracerProvider.getTracer("app");
    let inStep: string | undefined;
    await tracer.startActiveSpan("request", async (request) => {
      await store.pushEvent(store.event({ type: "tock", stream: "s" }));
      await store.reduce({
        name: "count",
        stream: "s",
        reducer: makeReducer<typeof events, number>((n) => {
          // Code the store runs (a reducer, a handler) sees the store's span as the active one.
          inStep = trace.getActiveSpan()?.spanContext().spanId;
          return n + 1;
        }, 0),
      });
      request.end();
    });
    const [request] = otel.spans("request");
    const [append] = otel.spans(SPAN_NAMES.append);
    const [fold] = otel.spans(SPAN_NAMES.fold);
    assert.ok(childOf(append, request));
    assert.ok(childOf(fold, request));
    assert.equal(inStep, fold.spanContext().spanId);
    for (const read of otel.spans(SPAN_NAMES.read)) assert.ok(childOf(read, fold));
  } finally {
    context.disable();
    await otel.shutdown();
  }
});

Deno.test("publishSpan makes a producer span of the records a relay publishes", async () => {
  const otel = sdk();
  try {
    await using store = new EventStore({ adapter: new MemoryAdapter(), events, telemetry: otel.telemetry });
    const records = await store.pushManyEvents([
      store.event({ type: "tock", stream: "s" }),
      store.event({ type: "tock", stream: "s" }),
    ]);
    const acks = await publishSpan(
      store.telemetry,
      { relay: "out", subject: "events.tock", records },
      () => Promise.resolve(2),
    );
    assert.equal(acks, 2);
    await assert.rejects(
      publishSpan(store.telemetry, { relay: "out", records: records.slice(0, 1) }, () => {
        return Promise.reject(new TypeError("no server"));
      }),
      TypeError,
    );
    const [sent, failed] = otel.spans(SPAN_NAMES.relayPublish);
    assert.equal(sent.kind, SpanKind.PRODUCER);
    assert.equal(sent.attributes["messaging.system"], "nats");
    assert.equal(sent.attributes["messaging.destination.name"], "events.tock");
    assert.equal(sent.attributes["messaging.batch.message_count"], 2);
    assert.equal(sent.attributes["eventfold.relay.name"], "out");
    assert.equal(sent.attributes["eventfold.position.first"], records[0].position);
    assert.equal(sent.attributes["eventfold.position.last"], records[1].position);
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
    assert.equal(failed.attributes["error.type"], "TypeError");
    assert.ok(!("messaging.batch.message_count" in failed.attributes), "one message is no batch");
  } finally {
    await otel.shutdown();
  }
});

Deno.test("openTelemetry() without an SDK is a no-op that still runs the work", async () => {
  const telemetry = openTelemetry();
  await using store = new EventStore({ adapter: new MemoryAdapter(), events, telemetry });
  const record = await store.pushEvent(store.event({ type: "tock", stream: "s" }));
  assert.equal(record.revision, 1);
  assert.equal(await telemetry.span("x", {}, () => Promise.resolve(7)), 7);
  await assert.rejects(telemetry.span("x", {}, () => Promise.reject(new RangeError("r"))), RangeError);
});

Deno.test("openTelemetry() refuses a tracer with a tracer provider, and a meter with a meter provider", () => {
  const tracerProvider = new BasicTracerProvider();
  const meterProvider = new MeterProvider();
  assert.throws(() => openTelemetry({ tracer: tracerProvider.getTracer("x"), tracerProvider }), TypeError);
  assert.throws(() => openTelemetry({ meter: meterProvider.getMeter("x"), meterProvider }), TypeError);
});

Deno.test("the instrumentation scope's version is the package's", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(INSTRUMENTATION_SCOPE.version, manifest.version);
});
