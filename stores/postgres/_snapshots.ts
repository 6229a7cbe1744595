/**
 * The SQL behind snapshots on PostgreSQL: one row per (name, stream), replaced on save.
 *
 * @module
 */

import type { Snapshot } from "../../contract/mod.ts";
import type { Payloads, Query } from "./_rows.ts";

/**
 * The snapshot saved as (`name`, `stream`).
 *
 * @param q the pool
 * @param schema the schema name
 * @param payloads the schema's payload codec
 * @param name reducer or aggregate name
 * @param stream stream or relation key
 * @returns the snapshot, or `undefined`
 * @throws {DecodeError} when its state does not decode
 */
export async function readSnapshot(
  q: Query,
  schema: string,
  payloads: Payloads,
  name: string,
  stream: string,
): Promise<Snapshot | undefined> {
  const [row] = await q<
    { state: Uint8Array | string | null; revision: number | null; position: string | null; version: number }[]
  >`
      SELECT ${payloads.column === "jsonb" ? q`state::text AS state` : q`state`}, revision, position, version
      FROM ${q(schema)}.snapshots WHERE name = ${name} AND stream = ${stream}`;
  if (row === undefined) return undefined;
  const where = row.position ?? `revision ${row.revision}`;
  return {
    name,
    stream,
    state: payloads.decode(row.state, where, `state of snapshot "${name}" of "${stream}"`),
    revision: row.revision,
    position: row.position,
    version: row.version,
  };
}

/**
 * Saves a snapshot, replacing the one with the same name and stream.
 *
 * @param q the pool
 * @param schema the schema name
 * @param payloads the schema's payload codec
 * @param snapshot the snapshot
 */
export async function writeSnapshot(
  q: Query,
  schema: string,
  payloads: Payloads,
  snapshot: Snapshot,
): Promise<void> {
  await q`
      INSERT INTO ${q(schema)}.snapshots AS t (name, stream, state, revision, position, version, updated)
      VALUES (${snapshot.name}, ${snapshot.stream}, ${payloads.param(q, snapshot.state ?? null)},
              ${snapshot.revision ?? null}::integer, ${snapshot.position ?? null}::text,
              ${snapshot.version}::integer, now())
      ON CONFLICT (name, stream) DO UPDATE SET state = excluded.state, revision = excluded.revision,
        position = excluded.position, version = excluded.version, updated = excluded.updated`;
}

/**
 * Removes a snapshot (nothing happens when there is none).
 *
 * @param q the pool
 * @param schema the schema name
 * @param name reducer or aggregate name
 * @param stream stream or relation key
 */
export async function removeSnapshot(q: Query, schema: string, name: string, stream: string): Promise<void> {
  await q`DELETE FROM ${q(schema)}.snapshots WHERE name = ${name} AND stream = ${stream}`;
}
