/**
 * The SQL behind the reads of the PostgreSQL log: a page of a stream (never held back by
 * open transactions), a page of the global log (only below the read horizon, see
 * `_horizon.ts`), and events by id.
 *
 * @module
 */

import type { EventRecord } from "../../events/record.ts";
import type { LogPageQuery, Partition, StreamPageQuery } from "../../contract/mod.ts";
import { type EventRow, type Payloads, type Query, textList } from "./_rows.ts";
import { parsePostgresPosition } from "./position.ts";

/**
 * A page's limit as SQL takes it: `null` for no limit.
 *
 * @throws {RangeError} for a negative limit or one that is not a number
 */
function limitOf(limit: number): number | null {
  if (typeof limit !== "number" || Number.isNaN(limit) || limit < 0) {
    throw new RangeError(`Invalid limit ${limit}: expected a non-negative number`);
  }
  return Number.isFinite(limit) ? Math.floor(limit) : null;
}

/**
 * One page of a stream, in revision order (or reversed).
 *
 * @param q the pool
 * @param schema the schema name
 * @param payloads the schema's payload codec
 * @param stream the stream
 * @param query where to start, direction, limit and types
 * @returns the records of the page
 * @throws {RangeError} for a negative limit
 * @throws {DecodeError} when a payload on the page does not decode
 */
export async function readStreamPage(
  q: Query,
  schema: string,
  payloads: Payloads,
  stream: string,
  query: StreamPageQuery,
): Promise<EventRecord[]> {
  const limit = limitOf(query.limit);
  if (limit === 0 || query.types?.length === 0) return [];
  const forward = query.direction !== "backward";
  const from = query.fromRevision;
  const rows = await q<EventRow[]>`
      SELECT ${payloads.columns(q)} FROM ${q(schema)}.events
      WHERE stream = ${stream}
      ${from === undefined ? q`` : forward ? q`AND revision >= ${from}` : q`AND revision <= ${from}`}
      ${query.types === undefined ? q`` : q`AND type IN ${textList(q, query.types)}`}
      ORDER BY revision ${forward ? q`ASC` : q`DESC`}
      ${limit === null ? q`` : q`LIMIT ${limit}`}`;
  return rows.map((row) => payloads.record(row));
}

/**
 * One page of the log, in position order, of events below the read horizon only.
 *
 * @param q the pool
 * @param schema the schema name
 * @param payloads the schema's payload codec
 * @param query after, direction, limit, types and streams
 * @returns the records of the page
 * @throws {RangeError} for an `after` that is not a position of this store, or a negative limit
 * @throws {DecodeError} when a payload on the page does not decode
 */
export async function readLogPage(
  q: Query,
  schema: string,
  payloads: Payloads,
  query: LogPageQuery,
): Promise<EventRecord[]> {
  const limit = limitOf(query.limit);
  if (limit === 0 || query.types?.length === 0 || query.streams?.length === 0) return [];
  const forward = query.direction !== "backward";
  const cursor = query.after === undefined ? undefined : parsePostgresPosition(query.after);
  const after = cursor === undefined
    ? q``
    : forward
    ? q`AND (transaction_id, seq) > (${cursor.transaction}::text::xid8, ${cursor.sequence}::text::bigint)`
    : q`AND (transaction_id, seq) < (${cursor.transaction}::text::xid8, ${cursor.sequence}::text::bigint)`;
  const rows = await q<EventRow[]>`
      SELECT ${payloads.columns(q)} FROM ${q(schema)}.events AS e
      WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
      ${after}
      ${query.types === undefined ? q`` : q`AND type IN ${textList(q, query.types)}`}
      ${query.streams === undefined ? q`` : q`AND stream IN ${textList(q, query.streams)}`}
      ${query.partition === undefined ? q`` : partitionFilter(q, query.partition)}
      ORDER BY ${forward ? q`e.transaction_id ASC, e.seq ASC` : q`e.transaction_id DESC, e.seq DESC`}
      ${limit === null ? q`` : q`LIMIT ${limit}`}`;
  return rows.map((row) => payloads.record(row));
}

/**
 * Stored events by id, in the order of `ids`; missing ids are left out.
 *
 * @param q the pool
 * @param schema the schema name
 * @param payloads the schema's payload codec
 * @param ids the ids
 * @returns the records found
 * @throws {DecodeError} when a payload does not decode
 */
export async function readByIds(
  q: Query,
  schema: string,
  payloads: Payloads,
  ids: readonly string[],
): Promise<EventRecord[]> {
  if (ids.length === 0) return [];
  const rows = await q<EventRow[]>`
      SELECT ${payloads.columns(q)} FROM ${q(schema)}.events
      WHERE id IN ${textList(q, [...new Set(ids)])}`;
  const byId = new Map(rows.map((row) => [row.id, row]));
  // In the order asked for, like the other adapters.
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row === undefined ? [] : [payloads.record(row)];
  });
}

/**
 * `AND` the stream is in `partition`: the first 32 bits of its MD5 (as `partitionOf`
 * computes them), modulo the count.
 */
function partitionFilter(q: Query, partition: Partition) {
  return q`AND ((('x' || substr(md5(stream), 1, 8))::bit(32)::integer::bigint & 4294967295) % ${partition.count}::bigint) = ${partition.index}::bigint`;
}
