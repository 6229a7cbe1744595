/**
 * `openTelemetry()`: the store's {@linkcode Telemetry} port on `@opentelemetry/api`.
 *
 * @module
 */

import {
  type Attributes,
  type BatchObservableCallback,
  type Context,
  context as contexts,
  type Counter,
  type Histogram,
  type Meter,
  metrics,
  type ObservableGauge,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { AsyncContext } from "../async.ts";
import type {
  Telemetry,
  TelemetryAttributes,
  TelemetryObservation,
  TelemetrySpan,
} from "../contract/telemetry.ts";
import { INSTRUMENTS, SPAN_KINDS } from "./_instruments.ts";

/** The instrumentation scope of what a store reports. */
export const INSTRUMENTATION_SCOPE: { readonly name: "@eventfold/eventfold"; readonly version: string } =
  Object
    .freeze({ name: "@eventfold/eventfold", version: "0.1.0" });

/**
 * An OpenTelemetry `Tracer` (`@opentelemetry/api`'s, of any 1.x copy), as far as the
 * signatures here need to tell: `trace.getTracer(...)` and `provider.getTracer(...)` give one.
 */
export interface OpenTelemetryTracer {
  /** Starts a span (see `Tracer.startSpan`). */
  startSpan(name: string, options?: never, context?: never): unknown;
}

/** An OpenTelemetry `TracerProvider` (an SDK's `BasicTracerProvider`, `Deno.telemetry.tracerProvider`). */
export interface OpenTelemetryTracerProvider {
  /** A tracer for an instrumentation scope (see `TracerProvider.getTracer`). */
  getTracer(name: string, version?: string): OpenTelemetryTracer;
}

/** An OpenTelemetry `Meter` (`@opentelemetry/api`'s), as far as the signatures here need to tell. */
export interface OpenTelemetryMeter {
  /** See `Meter.createCounter`. */
  createCounter(name: string, options?: never): unknown;
  /** See `Meter.createHistogram`. */
  createHistogram(name: string, options?: never): unknown;
  /** See `Meter.createObservableGauge`. */
  createObservableGauge(name: string, options?: never): unknown;
  /** See `Meter.addBatchObservableCallback`. */
  addBatchObservableCallback(callback: never, observables: never): void;
  /** See `Meter.removeBatchObservableCallback`. */
  removeBatchObservableCallback(callback: never, observables: never): void;
}

/** An OpenTelemetry `MeterProvider` (an SDK's `MeterProvider`, `Deno.telemetry.meterProvider`). */
export interface OpenTelemetryMeterProvider {
  /** A meter for an instrumentation scope (see `MeterProvider.getMeter`). */
  getMeter(name: string, version?: string): OpenTelemetryMeter;
}

/**
 * Where {@linkcode openTelemetry} reports: a tracer and a meter, or the providers to get
 * them from. Each left out is taken from the global API (`trace.getTracer`,
 * `metrics.getMeter`), which is a no-op until an SDK registers (or Deno's built-in
 * OpenTelemetry, `OTEL_DENO=true`, does): register it before calling `openTelemetry()`.
 */
export interface OpenTelemetryOptions {
  /** The tracer spans are made with. */
  readonly tracer?: OpenTelemetryTracer;
  /** Where the tracer comes from (not with `tracer`). */
  readonly tracerProvider?: OpenTelemetryTracerProvider;
  /** The meter metrics are made with. */
  readonly meter?: OpenTelemetryMeter;
  /** Where the meter comes from (not with `meter`). */
  readonly meterProvider?: OpenTelemetryMeterProvider;
}

/** The attributes with the values left out that are `undefined`. */
function defined(attributes: TelemetryAttributes): Attributes {
  const out: Attributes = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) out[key] = value as Attributes[string];
  }
  return out;
}

/** A low-cardinality name for an error: its class. */
function errorType(error: unknown): string {
  return error instanceof Error && error.name.length > 0 ? error.name : "_OTHER";
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Carries the span a store's work runs in along its async calls when no OpenTelemetry
 * context manager does (the API's default one keeps nothing): a read is then the child
 * of its fold, a handled event of its subscription page, whatever the SDK set-up.
 */
const carried: AsyncContext<Context> | undefined = AsyncContext.tracked
  ? new AsyncContext<Context>()
  : undefined;

/** The context a new span starts in: the active one, or the one carried by our own spans. */
function parentContext(): Context {
  const active = contexts.active();
  if (active !== ROOT_CONTEXT || carried === undefined) return active;
  return carried.get() ?? ROOT_CONTEXT;
}

class Spans {
  readonly #tracer: Tracer;

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  async run<T>(
    name: string,
    attributes: TelemetryAttributes,
    work: (span: TelemetrySpan) => Promise<T>,
  ): Promise<T> {
    const parent = parentContext();
    const span = this.#tracer.startSpan(name, {
      kind: SPAN_KINDS.get(name) ?? SpanKind.INTERNAL,
      attributes: defined(attributes),
    }, parent);
    const inside = trace.setSpan(parent, span);
    const handle: TelemetrySpan = { set: (more) => void span.setAttributes(defined(more)) };
    try {
      return await contexts.with(
        inside,
        () => carried === undefined ? work(handle) : carried.run(inside, () => work(handle)),
      );
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  }
}

function failed(span: Span, error: unknown): void {
  span.setAttribute("error.type", errorType(error));
  span.recordException(error instanceof Error ? error : message(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: message(error) });
}

/** The port's metrics as instruments of one meter, made when first used. */
class Instruments {
  readonly #meter: Meter;
  readonly #counters = new Map<string, Counter>();
  readonly #histograms = new Map<string, Histogram>();
  readonly #gauges = new Map<string, ObservableGauge>();

  constructor(meter: Meter) {
    this.#meter = meter;
  }

  count(metric: string, value: number, attributes: TelemetryAttributes): void {
    let counter = this.#counters.get(metric);
    if (counter === undefined) {
      const spec = INSTRUMENTS.get(metric);
      counter = this.#meter.createCounter(metric, { unit: spec?.unit, description: spec?.description });
      this.#counters.set(metric, counter);
    }
    counter.add(value, defined(attributes));
  }

  record(metric: string, value: number, attributes: TelemetryAttributes): void {
    const spec = INSTRUMENTS.get(metric);
    let histogram = this.#histograms.get(metric);
    if (histogram === undefined) {
      histogram = this.#meter.createHistogram(metric, {
        unit: spec?.unit,
        description: spec?.description,
        ...(spec?.boundaries === undefined
          ? {}
          : { advice: { explicitBucketBoundaries: [...spec.boundaries] } }),
      });
      this.#histograms.set(metric, histogram);
    }
    histogram.record(value * (spec?.scale ?? 1), defined(attributes));
  }

  observe(names: readonly string[], probe: () => Promise<readonly TelemetryObservation[]>): () => void {
    const gauges = new Map(names.map((name) => [name, this.#gauge(name)]));
    const callback: BatchObservableCallback = async (result) => {
      for (const { metric, value, attributes } of await probe()) {
        const gauge = gauges.get(metric);
        if (gauge !== undefined) {
          result.observe(gauge, value * (INSTRUMENTS.get(metric)?.scale ?? 1), defined(attributes));
        }
      }
    };
    const observables = [...gauges.values()];
    this.#meter.addBatchObservableCallback(callback, observables);
    let registered = true;
    return () => {
      if (!registered) return;
      registered = false;
      this.#meter.removeBatchObservableCallback(callback, observables);
    };
  }

  #gauge(name: string): ObservableGauge {
    let gauge = this.#gauges.get(name);
    if (gauge === undefined) {
      const spec = INSTRUMENTS.get(name);
      gauge = this.#meter.createObservableGauge(name, { unit: spec?.unit, description: spec?.description });
      this.#gauges.set(name, gauge);
    }
    return gauge;
  }
}

/**
 * A store's {@linkcode Telemetry} on OpenTelemetry, for `EventStore`'s `telemetry` option:
 *
 * - **Spans** `eventfold.append` and `eventfold.read` (kind client, with `db.system.name`,
 *   `eventfold.stream`, `eventfold.event.count`, ...), `eventfold.fold`,
 *   `eventfold.subscription.page` and `eventfold.handle` (internal) and
 *   `eventfold.relay.publish` (producer), nested as the work is: a fold's reads are its
 *   children, a page's handled events are its children, and an append made by a handler
 *   is a child of its `eventfold.handle`. A span whose work fails has status error, the
 *   exception as an event and `error.type` (the error's class, `ConcurrencyError` for a
 *   stale expected revision).
 * - **Metrics** `eventfold.append.duration` (histogram, seconds, with `error.type` on a
 *   failure), `eventfold.events.appended` (counter, by `eventfold.event.type`) and the
 *   gauges `eventfold.subscription.lag` and `eventfold.subscription.parked` (by
 *   `eventfold.subscription.name`, read from each running subscription's `info()` when the
 *   meter collects).
 *
 * Spans nest through OpenTelemetry's active context when a context manager is
 * registered, and through an `AsyncLocalStorage` of their own otherwise, so that a
 * `BasicTracerProvider` alone shows the tree.
 *
 * @param options the tracer and meter (or their providers); default: the global API's
 * @returns the telemetry to give to one or more stores
 * @throws {TypeError} for both a tracer and a tracer provider (or a meter and a meter provider)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { openTelemetry } from "@eventfold/eventfold/otel";
 * import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
 *
 * const exporter = new InMemorySpanExporter();
 * const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
 * const events = new EventFactory([event.type("tick")]);
 * await using store = new EventStore({
 *   adapter: new MemoryAdapter(),
 *   events,
 *   telemetry: openTelemetry({ tracerProvider }),
 * });
 * await store.pushEvent(store.event({ type: "tick", stream: "clock" }));
 * const [span] = exporter.getFinishedSpans();
 * assert.equal(span.name, "eventfold.append");
 * assert.equal(span.attributes["eventfold.stream"], "clock");
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Telemetry {
  if (options.tracer !== undefined && options.tracerProvider !== undefined) {
    throw new TypeError("openTelemetry takes a tracer or a tracerProvider, not both");
  }
  if (options.meter !== undefined && options.meterProvider !== undefined) {
    throw new TypeError("openTelemetry takes a meter or a meterProvider, not both");
  }
  const { name, version } = INSTRUMENTATION_SCOPE;
  // The structural types above are what the API's are; a tracer or meter given is one.
  const tracer = (options.tracer ?? (options.tracerProvider ?? trace).getTracer(name, version)) as Tracer;
  const meter = (options.meter ?? (options.meterProvider ?? metrics).getMeter(name, version)) as Meter;
  const spans = new Spans(tracer);
  const instruments = new Instruments(meter);
  return Object.freeze({
    span: <T>(spanName: string, attributes: TelemetryAttributes, run: (span: TelemetrySpan) => Promise<T>) =>
      spans.run(spanName, attributes, run),
    count: (metric: string, value: number, attributes: TelemetryAttributes) =>
      instruments.count(metric, value, attributes),
    record: (metric: string, value: number, attributes: TelemetryAttributes) =>
      instruments.record(metric, value, attributes),
    observe: (names: readonly string[], probe: () => Promise<readonly TelemetryObservation[]>) =>
      instruments.observe(names, probe),
  });
}
