/**
 * What subscriptions tell the store's {@linkcode Telemetry}: a span per page handled and
 * per event handled in it, and the lag and parked-count gauges of the running ones.
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";
import {
  METRIC_NAMES,
  noTelemetry,
  SPAN_NAMES,
  type Telemetry,
  type TelemetryAttributes,
  type TelemetryObservation,
} from "../contract/telemetry.ts";

/**
 * Runs one handling of `record` in an `eventfold.handle` span.
 *
 * @param telemetry where to report
 * @param name the subscription name
 * @param record the event
 * @param hydrated how it is delivered
 * @param handle runs its handlers
 */
export function traceHandle(
  telemetry: Telemetry,
  name: string,
  record: EventRecord,
  hydrated: boolean,
  handle: () => Promise<void>,
): Promise<void> {
  return telemetry.span(SPAN_NAMES.handle, {
    "eventfold.subscription.name": name,
    "eventfold.event.type": record.type,
    "eventfold.event.id": record.id,
    "eventfold.stream": record.stream,
    "eventfold.event.revision": record.revision,
    "eventfold.event.position": record.position,
    "eventfold.hydrated": hydrated,
  }, handle);
}

/**
 * Runs the handling of one page (up to its checkpoint) in an `eventfold.subscription.page` span.
 *
 * @param telemetry where to report
 * @param name the subscription name
 * @param page the records, in log order (not empty)
 * @param hydrated how they are delivered
 * @param handle handles the page
 */
export function tracePage(
  telemetry: Telemetry,
  name: string,
  page: readonly EventRecord[],
  hydrated: boolean,
  handle: () => Promise<void>,
): Promise<void> {
  return telemetry.span(SPAN_NAMES.subscriptionPage, {
    "eventfold.subscription.name": name,
    "eventfold.event.count": page.length,
    "eventfold.position.first": page[0]?.position,
    "eventfold.position.last": page[page.length - 1]?.position,
    "eventfold.hydrated": hydrated,
  }, handle);
}

/** What the gauges read of a running subscription (a `Subscription` is one). */
interface Reporting {
  info(): Promise<
    { readonly name: string; readonly state: string; readonly lag: number; readonly parked: number }
  >;
}

function reporting(value: unknown): value is Reporting {
  return typeof (value as Partial<Reporting> | null)?.info === "function";
}

/** An instance that holds its name's lease reports for it before one that waits. */
const WAITING = new Set(["waiting-for-lease", "stopped", "starting"]);

/**
 * The gauges of the running subscriptions of a store: events after each one's checkpoint
 * (`eventfold.subscription.lag`) and its parked events (`eventfold.subscription.parked`),
 * one value per name. A subscription whose store does not answer now is left out.
 *
 * @param running the store's running subscriptions (workflow runs, which report through
 *   their own subscription, are left out)
 * @param system the database attributes
 */
export async function subscriptionGauges(
  running: Iterable<unknown>,
  system: TelemetryAttributes,
): Promise<TelemetryObservation[]> {
  const reports = await Promise.all(
    [...running].filter(reporting).map((subscription) => subscription.info().catch(() => undefined)),
  );
  const byName = new Map<string, { lag: number; parked: number; state: string }>();
  for (const info of reports) {
    if (typeof info?.name !== "string" || typeof info.lag !== "number" || typeof info.parked !== "number") {
      continue;
    }
    if (Number.isNaN(info.lag) || Number.isNaN(info.parked)) continue;
    const seen = byName.get(info.name);
    if (seen === undefined || (WAITING.has(seen.state) && !WAITING.has(info.state))) {
      byName.set(info.name, info);
    }
  }
  const out: TelemetryObservation[] = [];
  for (const [name, { lag, parked }] of byName) {
    const attributes = { ...system, "eventfold.subscription.name": name };
    out.push({ metric: METRIC_NAMES.subscriptionLag, value: lag, attributes });
    out.push({ metric: METRIC_NAMES.subscriptionParked, value: parked, attributes });
  }
  return out;
}

/**
 * The telemetry a subscription reports to: `undefined` when there is none (the store's
 * `noTelemetry`), so that handling pays nothing for it.
 *
 * @param telemetry the store's telemetry
 */
export function activeTelemetry(telemetry: Telemetry | undefined): Telemetry | undefined {
  return telemetry === noTelemetry ? undefined : telemetry;
}
