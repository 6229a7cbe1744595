/**
 * What a workflow run keeps in the log, as system records (`WORKFLOW_TYPES`): each
 * instance's stream of `"$workflow:state"` records (one per input handled: state, status,
 * timers, compensations, outputs), the workflow's index of instances, and its timer
 * stream (set, cancelled, fired), which every process of the workflow folds to know the
 * timers due. Ids of what an input produces derive from (workflow, key, input id, index),
 * so an input handled again after a crash writes nothing twice.
 *
 * @module
 */

import type { WORKFLOW_TYPES } from "../events/system.ts";
import type { PendingEvent } from "../events/record.ts";
import type { Cause } from "../events/correlation.ts";
import type { ExpectedRevision } from "../events/expected_revision.ts";
import type { WorkflowStatus } from "./workflow.ts";

/** How a run appends: expected revisions per stream, and the record that caused it. */
export interface WorkflowWriteOptions {
  /** Expected revision per stream. */
  readonly expectedRevision: Readonly<Record<string, ExpectedRevision>>;
  /** The cause: the events get `meta.$correlation` and `meta.$causation`. */
  readonly causedBy: Cause;
}

/** A pending timer, as kept in an instance's state and in the timer stream. */
export interface TimerRow {
  /** The instance. */
  readonly key: string;
  /** The timer's id within it. */
  readonly id: string;
  /** When it is due (ISO-8601). */
  readonly at: string;
  /** The event appended when it fires, checked when it was set; its id is fixed. */
  readonly event: PendingEvent;
  /** The input that set it: the fired event is caused by it. */
  readonly cause: { readonly id: string; readonly meta: unknown };
}

/** The data of a `"$workflow:state"` record. */
export interface StateData {
  /** The workflow. */
  readonly workflow: string;
  /** The instance. */
  readonly key: string;
  /** Its status after the input. */
  readonly status: WorkflowStatus;
  /** Its state after the input. */
  readonly state: unknown;
  /** The input: id, type, stream and position. */
  readonly input: {
    readonly id: string;
    readonly type: string;
    readonly stream: string;
    readonly position: string;
  };
  /** Ids of the events the input made it append. */
  readonly outputs: readonly string[];
  /** Its pending timers, by id. */
  readonly timers: Readonly<Record<string, TimerRow>>;
  /** Its registered compensations, oldest first. */
  readonly compensations: readonly PendingEvent[];
  /** Why it failed, when it did. */
  readonly reason?: string;
  /** Inputs handled so far. */
  readonly inputs: number;
}

/** The stream of one instance. */
export function instanceStream(workflow: string, key: string): string {
  return `$workflow:${workflow}:${key}`;
}

/** The workflow's index of instances (one `"$workflow:started"` each). */
export function indexStream(workflow: string): string {
  return `$workflow:${workflow}`;
}

/** The workflow's timer stream. */
export function timerStream(workflow: string): string {
  return `$workflows:${workflow}:timers`;
}

/** The subscription a workflow runs on. */
export function subscriptionName(workflow: string): string {
  return `$workflow:${workflow}`;
}

const encoder = new TextEncoder();

/**
 * An id fixed by its parts: a UUID (version 8) from their SHA-256.
 *
 * @param parts workflow, key, input id, and what the id is for
 */
export async function derivedId(...parts: readonly string[]): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(parts.join("\u0000"))));
  digest[6] = (digest[6] & 0x0f) | 0x80;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  const hex = [...digest.subarray(0, 16)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A system record of a workflow, ready to append.
 *
 * @param type its type
 * @param stream its stream
 * @param id its (derived) id
 * @param data its data
 * @param created the run's time
 */
export function workflowRecord(
  type: (typeof WORKFLOW_TYPES)[keyof typeof WORKFLOW_TYPES],
  stream: string,
  id: string,
  data: unknown,
  created: string,
): PendingEvent {
  return { id, stream, type, data, meta: null, created, version: 1 };
}
