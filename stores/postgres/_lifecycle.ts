/**
 * The SQL behind the stream lifecycle on PostgreSQL: removing a stream (its events,
 * snapshots and relations), truncating its early revisions, and what is known of a stream
 * beyond its events. That knowledge lives on the stream's row in `streams`, which stays
 * when the events go: its `floor` (the highest revision when events were last removed),
 * `deleted_at`, `tombstoned`, `truncated_before` and the retention rules `max_age` and
 * `max_count`. Appends never write these columns;
 * a stream's revision is the greater of its `floor` and its highest stored revision.
 *
 * Each change is one statement: the statements in its `WITH` see the table as it was
 * before it, so the highest revision is read from the events it removes.
 *
 * @module
 */

import type { StreamMetadata, StreamStatus } from "../../contract/mod.ts";
import type { Query } from "./_rows.ts";

function checkRevision(name: string, value: number, least: number): void {
  if (!Number.isSafeInteger(value) || value < least) {
    throw new RangeError(`Invalid ${name} ${value}: expected a whole number, at least ${least}`);
  }
}

/**
 * Removes every event, snapshot (of any name) and relation of `stream`, and records on its
 * row the floor (the greatest of the one recorded, `revision` and its highest stored
 * revision), `deleted_at = revision` and the tombstone (once set, it stays).
 *
 * @param q the transaction
 * @param schema the schema name
 * @param stream the stream
 * @param revision its current revision
 * @param tombstone whether it takes no appends from now on
 * @throws {RangeError} for a revision that is not a whole number of 0 or more
 */
export async function removeStream(
  q: Query,
  schema: string,
  stream: string,
  revision: number,
  tombstone: boolean,
): Promise<void> {
  checkRevision("revision", revision, 0);
  const s = q(schema);
  await q`
      WITH gone_events AS (
        DELETE FROM ${s}.events WHERE stream = ${stream}
      ), gone_snapshots AS (
        DELETE FROM ${s}.snapshots WHERE stream = ${stream}
      ), gone_relations AS (
        DELETE FROM ${s}.relations WHERE stream = ${stream}
      )
      INSERT INTO ${s}.streams AS t (stream, floor, deleted_at, tombstoned)
      VALUES (
        ${stream},
        greatest(${revision}::integer,
                 (SELECT coalesce(max(e.revision), 0) FROM ${s}.events AS e WHERE e.stream = ${stream})),
        ${revision}::integer,
        ${tombstone}::boolean
      )
      ON CONFLICT (stream) DO UPDATE SET
        floor = greatest(t.floor, excluded.floor),
        deleted_at = excluded.deleted_at,
        tombstoned = t.tombstoned OR excluded.tombstoned`;
}

/**
 * Removes the events of `stream` below revision `before`, and records on its row the floor
 * (the greater of the one recorded and its highest stored revision) and `truncated_before`
 * (the greater of the one recorded and `before`).
 *
 * @param q the transaction
 * @param schema the schema name
 * @param stream the stream
 * @param before the first revision to keep
 * @returns how many events were removed
 * @throws {RangeError} for a `before` that is not a whole number of 1 or more
 */
export async function truncateStream(
  q: Query,
  schema: string,
  stream: string,
  before: number,
): Promise<number> {
  checkRevision("truncation revision", before, 1);
  const s = q(schema);
  const [row] = await q<{ removed: number }[]>`
      WITH gone AS (
        DELETE FROM ${s}.events WHERE stream = ${stream} AND revision < ${before}::integer RETURNING 1
      ), kept AS (
        INSERT INTO ${s}.streams AS t (stream, floor, truncated_before)
        SELECT ${stream}, coalesce(h.revision, 0), ${before}::integer
        FROM (SELECT max(e.revision) AS revision FROM ${s}.events AS e WHERE e.stream = ${stream}) AS h
        -- A stream never written (no events, no row) stays unknown.
        WHERE h.revision IS NOT NULL OR EXISTS (SELECT 1 FROM ${s}.streams AS o WHERE o.stream = ${stream})
        ON CONFLICT (stream) DO UPDATE SET
          floor = greatest(t.floor, excluded.floor),
          truncated_before = greatest(t.truncated_before, excluded.truncated_before)
      )
      SELECT count(*)::integer AS removed FROM gone`;
  return row.removed;
}

/**
 * What is known of each of `streams`; those never written and never removed are left out.
 *
 * @param q the pool
 * @param schema the schema name
 * @param streams the streams
 * @returns the status of each stream known
 */
export async function readStreamStatus(
  q: Query,
  schema: string,
  streams: readonly string[],
): Promise<Map<string, StreamStatus>> {
  const out = new Map<string, StreamStatus>();
  if (streams.length === 0) return out;
  const s = q(schema);
  const rows = await q<StatusRow[]>`
      SELECT x.stream,
             greatest(coalesce(t.floor, 0),
                      (SELECT coalesce(max(e.revision), 0) FROM ${s}.events AS e WHERE e.stream = x.stream)) AS revision,
             coalesce(t.deleted_at, 0) AS deleted_at,
             coalesce(t.tombstoned, false) AS tombstoned,
             coalesce(t.truncated_before, 1) AS truncated_before,
             t.max_age::float8 AS max_age,
             t.max_count
      FROM json_array_elements_text(${JSON.stringify([...new Set(streams)])}::text::json) AS x(stream)
      LEFT JOIN ${s}.streams AS t ON t.stream = x.stream`;
  for (const row of rows) {
    const metadata = metadataOf(row);
    const known = row.revision > 0 || row.deleted_at > 0 || row.tombstoned || row.truncated_before > 1 ||
      metadata !== undefined;
    if (!known) continue;
    const status: StreamStatus = {
      revision: row.revision,
      deletedAt: row.deleted_at,
      tombstoned: row.tombstoned,
      truncatedBefore: row.truncated_before,
    };
    out.set(row.stream, metadata === undefined ? status : { ...status, metadata });
  }
  return out;
}

interface StatusRow {
  stream: string;
  revision: number;
  deleted_at: number;
  tombstoned: boolean;
  truncated_before: number;
  max_age: number | null;
  max_count: number | null;
}

function metadataOf(row: StatusRow): StreamMetadata | undefined {
  if (row.max_age === null && row.max_count === null) return undefined;
  return {
    ...(row.max_age === null ? {} : { maxAge: row.max_age }),
    ...(row.max_count === null ? {} : { maxCount: row.max_count }),
  };
}

/**
 * Stores the metadata of `stream` on its row, replacing what it had (`NULL` for a rule
 * not given); a stream never written gets a row.
 *
 * @param q the transaction
 * @param schema the schema name
 * @param stream the stream
 * @param metadata its rules
 */
export async function writeStreamMetadata(
  q: Query,
  schema: string,
  stream: string,
  metadata: StreamMetadata,
): Promise<void> {
  const s = q(schema);
  const maxAge = metadata.maxAge ?? null;
  const maxCount = metadata.maxCount ?? null;
  await q`
      INSERT INTO ${s}.streams AS t (stream, max_age, max_count)
      VALUES (${stream}, ${maxAge}::bigint, ${maxCount}::integer)
      ON CONFLICT (stream) DO UPDATE SET max_age = excluded.max_age, max_count = excluded.max_count`;
}

/**
 * The streams with metadata after `after`, in name order (the column's "C" collation).
 *
 * @param q the pool
 * @param schema the schema name
 * @param after the last name of the previous page
 * @param limit at most this many
 */
export async function streamsWithMetadata(
  q: Query,
  schema: string,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  const s = q(schema);
  const rows = await q<{ stream: string }[]>`
      SELECT stream FROM ${s}.streams
      WHERE (max_age IS NOT NULL OR max_count IS NOT NULL)
        ${after === undefined ? q`` : q`AND stream > ${after}`}
      ORDER BY stream
      LIMIT ${limit}`;
  return rows.map((row) => row.stream);
}
