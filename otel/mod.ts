/**
 * OpenTelemetry for a store: spans for its appends, read pages, folds, subscription pages,
 * handled events and relay publishes, and metrics for append latency, events appended,
 * subscription lag and parked events. Built on `@opentelemetry/api` alone, which does
 * nothing until an SDK is registered (or Deno's built-in OpenTelemetry, `OTEL_DENO=true`,
 * is on); only importing this module loads it, the core never does.
 *
 * @example Spans and metrics in memory (an SDK's exporters would send them on)
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { openTelemetry } from "@eventfold/eventfold/otel";
 * import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
 * import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
 *
 * const spans = new InMemorySpanExporter();
 * const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
 * const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
 * const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
 * const meterProvider = new MeterProvider({ readers: [reader] });
 *
 * const events = new EventFactory([event.type("tick")]);
 * await using store = new EventStore({
 *   adapter: new MemoryAdapter(),
 *   events,
 *   telemetry: openTelemetry({ tracerProvider, meterProvider }),
 * });
 * await store.pushEvent(store.event({ type: "tick", stream: "clock" }));
 * assert.deepEqual(spans.getFinishedSpans().map((span) => span.name), ["eventfold.append"]);
 *
 * await reader.forceFlush();
 * const names = exporter.getMetrics()[0].scopeMetrics[0].metrics.map((metric) => metric.descriptor.name);
 * assert.ok(names.includes("eventfold.append.duration"));
 * await meterProvider.shutdown();
 * ```
 *
 * @module
 */

export {
  INSTRUMENTATION_SCOPE,
  openTelemetry,
  type OpenTelemetryMeter,
  type OpenTelemetryMeterProvider,
  type OpenTelemetryOptions,
  type OpenTelemetryTracer,
  type OpenTelemetryTracerProvider,
} from "./open_telemetry.ts";
export {
  METRIC_NAMES,
  type Publishing,
  publishSpan,
  SPAN_NAMES,
  type Telemetry,
  type TelemetryAttributes,
  type TelemetryObservation,
  type TelemetrySpan,
  type TelemetryValue,
} from "../contract/telemetry.ts";
// The types the signatures above use, so their docs are reachable from here.
export type { EventRecord } from "../events/record.ts";
