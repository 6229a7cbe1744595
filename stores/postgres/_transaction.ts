/**
 * One write transaction of the PostgreSQL adapter. Writers to a stream serialise on its
 * row in the `streams` table (`SELECT ... FOR UPDATE`, taken in one order so two writers
 * never wait on each other in a cycle); the unique `(stream, revision)` constraint backs
 * that up, so no interleaving can store a revision twice.
 *
 * @module
 */

import type postgres from "postgres";
import type { EventRecord } from "../../events/record.ts";
import {
  type AdapterTransaction,
  DuplicateIdError,
  type InsertableRecord,
  type RelationChange,
  RevisionConflictError,
} from "../adapter.ts";
import { type Payloads, type Query, textList } from "./_rows.ts";
import { formatPostgresPosition } from "./position.ts";

function nowIso(q: Query) {
  return q`to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** The transaction part of its events' positions, with the dot. */
function positionPrefix(transaction: string): string {
  return formatPostgresPosition(transaction, "0").slice(0, 21);
}

/** What a transaction needs to know of its adapter. */
export interface Context {
  /** The schema name. */
  readonly schema: string;
  /** The notification channel. */
  readonly channel: string;
  /** The schema's payload codec. */
  readonly payloads: Payloads;
}

// Rows per INSERT statement: keeps one JSON parameter to a few megabytes on big imports.
const INSERT_CHUNK = 2000;

interface PgError {
  code?: string;
  constraint_name?: string;
  detail?: string;
}

function conflictStream(error: PgError, records: readonly InsertableRecord[]): string {
  const match = /^Key \(stream, revision\)=\((.*), \d+\) already exists/s.exec(error.detail ?? "");
  return match?.[1] ?? records[0].stream;
}

/**
 * Turns a lost race into the error the store retries on: a revision taken by another
 * writer, or a deadlock or serialisation failure PostgreSQL resolved by aborting us.
 */
function raced(error: unknown, records: readonly InsertableRecord[], streams: readonly string[]): unknown {
  const pg = error as PgError;
  if (pg?.code === "23505" && pg.constraint_name === "events_stream_revision") {
    return new RevisionConflictError(conflictStream(pg, records), { cause: error });
  }
  if (pg?.code === "40P01" || pg?.code === "40001") {
    return new RevisionConflictError(streams[0] ?? records[0]?.stream ?? "", { cause: error });
  }
  return error;
}

/**
 * Final state of each (key, stream) pair after applying changes in order, so they can
 * go to the server as one insert and one delete.
 */
export function netRelations(changes: readonly RelationChange[]): { insert: string[][]; remove: string[][] } {
  const last = new Map<string, RelationChange>();
  for (const change of changes) {
    if (change.op !== "insert" && change.op !== "remove") {
      throw new TypeError(
        `Unknown relation change ${JSON.stringify(change.op)}: expected "insert" or "remove"`,
      );
    }
    last.set(JSON.stringify([change.key, change.stream]), change);
  }
  const insert: string[][] = [];
  const remove: string[][] = [];
  for (const change of last.values()) {
    (change.op === "insert" ? insert : remove).push([change.key, change.stream]);
  }
  return { insert, remove };
}

/**
 * Applies relation changes with `q` (a transaction, so both statements commit together).
 *
 * @param q the transaction
 * @param schema the schema name
 * @param changes the changes, applied as if one by one in order
 */
export async function applyRelations(
  q: Query,
  schema: string,
  changes: readonly RelationChange[],
): Promise<void> {
  const { insert, remove } = netRelations(changes);
  const s = q(schema);
  const work: Promise<unknown>[] = [];
  if (remove.length > 0) {
    work.push(q`
      DELETE FROM ${s}.relations AS r
      USING json_array_elements(${JSON.stringify(remove)}::text::json) AS x(pair)
      WHERE r.key = x.pair->>0 AND r.stream = x.pair->>1`);
  }
  if (insert.length > 0) {
    work.push(q`
      INSERT INTO ${s}.relations (key, stream)
      SELECT x.pair->>0, x.pair->>1 FROM json_array_elements(${JSON.stringify(insert)}::text::json) AS x(pair)
      ON CONFLICT DO NOTHING`);
  }
  await Promise.all(work);
}

/** The {@linkcode AdapterTransaction} over a postgres.js transaction. */
export class PostgresTransaction implements AdapterTransaction<postgres.TransactionSql> {
  readonly handle: postgres.TransactionSql;
  readonly #context: Context;
  readonly #q: Query;
  #notified = false;
  // The transaction's id and start time, learnt from the first statement that tells.
  #transaction: { id: string; recorded: string } | undefined;

  /**
   * @param handle the postgres.js transaction
   * @param context the adapter's schema, channel and payloads
   */
  constructor(handle: postgres.TransactionSql, context: Context) {
    this.handle = handle;
    this.#q = handle as unknown as Query;
    this.#context = context;
  }

  async revisions(streams: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (streams.length === 0) return out;
    const sorted = [...new Set(streams)].sort();
    const q = this.#q;
    try {
      // One statement creates missing stream rows and locks every row, in the order of
      // `sorted` (so two writers never wait on each other in a cycle). DO UPDATE waits
      // for a concurrent writer of the stream to finish and returns the revision it
      // committed; the loser of a race sees the true revision.
      const rows = await q<{ stream: string; revision: number; ptx: string; recorded: string }[]>`
        INSERT INTO ${q(this.#context.schema)}.streams AS t (stream)
        SELECT x.stream FROM json_array_elements_text(${JSON.stringify(sorted)}::text::json)
          WITH ORDINALITY AS x(stream, n)
        ORDER BY x.n
        ON CONFLICT (stream) DO UPDATE SET revision = t.revision
        RETURNING t.stream, t.revision, pg_current_xact_id()::text AS ptx, ${nowIso(q)} AS recorded`;
      for (const row of rows) {
        out.set(row.stream, row.revision);
        this.#transaction ??= { id: row.ptx, recorded: row.recorded };
      }
      return out;
    } catch (error) {
      throw raced(error, [], sorted);
    }
  }

  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const q = this.#q;
    const rows = await q<{ id: string }[]>`
      SELECT id FROM ${q(this.#context.schema)}.events WHERE id IN ${textList(q, [...new Set(ids)])}`;
    return new Set(rows.map((row) => row.id));
  }

  async hasNewer(stream: string, type: string, created: string): Promise<boolean> {
    const q = this.#q;
    const [row] = await q<{ newer: boolean }[]>`
      SELECT EXISTS (
        SELECT 1 FROM ${q(this.#context.schema)}.events
        WHERE stream = ${stream} AND type = ${type} AND created > ${created}
      ) AS newer`;
    return row.newer;
  }

  async insert(records: readonly InsertableRecord[]): Promise<EventRecord[]> {
    const out: EventRecord[] = [];
    for (let start = 0; start < records.length; start += INSERT_CHUNK) {
      out.push(...await this.#insertChunk(records.slice(start, start + INSERT_CHUNK)));
    }
    return out;
  }

  async #insertChunk(records: readonly InsertableRecord[]): Promise<EventRecord[]> {
    if (records.length === 0) return [];
    const { payloads, schema, channel } = this.#context;
    const rows = records.map((record, n) => ({
      n,
      id: record.id,
      stream: record.stream,
      type: record.type,
      revision: record.revision,
      created: record.created,
      outdated: record.outdated === true,
      data: payloads.optional(record.data),
      meta: payloads.optional(record.meta),
    }));
    const q = this.#q;
    const s = q(schema);
    const work: Promise<unknown>[] = [
      // ORDER BY n: sequence numbers, and so positions, follow the given order.
      q<{ id: string; pseq: string }[]>`
        WITH input AS (
          SELECT * FROM json_to_recordset(${JSON.stringify(rows)}::text::json) AS x(
            n integer, id text, stream text, "type" text, revision integer, created text,
            outdated boolean, data text, meta text)
        ), inserted AS (
          INSERT INTO ${s}.events (id, stream, type, revision, created, outdated, data, meta)
          SELECT id, stream, "type", revision, created, outdated,
                 ${payloads.fromText(q, "data")}, ${payloads.fromText(q, "meta")}
          FROM input ORDER BY n
          ON CONFLICT (id) DO NOTHING
          RETURNING id, stream, revision, seq
        ), streams AS (
          INSERT INTO ${s}.streams AS t (stream, revision)
          SELECT stream, max(revision) FROM inserted GROUP BY stream
          ON CONFLICT (stream) DO UPDATE SET revision = greatest(t.revision, excluded.revision)
        )
        SELECT id, seq::text AS pseq FROM inserted`,
    ];
    if (this.#transaction === undefined) {
      // Every event of a transaction shares its id and `recorded` (now() is the start time).
      work.push(q`SELECT pg_current_xact_id()::text AS ptx, ${nowIso(q)} AS recorded`);
    }
    if (!this.#notified) {
      // Delivered by PostgreSQL at commit, never on rollback.
      work.push(q`SELECT pg_notify(${channel}, '')`);
      this.#notified = true;
    }
    let results: unknown[];
    try {
      results = await Promise.all(work);
    } catch (error) {
      throw raced(error, records, []);
    }
    const inserted = results[0] as { id: string; pseq: string }[];
    if (this.#transaction === undefined) {
      const [row] = results[1] as { ptx: string; recorded: string }[];
      this.#transaction = { id: row.ptx, recorded: row.recorded };
    }
    const { id: transaction, recorded } = this.#transaction;
    const byId = new Map<string, string>();
    for (const row of inserted) byId.set(row.id, row.pseq);
    if (byId.size < records.length) {
      throw new DuplicateIdError(records.filter((record) => !byId.has(record.id)).map((record) => record.id));
    }
    const prefix = positionPrefix(transaction);
    return records.map((record) => ({
      id: record.id,
      stream: record.stream,
      type: record.type,
      data: record.data ?? null,
      meta: record.meta ?? null,
      revision: record.revision,
      position: prefix + byId.get(record.id)!.padStart(19, "0"),
      created: record.created,
      recorded,
      outdated: record.outdated === true,
    }));
  }

  async relate(changes: readonly RelationChange[]): Promise<void> {
    if (changes.length > 0) await applyRelations(this.#q, this.#context.schema, changes);
  }
}
