/**
 * The read horizon of the PostgreSQL log: readers see the events of transactions older
 * than the oldest one still running. Waiting for one's own commits to get below it, and
 * measuring what it holds back (counts, head, lag).
 *
 * @module
 */

import type { AdapterStats } from "../../contract/mod.ts";
import { delay } from "../../async.ts";
import type { Query } from "./_rows.ts";
import { formatPostgresPosition, parsePostgresPosition } from "./position.ts";

/** How far a reader is behind the log. */
export interface PostgresLag {
  /** The newest position readable now (`null` when nothing is). */
  readonly head: string | null;
  /** Events readable now that sort after the reader's position. */
  readonly behind: number;
  /**
   * Events already committed that no reader can see yet, because a transaction that began
   * writing before them is still open. They become readable when it ends.
   */
  readonly waiting: number;
  /** The open transaction that holds readers back, when there is one. */
  readonly heldBy: {
    /** Its server process id (`null` when it is a prepared transaction). */
    readonly pid: number | null;
    /** Its transaction id. */
    readonly transaction: string;
    /** How long it has been open, in milliseconds (`null` when unknown). */
    readonly ms: number | null;
  } | null;
}

/**
 * Waits until every event committed before this call is below the read horizon, so a
 * log read returns all that was committed when it began (in particular a process reads
 * its own writes), even while an older transaction elsewhere holds the horizon back.
 * Gives up after `waitMs`: the read then returns what is readable, still skipping nothing.
 *
 * @param q the pool
 * @param schema the schema name
 * @param waitMs how long to wait at most
 */
export async function committedReadable(q: Query, schema: string, waitMs: number): Promise<void> {
  const s = q(schema);
  const deadline = Date.now() + waitMs;
  let pending: bigint | undefined;
  for (let pause = 1;; pause = Math.min(pause * 2, 50)) {
    const [row] = await q<{ xmin: string; newest: string | null }[]>`
        WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
        SELECT h.xmin::text AS xmin,
               (SELECT max(e.transaction_id) FROM ${s}.events AS e WHERE e.transaction_id >= h.xmin)::text AS newest
        FROM h`;
    pending ??= row.newest === null ? undefined : BigInt(row.newest);
    if (pending === undefined || BigInt(row.xmin) > pending) return;
    if (Date.now() >= deadline) return;
    await delay(pause);
  }
}

/**
 * Readable events after `position`.
 *
 * @param q the pool
 * @param schema the schema name
 * @param position exclusive; `null` counts every readable event
 * @returns the count
 * @throws {RangeError} for a position that is not one of this store
 */
export async function countAfter(q: Query, schema: string, position: string | null): Promise<number> {
  const cursor = position === null ? undefined : parsePostgresPosition(position);
  const after = cursor === undefined
    ? q``
    : q`AND (transaction_id, seq) > (${cursor.transaction}::text::xid8, ${cursor.sequence}::text::bigint)`;
  const [row] = await q<{ behind: number }[]>`
      SELECT count(*)::float8 AS behind FROM ${q(schema)}.events
      WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot()) ${after}`;
  return row.behind;
}

/**
 * Counts events and streams, and the newest readable position.
 *
 * @param q the pool
 * @param schema the schema name
 * @returns the stats
 */
export async function readStats(q: Query, schema: string): Promise<AdapterStats> {
  const s = q(schema);
  const [row] = await q<{ events: number; streams: number; ptx: string | null; pseq: string | null }[]>`
      SELECT (SELECT count(*) FROM ${s}.events)::float8 AS events,
             (SELECT count(*) FROM ${s}.streams AS t
              WHERE EXISTS (SELECT 1 FROM ${s}.events AS e WHERE e.stream = t.stream))::float8 AS streams,
             h.ptx, h.pseq
      FROM (SELECT 1) AS one
      LEFT JOIN LATERAL (
        SELECT transaction_id::text AS ptx, seq::text AS pseq FROM ${s}.events AS e
        WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY e.transaction_id DESC, e.seq DESC LIMIT 1
      ) AS h ON true`;
  return {
    events: row.events,
    streams: row.streams,
    head: row.ptx === null || row.pseq === null ? null : formatPostgresPosition(row.ptx, row.pseq),
  };
}

/**
 * How far a reader at `position` is behind, and which transaction holds the horizon back.
 *
 * @param q the pool
 * @param schema the schema name
 * @param position the reader's last position (`null` or absent: none yet)
 * @returns the lag
 * @throws {RangeError} for a position that is not one of this store
 */
export async function readLag(q: Query, schema: string, position?: string | null): Promise<PostgresLag> {
  const cursor = position === undefined || position === null ? undefined : parsePostgresPosition(position);
  const s = q(schema);
  const after = cursor === undefined
    ? q``
    : q`AND (transaction_id, seq) > (${cursor.transaction}::text::xid8, ${cursor.sequence}::text::bigint)`;
  const [row] = await q<
    {
      behind: number;
      waiting: number;
      ptx: string | null;
      pseq: string | null;
      xmin: string;
      pid: number | null;
      ms: number | null;
      held: boolean;
    }[]
  >`
      WITH snap AS (
        SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin, pg_snapshot_xmax(pg_current_snapshot()) AS xmax
      )
      SELECT
        (SELECT count(*) FROM ${s}.events, snap WHERE transaction_id < snap.xmin ${after})::float8 AS behind,
        (SELECT count(*) FROM ${s}.events, snap WHERE transaction_id >= snap.xmin)::float8 AS waiting,
        h.ptx, h.pseq, snap.xmin::text AS xmin, snap.xmin <> snap.xmax AS held,
        (SELECT pid FROM pg_stat_activity WHERE backend_xid = xid(snap.xmin) LIMIT 1) AS pid,
        (SELECT extract(epoch FROM clock_timestamp() - xact_start)::float8 * 1000
         FROM pg_stat_activity WHERE backend_xid = xid(snap.xmin) LIMIT 1) AS ms
      FROM snap
      LEFT JOIN LATERAL (
        SELECT transaction_id::text AS ptx, seq::text AS pseq FROM ${s}.events AS e
        WHERE e.transaction_id < snap.xmin ORDER BY e.transaction_id DESC, e.seq DESC LIMIT 1
      ) AS h ON true`;
  return {
    head: row.ptx === null || row.pseq === null ? null : formatPostgresPosition(row.ptx, row.pseq),
    behind: row.behind,
    waiting: row.waiting,
    heldBy: row.held
      ? { pid: row.pid, transaction: row.xmin, ms: row.ms === null ? null : Math.round(row.ms) }
      : null,
  };
}
