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

/** The type of the record `forget` appends. */
export const SUBJECT_FORGOTTEN = "$subject:forgotten";

/** The data of a `"$subject:forgotten"` record. */
export interface SubjectForgottenData {
  /** The subject whose key was destroyed. */
  readonly subject: string;
  /** Whether the store that made the record held a key of the subject then. */
  readonly destroyed: boolean;
}

/**
 * The record `store.forget` appends to {@linkcode SYSTEM_STREAM}, in log order, so
 * projectors can erase what their read models hold of the subject and sync can forget it
 * at every store the subject's events went to.
 */
export type SubjectForgottenRecord = EventRecord<typeof SUBJECT_FORGOTTEN, SubjectForgottenData, null>;

/** The types of the records a workflow run writes (see `workflows/`). */
export const WORKFLOW_TYPES = {
  /** An instance's state, status, timers and compensations after one input: its stream holds its history. */
  state: "$workflow:state",
  /** A new instance, in the workflow's index stream. */
  started: "$workflow:started",
  /** A timer set, in the workflow's timer stream. */
  timerSet: "$workflow:timer-set",
  /** A timer cancelled. */
  timerCancelled: "$workflow:timer-cancelled",
  /** A timer fired: its event was appended in the same transaction. */
  timerFired: "$workflow:timer-fired",
} as const;

/** A workflow record type. */
export type WorkflowRecordType = (typeof WORKFLOW_TYPES)[keyof typeof WORKFLOW_TYPES];

/** A record a workflow run wrote (its data is described in `workflows/_records.ts`). */
export type WorkflowRecord = EventRecord<WorkflowRecordType, unknown, null>;

const WORKFLOW_TYPE_SET: ReadonlySet<string> = new Set(Object.values(WORKFLOW_TYPES));

/** Every system record. */
export type SystemRecord = StreamDeletedRecord | SubjectForgottenRecord | WorkflowRecord;

/** The system record types. */
export type SystemEventType = SystemRecord["type"];

/**
 * Whether a type is one the store writes itself.
 *
 * @param type an event type
 */
export function isSystemType(type: string): type is SystemEventType {
  return type === STREAM_DELETED || type === SUBJECT_FORGOTTEN || WORKFLOW_TYPE_SET.has(type);
}
