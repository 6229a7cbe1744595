/**
 * The SQL behind the reads of the SQLite log: a page of a stream, a page of the log (a
 * few streams go through `streamsPage`), events by id, and the counts.
 *
 * @module
 */

import { type AdapterStats, formatPosition, type LogPageQuery, parsePosition } from "../../contract/mod.ts";
import type { StreamPageQuery } from "../../contract/mod.ts";
import { inPartition, type Partition } from "../../contract/partitions.ts";
import type { _Connection, SqliteValue } from "./database.ts";
import { EVENT_COLUMNS } from "./records.ts";

// Where the position and the stream are in a row of `EVENT_COLUMNS`.
const POSITION = 0;
const STREAM = 2;
import { streamsPage } from "./_log_page.ts";
import { STREAMS } from "./_lifecycle.ts";
import { EVENTS, FAR, FEW_STREAMS, STREAM_READS } from "./_sql.ts";

/**
 * The rows of one page of a stream, in revision order (or reversed).
 *
 * @param reader the connection
 * @param stream the stream
 * @param query where to start, direction, limit and types
 * @returns the rows, in `EVENT_COLUMNS` order
 */
export function streamRows(reader: _Connection, stream: string, query: StreamPageQuery): unknown[][] {
  const backward = query.direction === "backward";
  const from = query.fromRevision ?? (backward ? FAR : 1);
  const types = query.types;
  const sql = STREAM_READS[backward ? 1 : 0][types === undefined ? 0 : 1];
  const params: SqliteValue[] = types === undefined
    ? [stream, from, query.limit]
    : [stream, from, JSON.stringify(types), query.limit];
  return reader.statement(sql, true).rows(params);
}

/**
 * Where a log page starts, exclusive: the rowid of `after`, or the end it reads from.
 *
 * @param query the page's `after` and direction
 * @returns the rowid
 * @throws {RangeError} when `after` is not a position of this store
 */
export function logCursor(query: LogPageQuery): number {
  const backward = query.direction === "backward";
  return query.after === undefined ? (backward ? FAR : 0) : parsePosition(query.after);
}

/**
 * The rows of one page of the log, in position order (or reversed), after `cursor`.
 *
 * @param reader the connection
 * @param query direction, limit, types and streams
 * @param cursor where the page starts, exclusive (see {@linkcode logCursor})
 * @returns the rows, in `EVENT_COLUMNS` order
 */
export function logRows(reader: _Connection, query: LogPageQuery, cursor: number): unknown[][] {
  if (query.partition !== undefined) return partitionRows(reader, query, query.partition, cursor);
  return pageRows(reader, query, cursor);
}

/**
 * The rows of one page of the log in one partition: pages of the whole log, with the
 * rows of other partitions left out before anything is decoded, until the page is full
 * or the log ends (so a short page still means the end of the log).
 */
function partitionRows(reader: _Connection, query: LogPageQuery, partition: Partition, cursor: number) {
  const backward = query.direction === "backward";
  const out: unknown[][] = [];
  const chunk = { ...query, limit: Math.max(query.limit, 1000) };
  for (let from = cursor;;) {
    const rows = pageRows(reader, chunk, from);
    for (const row of rows) {
      if (inPartition(row[STREAM] as string, partition)) out.push(row);
      if (out.length === query.limit) return out;
    }
    if (rows.length < chunk.limit) return out;
    from = Number(rows[rows.length - 1][POSITION]);
    if (backward && from <= 1) return out;
  }
}

/** One page of the log's rows, without a partition. */
function pageRows(reader: _Connection, query: LogPageQuery, cursor: number): unknown[][] {
  const streams = query.streams;
  if (streams !== undefined && streams.length > 0 && streams.length <= FEW_STREAMS) {
    return streamsPage(reader, streams, query, cursor);
  }
  const backward = query.direction === "backward";
  const params: SqliteValue[] = [cursor];
  let sql = `SELECT ${EVENT_COLUMNS} FROM ${EVENTS} WHERE position ${backward ? "<" : ">"} ?`;
  if (query.types !== undefined) {
    sql += " AND type IN (SELECT value FROM json_each(?))";
    params.push(JSON.stringify(query.types));
  }
  if (query.streams !== undefined) {
    sql += " AND stream IN (SELECT value FROM json_each(?))";
    params.push(JSON.stringify(query.streams));
  }
  sql += ` ORDER BY position ${backward ? "DESC" : "ASC"} LIMIT ?`;
  params.push(query.limit);
  return reader.statement(sql, true).rows(params);
}

/**
 * The rows of the events with these ids, in the order of `ids`; missing ids are left out.
 *
 * @param reader the connection
 * @param ids the ids (at least one)
 * @returns the rows, in `EVENT_COLUMNS` order
 */
export function rowsByIds(reader: _Connection, ids: readonly string[]): unknown[][] {
  const sql = `SELECT ${EVENT_COLUMNS.replace(/\w+/g, "e.$&")} FROM json_each(?) AS k JOIN ${EVENTS} AS e ` +
    "ON e.id = k.value ORDER BY k.key";
  return reader.statement(sql, true).rows([JSON.stringify(ids)]);
}

/**
 * Counts events after a rowid.
 *
 * @param reader the connection
 * @param after exclusive
 * @returns the count
 */
export function countAfterRow(reader: _Connection, after: number): number {
  return Number(reader.statement(`SELECT count(*) FROM ${EVENTS} WHERE position > ?`, true).row([after])![0]);
}

/**
 * Counts events and streams and reads the head position, in one statement. A stream is
 * counted by its first revision (the partial index), or, when it was truncated or deleted
 * and written again, by its row in `eventfold_streams` while its first stored revision is
 * above 1. Emptied streams count as none.
 *
 * @param reader the connection
 * @returns the stats
 */
export function readStats(reader: _Connection): AdapterStats {
  const row = reader.statement(
    `SELECT (SELECT count(*) FROM ${EVENTS}), (SELECT count(*) FROM ${EVENTS} WHERE revision = 1) + ` +
      `(SELECT count(*) FROM ${STREAMS} AS s ` +
      `WHERE (SELECT min(revision) FROM ${EVENTS} WHERE stream = s.stream) > 1), ` +
      `(SELECT max(position) FROM ${EVENTS})`,
    true,
  ).row([])!;
  return {
    events: Number(row[0]),
    streams: Number(row[1]),
    head: row[2] === null ? null : formatPosition(Number(row[2])),
  };
}
