/**
 * What the OpenTelemetry instruments of a store's metrics are: their kind, unit and
 * description, and how a value of the port becomes one of the instrument (the port tells
 * durations in ms; OpenTelemetry's conventions measure them in seconds).
 *
 * @module
 */

import { METRIC_NAMES, SPAN_NAMES } from "../contract/telemetry.ts";
import { SpanKind } from "@opentelemetry/api";

/** How one metric of the port is reported. */
export interface InstrumentSpec {
  readonly unit?: string;
  readonly description?: string;
  /** The instrument's value for the port's (default: the same). */
  readonly scale?: number;
  /** Histogram bucket boundaries, in the instrument's unit. */
  readonly boundaries?: readonly number[];
}

/** Seconds, from half a millisecond (an in-memory append) to 10 s (a stuck database). */
const DURATION_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** The metrics of the port, by name; other names are reported as they come. */
export const INSTRUMENTS: ReadonlyMap<string, InstrumentSpec> = new Map<string, InstrumentSpec>([
  [METRIC_NAMES.appendDuration, {
    unit: "s",
    description: "How long an append call took (with error.type when it failed)",
    scale: 1 / 1000,
    boundaries: DURATION_BUCKETS,
  }],
  [METRIC_NAMES.eventsAppended, { unit: "{event}", description: "Events stored, by type" }],
  [METRIC_NAMES.subscriptionLag, {
    unit: "{event}",
    description: "Events after a running subscription's checkpoint",
  }],
  [METRIC_NAMES.subscriptionParked, {
    unit: "{event}",
    description: "Parked events of a running subscription",
  }],
]);

/**
 * The kind of each span: appends and reads are calls to the database, a relay's publish
 * sends to a broker, the rest is work inside the process.
 */
export const SPAN_KINDS: ReadonlyMap<string, SpanKind> = new Map<string, SpanKind>([
  [SPAN_NAMES.append, SpanKind.CLIENT],
  [SPAN_NAMES.read, SpanKind.CLIENT],
  [SPAN_NAMES.relayPublish, SpanKind.PRODUCER],
]);
