/**
 * The SQL behind subscription storage on PostgreSQL: checkpoints (read, compare-and-set,
 * delete) and parked events. Each statement function takes the connection to run on, so
 * the adapter (its pool) and its transactions share them. Leases are in `_leases.ts`.
 *
 * @module
 */

import type { Checkpoint, CheckpointUpdate, ParkedEvent } from "../../contract/mod.ts";
import { type Fragment, isoTime, type Payloads, type Query } from "./_rows.ts";

interface CheckpointRow {
  name: string;
  position: string | null;
  state: Uint8Array | string | null;
  version: number | null;
  updated: string;
}

function checkpointOf(payloads: Payloads, row: CheckpointRow): Checkpoint {
  const checkpoint: { -readonly [K in keyof Checkpoint]: Checkpoint[K] } = {
    name: row.name,
    position: row.position,
    updated: row.updated,
  };
  if (row.state !== null) {
    checkpoint.state = payloads.decode(
      row.state,
      row.position ?? "(none)",
      `state of checkpoint "${row.name}"`,
    );
  }
  if (row.version !== null) checkpoint.version = row.version;
  return checkpoint;
}

function checkpointColumns(q: Query, payloads: Payloads): Fragment {
  return q`name, position, ${payloads.column === "jsonb" ? q`state::text AS state` : q`state`}, version, ${
    isoTime(q, "updated")
  } AS updated`;
}

/**
 * The checkpoint called `name`.
 *
 * @returns the checkpoint, or `undefined`
 * @throws {DecodeError} when its saved state does not decode
 */
export async function readCheckpoint(
  q: Query,
  schema: string,
  payloads: Payloads,
  name: string,
): Promise<Checkpoint | undefined> {
  const [row] = await q<CheckpointRow[]>`
      SELECT ${checkpointColumns(q, payloads)} FROM ${q(schema)}.checkpoints WHERE name = ${name}`;
  return row === undefined ? undefined : checkpointOf(payloads, row);
}

/**
 * All checkpoints, by name.
 *
 * @throws {DecodeError} when a saved state does not decode
 */
export async function readCheckpoints(q: Query, schema: string, payloads: Payloads): Promise<Checkpoint[]> {
  const rows = await q<CheckpointRow[]>`
      SELECT ${checkpointColumns(q, payloads)} FROM ${q(schema)}.checkpoints ORDER BY name`;
  return rows.map((row) => checkpointOf(payloads, row));
}

/** Removes a checkpoint (nothing happens when there is none). */
export async function removeCheckpoint(q: Query, schema: string, name: string): Promise<void> {
  await q`DELETE FROM ${q(schema)}.checkpoints WHERE name = ${name}`;
}

/**
 * Sets checkpoint `name` to `next` if it is at `expected` now, in one statement: the row
 * lock taken by the UPDATE (or by ON CONFLICT) makes the comparison and the write atomic
 * against concurrent savers.
 *
 * @returns whether it was set
 */
export async function setCheckpoint(
  q: Query,
  schema: string,
  payloads: Payloads,
  name: string,
  expected: string | null,
  next: CheckpointUpdate,
): Promise<boolean> {
  const s = q(schema);
  const state = payloads.param(q, next.state);
  const version = next.version ?? null;
  const rows = expected === null
    ? await q`
      INSERT INTO ${s}.checkpoints AS t (name, position, state, version, updated)
      VALUES (${name}, ${next.position}::text, ${state}, ${version}::integer, now())
      ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state,
        version = excluded.version, updated = excluded.updated
      WHERE t.position IS NULL
      RETURNING 1 AS done`
    : await q`
      UPDATE ${s}.checkpoints SET position = ${next.position}::text, state = ${state},
        version = ${version}::integer, updated = now()
      WHERE name = ${name} AND position = ${expected}::text
      RETURNING 1 AS done`;
  return rows.length === 1;
}

/** Parks an event, replacing an earlier parking of it. */
export async function parkEvent(q: Query, schema: string, event: ParkedEvent): Promise<void> {
  await q`
    INSERT INTO ${q(schema)}.parked AS p (name, id, position, stream, type, hydrated, error, attempts, parked)
    VALUES (${event.name}, ${event.id}, ${event.position}, ${event.stream}, ${event.type}, ${event.hydrated},
            ${event.error}, ${event.attempts}::integer, ${event.parked}::timestamptz)
    ON CONFLICT (name, id) DO UPDATE SET position = excluded.position, stream = excluded.stream,
      type = excluded.type, hydrated = excluded.hydrated, error = excluded.error,
      attempts = excluded.attempts, parked = excluded.parked`;
}

/** Removes a parked event; returns whether it was parked. */
export async function unparkEvent(q: Query, schema: string, name: string, id: string): Promise<boolean> {
  const rows = await q`DELETE FROM ${
    q(schema)
  }.parked WHERE name = ${name} AND id = ${id} RETURNING 1 AS done`;
  return rows.length === 1;
}

/** Parked events of `name` (of all subscriptions when absent), by name and position. */
export async function listParked(q: Query, schema: string, name: string | undefined): Promise<ParkedEvent[]> {
  const rows = await q<
    {
      name: string;
      id: string;
      position: string;
      stream: string;
      type: string;
      hydrated: boolean;
      error: string;
      attempts: number;
      parked: string;
    }[]
  >`
    SELECT name, id, position, stream, type, hydrated, error, attempts,
           to_char(parked AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS parked
    FROM ${q(schema)}.parked
    ${name === undefined ? q`` : q`WHERE name = ${name}`}
    ORDER BY name, position`;
  return rows.map((row) => ({ ...row }));
}
