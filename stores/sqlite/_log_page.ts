/**
 * Log pages filtered to a few streams, read through the `(stream, revision)` index.
 *
 * @module
 */

import type { LogPageQuery } from "../../contract/mod.ts";
import type { _Connection, SqliteValue } from "./database.ts";
import { EVENTS, FAR, POSITION_AT } from "./_sql.ts";
import { EVENT_COLUMNS } from "./records.ts";

/**
 * A log page of a few streams, read stream by stream through the `(stream, revision)`
 * index instead of filtering the whole log. Within a stream revision order is position
 * order (writers are serialised), so the cursor becomes a revision per stream (found by
 * binary search), each stream gives at most `limit` rows from there, and SQLite merges
 * them by position. A page then costs O(limit x streams + log n), not a scan of every
 * later event of those streams.
 */
export function streamsPage(
  reader: _Connection,
  streams: readonly string[],
  query: LogPageQuery,
  cursor: number,
): unknown[][] {
  const backward = query.direction === "backward";
  const types = query.types === undefined ? undefined : JSON.stringify(query.types);
  const params: SqliteValue[] = [];
  for (const stream of streams) {
    params.push(stream, revisionBefore(reader, stream, cursor, backward));
    if (types !== undefined) params.push(types);
    params.push(query.limit);
  }
  params.push(query.limit);
  const key = `${streams.length}${backward ? "b" : "f"}${types === undefined ? "" : "t"}`;
  let sql = streamsPageSql.get(key);
  if (sql === undefined) {
    const arm = `SELECT * FROM (SELECT ${EVENT_COLUMNS} FROM ${EVENTS} WHERE stream = ? AND revision ${
      backward ? "<=" : ">"
    } ?${types === undefined ? "" : " AND type IN (SELECT value FROM json_each(?))"} ORDER BY revision ${
      backward ? "DESC" : "ASC"
    } LIMIT ?)`;
    sql = `SELECT * FROM (${Array.from(streams, () => arm).join(" UNION ALL ")}) ORDER BY position ${
      backward ? "DESC" : "ASC"
    } LIMIT ?`;
    streamsPageSql.set(key, sql);
  }
  return reader.statement(sql, true).rows(params);
}

const streamsPageSql = new Map<string, string>();
const RANGE = `SELECT min(revision), max(revision) FROM ${EVENTS} WHERE stream = ?`;

/**
 * Forward: the last revision of `stream` at or below position `cursor` (reading resumes
 * after it). Backward: the last revision strictly below `cursor` (reading resumes at it).
 */
export function revisionBefore(
  reader: _Connection,
  stream: string,
  cursor: number,
  backward: boolean,
): number {
  if (cursor === 0) return 0;
  const range = reader.statement(RANGE, true).row([stream])!;
  const last = Number(range[1] ?? 0);
  if (cursor >= FAR) return last;
  const at = reader.statement(POSITION_AT, true);
  const before = (revision: number) => {
    const position = Number(at.row([stream, revision])![0]);
    return backward ? position < cursor : position <= cursor;
  };
  if (last === 0 || before(last)) return last;
  // Truncation and deletion remove a stream's first revisions: the stored ones start at `first`.
  let low = Number(range[0]) - 1;
  let high = last - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (before(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}
