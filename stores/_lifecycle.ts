/**
 * The lifecycle calls of `EventStore`: deleting a stream (with or without a tombstone),
 * truncating its early revisions, setting its retention rules, and what is known of a
 * stream beyond its events. The
 * adapter does the storage part (`contract/stream_lifecycle.ts`); this checks input and
 * puts the `"$stream:deleted"` record into the log through the normal append path, so
 * hooks, projectors and subscriptions see it in order.
 *
 * @module
 */

import type { Adapter, StreamStatus } from "../contract/mod.ts";
import type { ExpectedRevision } from "../events/expected_revision.ts";
import { type StreamDeletedRecord, SYSTEM_STREAM } from "../events/system.ts";
import type { EventRecord } from "../events/record.ts";
import type { Clock } from "../events/clock.ts";
import { checkExpected } from "./_input.ts";
import { streamName } from "./_pages.ts";
import { checkMetadata } from "./_retention.ts";
import type { Writer } from "./_writer.ts";

/** Options of `store.deleteStream`. */
export interface DeleteStreamOptions {
  /** The revision the stream must be at, as for an append (default: any). */
  readonly expectedRevision?: ExpectedRevision;
  /** Refuse every later append to the stream with `StreamDeletedError` (default `false`). */
  readonly tombstone?: boolean;
}

/** Options of `store.truncateStream`. */
export interface TruncateStreamOptions {
  /** The first revision to keep: every event of the stream below it is removed. */
  readonly before: number;
}

/** What `store.truncateStream` did. */
export interface TruncateResult {
  /** How many events were removed. */
  readonly removed: number;
}

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

function lifecycleOf(adapter: Adapter, call: string): Required<Pick<Adapter, "streamStatus">> {
  if (typeof adapter.streamStatus !== "function") {
    throw new TypeError(
      `${call} needs an adapter with stream lifecycle support; the ${adapter.kind} adapter has none`,
    );
  }
  return adapter as Required<Pick<Adapter, "streamStatus">>;
}

/** Refuses the stream the store keeps its own records in. */
function notSystem(stream: string, call: string): string {
  if (stream === SYSTEM_STREAM) {
    throw new TypeError(`${call} cannot touch "${SYSTEM_STREAM}": the store keeps its own records there`);
  }
  return stream;
}

function optionsObject(options: unknown, call: string): Record<string, unknown> {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${call} options must be an object, got ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}

/**
 * Deletes a stream: removes its events, snapshots and relations, and appends a
 * `"$stream:deleted"` record, in one transaction.
 *
 * @param adapter the storage
 * @param writer the store's writer
 * @param stream the stream
 * @param options expected revision and tombstone
 * @param clock the store's clock, for the record's `created`
 * @returns the `"$stream:deleted"` record
 */
export async function deleteStream(
  adapter: Adapter,
  writer: Pick<Writer<EventRecord, unknown>, "remove">,
  stream: unknown,
  options: DeleteStreamOptions = {},
  clock: Clock,
): Promise<StreamDeletedRecord> {
  const name = notSystem(streamName(stream), "deleteStream");
  lifecycleOf(adapter, "deleteStream");
  const given = optionsObject(options, "deleteStream");
  const tombstone = given.tombstone ?? false;
  if (typeof tombstone !== "boolean") {
    throw new TypeError(
      `tombstone must be true or false, got ${JSON.stringify(tombstone) ?? describe(tombstone)}`,
    );
  }
  const expected = given.expectedRevision === undefined
    ? undefined
    : checkExpected(given.expectedRevision, name);
  const record = await writer.remove({ stream: name, expected, tombstone }, clock.now());
  return record as unknown as StreamDeletedRecord;
}

/**
 * Removes the revisions of a stream below `before`.
 *
 * @param adapter the storage
 * @param stream the stream
 * @param options the first revision to keep
 */
export async function truncateStream(
  adapter: Adapter,
  stream: unknown,
  options: TruncateStreamOptions,
): Promise<TruncateResult> {
  const name = notSystem(streamName(stream), "truncateStream");
  lifecycleOf(adapter, "truncateStream");
  const before = optionsObject(options, "truncateStream").before;
  if (typeof before !== "number" || !Number.isSafeInteger(before) || before < 1) {
    throw new RangeError(
      `before must be a whole number from 1 (the first revision to keep), got ${
        JSON.stringify(before) ?? describe(before)
      }`,
    );
  }
  if (before === 1) return { removed: 0 };
  const status = (await lifecycleOf(adapter, "truncateStream").streamStatus([name])).get(name);
  // A stream never written has nothing to remove; revisions only grow, so the bound holds.
  if (status === undefined || status.revision === 0) return { removed: 0 };
  if (before > status.revision + 1) {
    throw new RangeError(
      `before must be at most ${status.revision + 1} for stream "${name}" at revision ${status.revision} ` +
        `(${status.revision + 1} removes every event), got ${before}`,
    );
  }
  const removed = await adapter.transaction((tx) => {
    if (typeof tx.truncateStream !== "function") {
      throw new TypeError(`the ${adapter.kind} adapter's transactions cannot truncate streams`);
    }
    return tx.truncateStream(name, before);
  });
  return { removed };
}

/**
 * What is known of a stream beyond its events.
 *
 * @param adapter the storage
 * @param stream the stream
 * @returns its status, `undefined` for a stream never written or deleted
 */
export async function streamStatus(adapter: Adapter, stream: unknown): Promise<StreamStatus | undefined> {
  const name = streamName(stream);
  return (await lifecycleOf(adapter, "streamStatus").streamStatus([name])).get(name);
}

/**
 * Sets the retention rules of a stream, replacing the ones it had.
 *
 * @param adapter the storage
 * @param stream the stream
 * @param metadata the rules, checked here
 * @param clock the store's clock (`maxAge` needs one whose times are dates)
 */
export async function setStreamMetadata(
  adapter: Adapter,
  stream: unknown,
  metadata: unknown,
  clock: Clock,
): Promise<void> {
  const name = notSystem(streamName(stream), "setStreamMetadata");
  const rules = checkMetadata(metadata, clock);
  await adapter.transaction(async (tx) => {
    if (typeof tx.setStreamMetadata !== "function") {
      throw new TypeError(
        `setStreamMetadata needs an adapter with stream metadata; the ${adapter.kind} adapter has none`,
      );
    }
    await tx.setStreamMetadata(name, rules);
  });
}
