/**
 * Whether a record from elsewhere is already here, and whether importing it would mark it
 * outdated: @valkyr/event-store's `getEventStatus`, over the store's own reads.
 *
 * @module
 */

import type { EventRecord, PendingEvent } from "../events/record.ts";
import type { EventStatus } from "./event_store_options.ts";

/** The reads the status needs. */
export interface StatusReader {
  /** Stored records with these ids. */
  byIds(ids: readonly string[]): Promise<readonly EventRecord[]>;
  /** Records of one stream and type, in revision order. */
  stream(stream: string, type: string): AsyncIterable<EventRecord>;
}

/**
 * Tells whether `record` exists (by id) and whether the store holds a newer event (by
 * `created`) of its type in its stream, as `import()` decides `outdated`.
 *
 * @param reader the store's reads
 * @param record a record or pending event with `id`, `stream`, `type` and `created`
 * @returns `{ exists, outdated }`; an existing record counts as outdated, as in valkyr
 * @throws {TypeError} when `record` lacks one of those fields
 */
export async function eventStatus(
  reader: StatusReader,
  record: Pick<PendingEvent, "id" | "stream" | "type" | "created">,
): Promise<EventStatus> {
  for (const field of ["id", "stream", "type", "created"] as const) {
    if (typeof record?.[field] !== "string" || record[field].length === 0) {
      throw new TypeError(`getEventStatus needs a record with a non-empty string "${field}"`);
    }
  }
  if ((await reader.byIds([record.id])).length > 0) return { exists: true, outdated: true };
  for await (const stored of reader.stream(record.stream, record.type)) {
    if (stored.created > record.created) return { exists: false, outdated: true };
  }
  return { exists: false, outdated: false };
}
