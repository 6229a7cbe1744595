/**
 * How a store reports to its {@linkcode Telemetry}: the append span with its duration and
 * counts, and a read span around each page the adapter returns. A store without
 * telemetry never reaches this module's work (its callers test for `undefined` first).
 *
 * @module
 */

import type { EventLog } from "../contract/event_log.ts";
import type { EventRecord, PendingEvent } from "../events/record.ts";
import {
  METRIC_NAMES,
  noTelemetry,
  SPAN_NAMES,
  type Telemetry,
  type TelemetryAttributes,
} from "../contract/telemetry.ts";

/**
 * The telemetry option as a store keeps it: `undefined` when there is nothing to tell.
 *
 * @param value the `telemetry` option
 * @throws {TypeError} for something that is not a {@linkcode Telemetry}
 */
export function checkTelemetry(value: unknown): Telemetry | undefined {
  if (value === undefined || value === noTelemetry) return undefined;
  const port = value as Partial<Record<keyof Telemetry, unknown>> | null;
  const missing = typeof port !== "object" || port === null
    ? ["span", "count", "record", "observe"]
    : (["span", "count", "record", "observe"] as const).filter((key) => typeof port[key] !== "function");
  if (missing.length > 0) {
    throw new TypeError(
      `telemetry must implement span, count, record and observe (openTelemetry() from ` +
        `@eventfold/eventfold/otel does); missing ${missing.join(", ")}`,
    );
  }
  return value as Telemetry;
}

/**
 * The attributes naming the database, by OpenTelemetry's conventions (`db.system.name`,
 * and its older name `db.system`, which backends still read).
 *
 * @param kind the adapter's kind
 */
export function systemAttributes(kind: string): TelemetryAttributes {
  const system = kind === "postgres" ? "postgresql" : kind;
  return Object.freeze({ "db.system.name": system, "db.system": system });
}

/** The distinct values of `key` in `items`, in first-seen order. */
function distinct<T>(items: readonly T[], key: (item: T) => string): string[] {
  return [...new Set(items.map(key))];
}

/** The most names an attribute lists (an import of 10,000 streams tells their number only). */
const LISTED = 32;

/** `names` as an attribute: left out when there are too many to list. */
function listed(names: readonly string[]): readonly string[] | undefined {
  return names.length <= LISTED ? names : undefined;
}

/** What an append returns that its span and counter tell. */
interface Written {
  readonly inserted: readonly EventRecord[];
  readonly skipped: readonly string[];
}

/**
 * Runs one append call in an `eventfold.append` span, and records its duration and the
 * events it stored.
 *
 * @param telemetry where to report
 * @param system the database attributes
 * @param pending the events of the call
 * @param operation the call: `"append"`, `"import"`, or `"deleteStream"` (then `deleted`
 *   names the stream removed, not the system stream its record goes to)
 * @param run the append
 * @param deleted the stream a `"deleteStream"` removes
 */
export async function tracedAppend<T extends Written>(
  telemetry: Telemetry,
  system: TelemetryAttributes,
  pending: readonly PendingEvent[],
  operation: "append" | "import" | "deleteStream",
  run: () => Promise<T>,
  deleted?: string,
): Promise<T> {
  const started = performance.now();
  const streams = deleted === undefined ? distinct(pending, (event) => event.stream) : [deleted];
  const types = distinct(pending, (event) => event.type);
  let failure: string | undefined = "_OTHER";
  try {
    const written = await telemetry.span(SPAN_NAMES.append, {
      ...system,
      "db.operation.name": operation,
      "eventfold.stream": streams.length === 1 ? streams[0] : undefined,
      "eventfold.streams": listed(streams),
      "eventfold.stream.count": streams.length,
      "eventfold.event.count": pending.length,
      "eventfold.event.type": types.length === 1 ? types[0] : undefined,
      "eventfold.event.types": listed(types),
    }, async (span) => {
      const result = await run();
      span.set({
        "eventfold.event.inserted": result.inserted.length,
        "eventfold.event.skipped": result.skipped.length,
      });
      return result;
    });
    failure = undefined;
    const byType = new Map<string, number>();
    for (const record of written.inserted) byType.set(record.type, (byType.get(record.type) ?? 0) + 1);
    for (const [type, count] of byType) {
      telemetry.count(METRIC_NAMES.eventsAppended, count, { ...system, "eventfold.event.type": type });
    }
    return written;
  } catch (error) {
    failure = error instanceof Error ? error.name : failure;
    throw error;
  } finally {
    telemetry.record(METRIC_NAMES.appendDuration, performance.now() - started, {
      ...system,
      "error.type": failure,
    });
  }
}

/** The log reads a store's pages make of its adapter. */
export type LogReads = Pick<EventLog<unknown>, "readStream" | "readLog" | "partitionReads">;

/**
 * The log reads of `adapter`, each page in an `eventfold.read` span (the adapter's query;
 * decoding and upcasting come after it).
 *
 * @param telemetry where to report
 * @param system the database attributes
 * @param adapter the adapter's reads
 */
export function tracedReads(telemetry: Telemetry, system: TelemetryAttributes, adapter: LogReads): LogReads {
  return {
    partitionReads: adapter.partitionReads,
    readStream: (stream, options) =>
      telemetry.span(SPAN_NAMES.read, {
        ...system,
        "db.operation.name": "readStream",
        "eventfold.stream": stream,
        "eventfold.read.direction": options.direction,
        "eventfold.read.from_revision": options.fromRevision,
        "eventfold.read.limit": options.limit,
        "eventfold.event.types": options.types && listed(options.types),
      }, async (span) => {
        const page = await adapter.readStream(stream, options);
        span.set({ "eventfold.event.count": page.length });
        return page;
      }),
    readLog: (query) =>
      telemetry.span(SPAN_NAMES.read, {
        ...system,
        "db.operation.name": "readLog",
        "eventfold.read.after": query.after ?? undefined,
        "eventfold.read.direction": query.direction,
        "eventfold.read.limit": query.limit,
        "eventfold.streams": query.streams && listed(query.streams),
        "eventfold.stream.count": query.streams?.length,
        "eventfold.event.types": query.types && listed(query.types),
        "eventfold.partition": query.partition && `${query.partition.index}/${query.partition.count}`,
      }, async (span) => {
        const page = await adapter.readLog(query);
        span.set({
          "eventfold.event.count": page.length,
          "eventfold.position.first": page[0]?.position,
          "eventfold.position.last": page[page.length - 1]?.position,
        });
        return page;
      }),
  };
}
