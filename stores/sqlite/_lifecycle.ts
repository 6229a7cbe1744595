/**
 * The SQL behind the stream lifecycle on SQLite: the floor and tombstone a transaction's
 * `revisions()` reads, removing and truncating a stream, and its status. Only streams
 * that were deleted, truncated or given metadata have a row in `eventfold_streams`; appends
 * never write there, so the common path pays one primary-key lookup in a small table.
 *
 * @module
 */

import type { StreamMetadata, StreamStatus } from "../../contract/mod.ts";
import type { _Connection } from "./database.ts";
import { EVENTS } from "./_sql.ts";

/** The table of deleted, truncated and retained streams. */
export const STREAMS = "eventfold_streams";

/** A stream's highest stored revision, its recorded floor and whether it is tombstoned: one query. */
const FLOOR = `SELECT (SELECT max(revision) FROM ${EVENTS} WHERE stream = k.v), s.revision, s.tombstoned ` +
  `FROM (SELECT ? AS v) AS k LEFT JOIN ${STREAMS} AS s ON s.stream = k.v`;

const STATUS = `SELECT k.value, (SELECT max(revision) FROM ${EVENTS} WHERE stream = k.value), ` +
  `s.revision, s.deleted_at, s.tombstoned, s.truncated_before, s.max_age, s.max_count ` +
  `FROM json_each(?) AS k LEFT JOIN ${STREAMS} AS s ON s.stream = k.value`;

const HEAD = `SELECT max(position) FROM ${EVENTS}`;

const POSITION_FLOOR = "position_floor";

/** What a transaction's `revisions()` learns of one stream. */
export interface Floor {
  /** The highest revision the stream ever had (0: never written). */
  readonly revision: number;
  /** Whether it was deleted with a tombstone. */
  readonly tombstoned: boolean;
}

/**
 * The highest revision of `stream`, stored or recorded as its floor, and its tombstone.
 *
 * @param connection the connection
 * @param stream the stream
 * @returns its floor
 */
export function streamFloor(connection: _Connection, stream: string): Floor {
  const row = connection.statement(FLOOR, true).row([stream])!;
  const stored = row[0] === null ? 0 : Number(row[0]);
  const recorded = row[1] === null ? 0 : Number(row[1]);
  return { revision: Math.max(stored, recorded), tombstoned: row[2] !== null && Number(row[2]) !== 0 };
}

/**
 * The last position of the log, or 0 when it is empty.
 *
 * @param connection the connection
 */
export function headPosition(connection: _Connection): number {
  return Number(connection.statement(HEAD, true).row([])![0] ?? 0);
}

/**
 * Removes every event, snapshot and relation of `stream` and records its floor, its
 * deletion (at `revision`) and its tombstone. The floor is the highest of `revision`, the
 * stored revisions and the floor recorded before.
 *
 * @param writer the write connection, in a transaction
 * @param stream the stream
 * @param revision its current revision
 * @param tombstone whether it takes no more appends
 */
export function deleteStream(
  writer: _Connection,
  stream: string,
  revision: number,
  tombstone: boolean,
): void {
  // The floor never drops below what was stored, whatever revision the caller read.
  const floor = Math.max(revision, streamFloor(writer, stream).revision);
  writer.statement(`DELETE FROM ${EVENTS} WHERE stream = ?`).run([stream]);
  writer.statement("DELETE FROM eventfold_snapshots WHERE stream = ?").run([stream]);
  writer.statement("DELETE FROM eventfold_relations WHERE stream = ?").run([stream]);
  writer.statement(
    `INSERT INTO ${STREAMS} (stream, revision, deleted_at, tombstoned) VALUES (?, ?, ?, ?) ` +
      "ON CONFLICT (stream) DO UPDATE SET revision = max(revision, excluded.revision), " +
      "deleted_at = excluded.deleted_at, tombstoned = tombstoned OR excluded.tombstoned",
  ).run([stream, floor, revision, tombstone ? 1 : 0]);
}

/**
 * Removes the events of `stream` below revision `before` and records `before` (and the
 * stream's highest revision, as its floor). A stream with neither events nor a row is
 * left alone.
 *
 * @param writer the write connection, in a transaction
 * @param stream the stream
 * @param before the first revision to keep
 * @returns how many events were removed
 */
export function cutStream(writer: _Connection, stream: string, before: number): number {
  const { revision } = streamFloor(writer, stream);
  if (revision === 0) return 0;
  const removed = writer.statement(`DELETE FROM ${EVENTS} WHERE stream = ? AND revision < ?`).run([
    stream,
    before,
  ]);
  writer.statement(
    `INSERT INTO ${STREAMS} (stream, revision, truncated_before) VALUES (?, ?, ?) ` +
      "ON CONFLICT (stream) DO UPDATE SET revision = max(revision, excluded.revision), " +
      "truncated_before = max(truncated_before, excluded.truncated_before)",
  ).run([stream, revision, before]);
  return removed;
}

/**
 * What is known of each stream; the ones with neither events nor a row are left out.
 *
 * @param reader the connection
 * @param streams the streams
 * @returns the status of each known stream
 */
export function readStreamStatus(reader: _Connection, streams: readonly string[]): Map<string, StreamStatus> {
  const status = new Map<string, StreamStatus>();
  if (streams.length === 0) return status;
  for (const row of reader.statement(STATUS, true).rows([JSON.stringify(streams)])) {
    if (row[1] === null && row[2] === null) continue;
    const known: StreamStatus = {
      revision: Math.max(Number(row[1] ?? 0), Number(row[2] ?? 0)),
      deletedAt: Number(row[3] ?? 0),
      tombstoned: row[4] !== null && Number(row[4]) !== 0,
      truncatedBefore: Number(row[5] ?? 1),
    };
    const metadata = metadataOf(row[6], row[7]);
    status.set(row[0] as string, metadata === undefined ? known : { ...known, metadata });
  }
  return status;
}

function metadataOf(maxAge: unknown, maxCount: unknown): StreamMetadata | undefined {
  if (maxAge === null && maxCount === null) return undefined;
  return {
    ...(maxAge === null ? {} : { maxAge: Number(maxAge) }),
    ...(maxCount === null ? {} : { maxCount: Number(maxCount) }),
  };
}

/**
 * Stores the metadata of `stream`, replacing what it had (`NULL` for a rule not given).
 *
 * @param writer the write connection, in a transaction
 * @param stream the stream
 * @param metadata its rules
 */
export function writeStreamMetadata(writer: _Connection, stream: string, metadata: StreamMetadata): void {
  writer.statement(
    `INSERT INTO ${STREAMS} (stream, revision, max_age, max_count) VALUES (?, 0, ?, ?) ` +
      "ON CONFLICT (stream) DO UPDATE SET max_age = excluded.max_age, max_count = excluded.max_count",
  ).run([stream, metadata.maxAge ?? null, metadata.maxCount ?? null]);
  // A row that says nothing any more goes: the stream is then as if never given metadata.
  writer.statement(
    `DELETE FROM ${STREAMS} WHERE stream = ? AND max_age IS NULL AND max_count IS NULL ` +
      "AND revision = 0 AND deleted_at = 0 AND tombstoned = 0 AND truncated_before = 1",
  ).run([stream]);
}

/**
 * The streams with metadata after `after`, in name order (SQLite's binary order).
 *
 * @param reader the connection
 * @param after the last name of the previous page
 * @param limit at most this many
 */
export function streamsWithMetadata(reader: _Connection, after: string | undefined, limit: number): string[] {
  return reader.statement(
    `SELECT stream FROM ${STREAMS} WHERE (max_age IS NOT NULL OR max_count IS NOT NULL) AND stream > ? ` +
      "ORDER BY stream LIMIT ?",
    true,
  ).rows([after ?? "", limit]).map((row) => row[0] as string);
}

/**
 * Records that positions up to `head` were handed out, for a later transaction: a
 * truncation that took the log's last events appends nothing itself, so the next insert,
 * in whatever process, reads this and continues after `head`.
 *
 * @param writer the write connection, inside the truncating transaction
 * @param head the highest position the log had before the truncation
 */
export function keepPositionFloor(writer: _Connection, head: number): void {
  writer.statement(
    "INSERT INTO eventfold_meta (key, value) VALUES (?, ?) " +
      "ON CONFLICT (key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
  ).run([POSITION_FLOOR, String(head)]);
}

/**
 * The position floor a truncation left, removed once read (0 when none): the caller's
 * insert continues after it when the log has not passed it.
 *
 * @param writer the write connection, inside the inserting transaction
 */
export function takePositionFloor(writer: _Connection): number {
  const row = writer.statement("SELECT value FROM eventfold_meta WHERE key = ?", true).row([POSITION_FLOOR]);
  if (row === undefined) return 0;
  writer.statement("DELETE FROM eventfold_meta WHERE key = ?").run([POSITION_FLOOR]);
  return Number(row[0]);
}
