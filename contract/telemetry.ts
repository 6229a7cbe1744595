/**
 * The instrumentation port of a store: what it tells about its appends, reads, folds and
 * subscriptions, through `EventStoreOptions.telemetry`. The core knows no tracing library;
 * `@eventfold/eventfold/otel` implements this port with OpenTelemetry, and anything else
 * can (a test spy, another tracer). Without one, a store pays one comparison per call.
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";

/** The value of an attribute: what OpenTelemetry's `AttributeValue` holds. */
export type TelemetryValue =
  | string
  | number
  | boolean
  | readonly string[]
  | readonly number[]
  | readonly boolean[];

/**
 * Attributes of a span or a measurement, by name (`undefined` values are left out).
 *
 * @example
 * ```ts
 * import type { TelemetryAttributes } from "@eventfold/eventfold";
 * const attributes: TelemetryAttributes = { "eventfold.stream": "u1", "eventfold.event.count": 2 };
 * ```
 */
export interface TelemetryAttributes {
  /** An attribute's value, by its name. */
  readonly [name: string]: TelemetryValue | undefined;
}

/** The span a piece of work runs in, to add what it learnt (how many events a page held). */
export interface TelemetrySpan {
  /**
   * Adds attributes to the span.
   *
   * @param attributes the attributes, by name
   */
  set(attributes: TelemetryAttributes): void;
}

/** One value of an observed metric (a gauge), read when the telemetry collects. */
export interface TelemetryObservation {
  /** The metric's name (one of those given to `observe`). */
  readonly metric: string;
  /** The value now. */
  readonly value: number;
  /** What the value is of (a subscription name). */
  readonly attributes: TelemetryAttributes;
}

/**
 * What a store tells its telemetry. Span and metric names are those of
 * {@linkcode SPAN_NAMES} and {@linkcode METRIC_NAMES}; attribute names follow
 * OpenTelemetry's semantic conventions where they exist (`db.system.name`,
 * `messaging.destination.name`, `error.type`) and start with `eventfold.` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore, type Telemetry } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 *
 * const spans: string[] = [];
 * const spy: Telemetry = {
 *   span: (name, _attributes, run) => (spans.push(name), run({ set: () => {} })),
 *   count: () => {},
 *   record: () => {},
 *   observe: () => () => {},
 * };
 * const events = new EventFactory([event.type("tick")]);
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events, telemetry: spy });
 * await store.pushEvent(store.event({ type: "tick", stream: "s" }));
 * assert.deepEqual(spans, ["eventfold.append"]);
 * ```
 */
export interface Telemetry {
  /**
   * Runs `run` in a span called `name`: it starts now, ends when `run` settles, and
   * records the error when `run` rejects (which `span` then rejects with too).
   *
   * @param name the span's name
   * @param attributes what the work is about, known before it runs
   * @param run the work; it may add attributes to its span
   * @returns what `run` returns
   */
  span<T>(
    name: string,
    attributes: TelemetryAttributes,
    run: (span: TelemetrySpan) => Promise<T>,
  ): Promise<T>;
  /**
   * Adds `value` to the counter `metric`.
   *
   * @param metric the counter's name
   * @param value how much to add (>= 0)
   * @param attributes what it counts (low cardinality: no stream names)
   */
  count(metric: string, value: number, attributes: TelemetryAttributes): void;
  /**
   * Records `value` in the histogram `metric`.
   *
   * @param metric the histogram's name
   * @param value the measurement (a duration in ms)
   * @param attributes what it measures (low cardinality)
   */
  record(metric: string, value: number, attributes: TelemetryAttributes): void;
  /**
   * Registers gauges read by `probe` whenever the telemetry collects.
   *
   * @param metrics the names of the gauges `probe` gives values of
   * @param probe reads the values now
   * @returns a function that unregisters `probe`
   */
  observe(metrics: readonly string[], probe: () => Promise<readonly TelemetryObservation[]>): () => void;
}

const NO_SPAN: TelemetrySpan = Object.freeze({ set: () => {} });

/**
 * The telemetry of a store built without one: it runs the work and records nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { noTelemetry } from "@eventfold/eventfold";
 * assert.equal(await noTelemetry.span("eventfold.append", {}, () => Promise.resolve(1)), 1);
 * ```
 */
export const noTelemetry: Telemetry = Object.freeze({
  span: <T>(_name: string, _attributes: TelemetryAttributes, run: (span: TelemetrySpan) => Promise<T>) =>
    run(NO_SPAN),
  count: () => {},
  record: () => {},
  observe: () => () => {},
});

/**
 * The names of the spans a store (and a relay) makes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SPAN_NAMES } from "@eventfold/eventfold";
 * assert.equal(SPAN_NAMES.append, "eventfold.append");
 * ```
 */
export const SPAN_NAMES: {
  /** One append call (`pushManyEvents`, `import`, `deleteStream`), from validation to its listeners. */
  readonly append: "eventfold.append";
  /** One page read from the adapter (stream or log). */
  readonly read: "eventfold.read";
  /** One fold of a stream or relation (`reduce`, `fold`, aggregate loads, `handle`). */
  readonly fold: "eventfold.fold";
  /** One event handled by a subscription (one attempt). */
  readonly handle: "eventfold.handle";
  /** One page handled by a subscription, up to its checkpoint. */
  readonly subscriptionPage: "eventfold.subscription.page";
  /** Records published by a relay. */
  readonly relayPublish: "eventfold.relay.publish";
} = Object.freeze({
  append: "eventfold.append",
  read: "eventfold.read",
  fold: "eventfold.fold",
  handle: "eventfold.handle",
  subscriptionPage: "eventfold.subscription.page",
  relayPublish: "eventfold.relay.publish",
});

/**
 * The names of the metrics a store reports.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { METRIC_NAMES } from "@eventfold/eventfold";
 * assert.equal(METRIC_NAMES.appendDuration, "eventfold.append.duration");
 * ```
 */
export const METRIC_NAMES: {
  /** Histogram: how long an append call took, in ms (with `error.type` when it failed). */
  readonly appendDuration: "eventfold.append.duration";
  /** Counter: events stored, by `eventfold.event.type`. */
  readonly eventsAppended: "eventfold.events.appended";
  /** Gauge: events after a running subscription's checkpoint, by `eventfold.subscription.name`. */
  readonly subscriptionLag: "eventfold.subscription.lag";
  /** Gauge: parked events of a running subscription, by `eventfold.subscription.name`. */
  readonly subscriptionParked: "eventfold.subscription.parked";
} = Object.freeze({
  appendDuration: "eventfold.append.duration",
  eventsAppended: "eventfold.events.appended",
  subscriptionLag: "eventfold.subscription.lag",
  subscriptionParked: "eventfold.subscription.parked",
});

/** What a relay publishes at once, for {@linkcode publishSpan}. */
export interface Publishing {
  /** The relay's name. */
  readonly relay: string;
  /** The records published. */
  readonly records: readonly EventRecord[];
  /** The subject they go to, when they share one. */
  readonly subject?: string;
  /** The messaging system (default `"nats"`). */
  readonly system?: string;
}

/**
 * Runs `publish` in an `eventfold.relay.publish` span (a relay's call for it): attributes
 * `messaging.system`, `messaging.operation.type` (`"send"`), `messaging.destination.name`,
 * `messaging.batch.message_count`, `eventfold.relay.name`, `eventfold.event.count` and the
 * positions published (`eventfold.position.first`, `eventfold.position.last`). Without
 * telemetry it only runs `publish`.
 *
 * @param telemetry the store's telemetry (`store.telemetry`), or `undefined`
 * @param publishing the relay, the records and their subject
 * @param publish the publishing itself
 * @returns what `publish` returns
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore, publishSpan } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * const events = new EventFactory([event.type("tick")]);
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events });
 * const record = await store.pushEvent(store.event({ type: "tick", stream: "s" }));
 * const acks = await publishSpan(store.telemetry, { relay: "out", subject: "events.tick", records: [record] }, () =>
 *   Promise.resolve(1));
 * assert.equal(acks, 1);
 * ```
 */
export function publishSpan<T>(
  telemetry: Telemetry | undefined,
  publishing: Publishing,
  publish: () => Promise<T>,
): Promise<T> {
  if (telemetry === undefined || telemetry === noTelemetry) return publish();
  const { records } = publishing;
  return telemetry.span(SPAN_NAMES.relayPublish, {
    "messaging.system": publishing.system ?? "nats",
    "messaging.operation.type": "send",
    "messaging.operation.name": "publish",
    "messaging.destination.name": publishing.subject,
    "messaging.batch.message_count": records.length > 1 ? records.length : undefined,
    "eventfold.relay.name": publishing.relay,
    "eventfold.event.count": records.length,
    "eventfold.position.first": records[0]?.position,
    "eventfold.position.last": records[records.length - 1]?.position,
  }, publish);
}
