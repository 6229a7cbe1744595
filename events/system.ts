/**
 * The records the store writes itself. Their types start with `$`; every store reads
 * them whatever its definitions (they are never "unknown"), and projectors can handle
 * them by name.
 *
 * @module
 */

import type { EventRecord } from "./record.ts";

/** The type of the record `deleteStream` appends. */
export const STREAM_DELETED = "$stream:deleted";

/** The stream system records are appended to. */
export const SYSTEM_STREAM = "$streams";

/** The data of a `"$stream:deleted"` record. */
export interface StreamDeletedData {
  /** The stream that was deleted. */
  readonly stream: string;
  /** Its revision when it was deleted: a later append continues at `revision + 1`. */
  readonly revision: number;
  /** True when it takes no more appends. */
  readonly tombstone: boolean;
}

/** The record `store.deleteStream` appends to {@linkcode SYSTEM_STREAM}, in log order. */
export type StreamDeletedRecord = EventRecord<typeof STREAM_DELETED, StreamDeletedData, null>;

/** Every system record. */
export type SystemRecord = StreamDeletedRecord;

/** The system record types. */
export type SystemEventType = SystemRecord["type"];

/**
 * Whether a type is one the store writes itself.
 *
 * @param type an event type
 */
export function isSystemType(type: string): type is SystemEventType {
  return type === STREAM_DELETED;
}
