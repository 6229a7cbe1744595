/**
 * What the `--from-valkyr` import reads from a @valkyr/event-store database, whichever
 * engine holds it, and how one of its rows becomes an Eventfold event. valkyr keeps
 * payloads as JSON: in PostgreSQL `jsonb` columns that its driver reads back already
 * parsed, in SQLite text columns. When what comes back is still a string, valkyr parses it
 * once more (its PostgreSQL provider writes `JSON.stringify`ed text into `jsonb`), and so
 * does this reader, so every payload decodes as valkyr itself would decode it.
 *
 * @module
 */

import type { PendingEvent } from "../mod.ts";

/** The columns every valkyr events table has. */
export const EVENT_COLUMNS: readonly string[] = [
  "id",
  "stream",
  "type",
  "data",
  "meta",
  "recorded",
  "created",
];

/** One row of valkyr's events table, as the engine returned it. */
export interface ValkyrRow {
  readonly id: unknown;
  readonly stream: unknown;
  readonly type: unknown;
  /** The payload column as text (JSON), or null. */
  readonly data: string | null;
  readonly meta: string | null;
  readonly created: unknown;
}

/** A relation (valkyr: a key that maps to many streams). */
export interface ValkyrRelation {
  readonly key: string;
  readonly stream: string;
}

/** A valkyr database opened for reading. */
export interface ValkyrSource {
  /** The database, for messages (no password). */
  readonly label: string;
  /** The relations table it has, `undefined` when it has none. */
  readonly relationsTable: string | undefined;
  /** The payload columns are JSON typed, so the engine hands them back parsed once. */
  readonly jsonPayloads: boolean;
  /** Rows in the events table. */
  count(): Promise<number>;
  /** Pages of rows in valkyr's read order: by `created`, then `id`. */
  rows(pageSize: number): AsyncIterable<ValkyrRow[]>;
  /** Pages of relations. */
  relations(pageSize: number): AsyncIterable<ValkyrRelation[]>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** A row turned into an event, or the reason it could not be. */
export type DecodedRow = { readonly event: PendingEvent } | { readonly bad: string };

function describe(value: unknown): string {
  return value === null || value === undefined
    ? "nothing"
    : typeof value === "string"
    ? "an empty string"
    : typeof value;
}

function payload(text: string | null, parsedByDriver: boolean): unknown {
  if (text === null) return null;
  let value: unknown = parsedByDriver ? JSON.parse(text) : text;
  if (typeof value === "string") value = JSON.parse(value);
  return value;
}

const VALKYR_CLOCK = /^([0-9a-z]{1,11})-(\d{1,10})$/;

/**
 * valkyr's `created`, a hybrid logical clock text (base-36 milliseconds, a dash, a
 * counter), as Eventfold's ISO-8601 time of the same millisecond. The counter only orders
 * events of one millisecond, and the import keeps that order in revisions and positions.
 * A value that is ISO-8601 already is kept.
 *
 * @param created the stored text
 * @returns the ISO-8601 time, or `undefined` when it is neither form
 */
export function valkyrCreated(created: string): string | undefined {
  const clock = VALKYR_CLOCK.exec(created);
  if (clock === null) {
    const ms = created.length === 24 ? Date.parse(created) : NaN;
    return Number.isNaN(ms) || new Date(ms).toISOString() !== created ? undefined : created;
  }
  const ms = parseInt(clock[1], 36);
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Turns one valkyr row into a pending event with its id, stream, type and payloads kept,
 * and `created` as the same millisecond in ISO-8601 (see {@linkcode valkyrCreated}).
 *
 * @param row the row
 * @param jsonColumns the payload columns are JSON typed (the engine parses them once)
 * @returns the event, or why the row cannot be imported (naming its id)
 */
export function decodeRow(row: ValkyrRow, jsonColumns: boolean): DecodedRow {
  const id = typeof row.id === "string" && row.id !== "" ? row.id : undefined;
  const label = id === undefined ? `a row with no usable id (${describe(row.id)})` : `row id=${id}`;
  if (id === undefined) return { bad: label };
  for (const field of ["stream", "type", "created"] as const) {
    const value = row[field];
    if (typeof value !== "string" || value === "") {
      return { bad: `${label}: "${field}" is ${describe(value)}, expected a non-empty string` };
    }
  }
  const decoded: Record<string, unknown> = {};
  for (const field of ["data", "meta"] as const) {
    try {
      decoded[field] = payload(row[field], jsonColumns);
    } catch (error) {
      return { bad: `${label}: "${field}" is not JSON (${error instanceof Error ? error.message : error})` };
    }
  }
  const created = valkyrCreated(row.created as string);
  if (created === undefined) {
    return {
      bad: `${label}: "created" ${JSON.stringify(row.created)} is neither valkyr's clock text (like ` +
        `"m7pfr411-00000") nor an ISO-8601 time`,
    };
  }
  return {
    event: {
      id,
      stream: row.stream as string,
      type: row.type as string,
      data: decoded.data ?? null,
      meta: decoded.meta ?? null,
      created,
    },
  };
}
