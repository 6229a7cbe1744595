/**
 * Paged reads of a stream and of the log: argument checks, page sizes, the exclusive
 * `after` bound carried from page to page, and the retention rules of the streams a read
 * names (reads of the whole log show every stored event, as subscriptions need), looked up
 * once per read.
 *
 * @module
 */

import type { EventLog } from "../contract/event_log.ts";
import { checkPartition, inPartition, type Partition } from "../contract/partitions.ts";
import type { EventRecord } from "../events/record.ts";
import type { RecordReader } from "./_evolve.ts";
import type { Floor, Retention } from "./_retention.ts";
import { checkLimit, checkName, checkNames, checkRevision } from "./_input.ts";
import type { ReadAllOptions, ReadOptions, ReadStreamOptions } from "./event_store_options.ts";

/** The log reads of an adapter, reached through a check that the store is open. */
export type LogAccess = () => Pick<EventLog<unknown>, "readStream" | "readLog" | "partitionReads">;

/**
 * The read direction from a user's spelling of it.
 *
 * @param value `"forward"`/`"backward"`, or valkyr's `"asc"`/`"desc"` and `1`/`-1`
 * @throws {TypeError} for anything else
 */
export function direction(value: unknown): "forward" | "backward" {
  if (value === undefined || value === "forward" || value === "asc" || value === 1) return "forward";
  if (value === "backward" || value === "desc" || value === -1) return "backward";
  throw new TypeError(
    `direction must be "forward" or "backward" (or "asc" / "desc"), got ${JSON.stringify(value)}`,
  );
}

/**
 * valkyr's `filter: { types }` as Eventfold's `types`, and the deprecated `cursor` as
 * `after`; both spellings at once are ambiguous.
 *
 * @param options the read options as given
 * @throws {TypeError} when both spellings of the types are given
 */
export function readOptions(options: ReadOptions): ReadOptions {
  const { filter, cursor, ...rest } = options;
  const after = options.after ?? cursor;
  if (filter === undefined) return { ...rest, after };
  if (options.types !== undefined) {
    throw new TypeError("give the event types either as types or as filter.types, not both");
  }
  return { ...rest, after, types: filter.types };
}

/**
 * Checks a stream name (or a relation key).
 *
 * @param stream the value given
 * @param what how to name it in the error
 */
export function streamName(stream: unknown, what = "stream"): string {
  return checkName(stream, what);
}

const NONE: Map<string, Floor> = new Map();

/** The records of a page at or above their stream's floor. */
function shown(page: EventRecord[], floors: Map<string, Floor>): EventRecord[] {
  if (floors.size === 0) return page;
  return page.filter((record) => record.revision >= (floors.get(record.stream) ?? 0));
}

/**
 * Pages of one stream in revision order (or reversed), without what its retention rules
 * hide.
 *
 * @param access the adapter, once the store is known to be open
 * @param reader turns stored records into current ones
 * @param retention the stream's floor (what its rules hide)
 * @param pageSize the largest page asked of the adapter
 * @param stream the stream
 * @param options first revision, direction, limit, types
 */
export async function* streamPages(
  access: LogAccess,
  reader: RecordReader,
  retention: Retention,
  pageSize: number,
  stream: string,
  options: ReadStreamOptions,
): AsyncIterable<EventRecord[]> {
  streamName(stream);
  const dir = direction(options.direction);
  let remaining = checkLimit(options.limit);
  let from = checkRevision(options.fromRevision);
  checkNames(options.types, "types");
  // Revisions start at 1: reading forward from 0 reads from the first event.
  if (from !== undefined && from < 1) {
    if (dir === "backward") return;
    from = 1;
  }
  const types = reader.storedTypes(options.types);
  // The floor once, as the read begins, before its first page: what the pages hold is at
  // least what the floor saw (one status lookup per read, not per page).
  const floor = (await retention.floors([stream])).get(stream) ?? 1;
  if (dir === "forward" && (from ?? 1) < floor) from = floor;
  while (remaining > 0) {
    const limit = Math.min(remaining, pageSize);
    const page = await access().readStream(stream, { fromRevision: from, direction: dir, limit, types });
    const records = await reader.read(dir === "forward" ? page : page.filter((r) => r.revision >= floor));
    if (records.length > 0) yield records;
    remaining -= records.length;
    if (page.length < limit) return;
    const last = page[page.length - 1].revision;
    from = dir === "forward" ? last + 1 : last - 1;
    if (from < floor) return; // backward: nothing older shows
  }
}

/**
 * Pages of the log in position order (or reversed), after an exclusive position. A read
 * that names `streams` leaves out what their retention rules hide.
 *
 * @param access the adapter, once the store is known to be open
 * @param reader turns stored records into current ones
 * @param retention the streams' floors (what their rules hide)
 * @param pageSize the largest page asked of the adapter
 * @param options `after`, direction, limit, types, streams, partition, settle
 * @throws {TypeError} for a bad option
 * @throws {RangeError} for a partition out of range
 */
export async function* logPages(
  access: LogAccess,
  reader: RecordReader,
  retention: Retention,
  pageSize: number,
  options: ReadAllOptions,
): AsyncIterable<EventRecord[]> {
  const dir = direction(options.direction);
  let remaining = checkLimit(options.limit);
  let after = options.after;
  if (after !== undefined && typeof after !== "string") {
    throw new TypeError(`after must be a position string, got ${JSON.stringify(after)}`);
  }
  checkNames(options.types, "types");
  checkNames(options.streams, "streams");
  const partition = options.partition;
  if (partition !== undefined) checkPartition(partition);
  if (options.streams !== undefined && options.streams.length === 0) return;
  // Only the first page settles: the read then holds everything committed when it began.
  let settle = options.settle !== false;
  const types = reader.storedTypes(options.types);
  // The streams' floors once, as the read begins (one status lookup per read).
  const floors = options.streams === undefined ? NONE : await retention.floors(options.streams);
  while (remaining > 0) {
    const limit = Math.min(remaining, pageSize);
    const adapter = access();
    // An adapter that cannot read one partition is read whole, and filtered here.
    const filter = partition !== undefined && adapter.partitionReads !== true ? partition : undefined;
    const page = await adapter.readLog({
      after,
      // Sent too for adapters written against 0.1, which read `cursor`.
      cursor: after,
      direction: dir,
      limit,
      types,
      streams: options.streams,
      ...(partition === undefined || filter !== undefined ? {} : { partition }),
      settle,
    });
    settle = false;
    const records = await reader.read(shown(filter === undefined ? page : only(page, filter), floors));
    if (records.length > 0) yield records;
    remaining -= records.length;
    if (page.length < limit) return;
    after = page[page.length - 1].position;
  }
}

/** The records of `page` in `partition`. */
function only(page: EventRecord[], partition: Partition): EventRecord[] {
  return page.filter((record) => inPartition(record.stream, partition));
}
