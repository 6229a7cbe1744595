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
import { isoTime, type Payloads, type Query, textList } from "./_rows.ts";
import { formatPostgresPosition } from "./position.ts";

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
      throw new TypeError(`Unknown relation change ${JSON.stringify(change.op)}: expected "insert" or "remove"`);
    }
    last.set(JSON.stringify([change.key, change.stream]), change);
  }
  const insert: string[][] = [];
  const remove: string[][] = [];
  for (const change of last.values()) (change.op === "insert" ? insert : remove).push([change.key, change.stream]);
  return { insert, remove };
}

/**
 * Applies relation changes with `q` (a transaction, so both statements commit together).
 *
 * @param q the transaction
 * @param schema the schema name
 * @param changes the changes, applied as if one by one in order
 */
export async function applyRelations(q: Query, schema: string, changes: readonly RelationChange[]): Promise<void> {
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
    const list = JSON.stringify(sorted);
    const q = this.#q;
    const s = q(this.#context.schema);
    try {
      // Both statements take their locks in the order of `sorted`. The insert waits for a
      // concurrent creator of the same stream; the select then sees its committed row.
      const [, rows] = await Promise.all([
        q`
          INSERT INTO ${s}.streams (stream)
          SELECT x.stream FROM json_array_elements_text(${list}::text::json) WITH ORDINALITY AS x(stream, n)
          ORDER BY x.n
          ON CONFLICT (stream) DO NOTHING`,
        q<{ stream: string; revision: number }[]>`
          SELECT t.stream, t.revision
          FROM ${s}.streams AS t
          JOIN json_array_elements_text(${list}::text::json) WITH ORDINALITY AS x(stream, n) ON t.stream = x.stream
          ORDER BY x.n
          FOR UPDATE OF t`,
      ]);
      for (const stream of sorted) out.set(stream, 0);
      for (const row of rows) out.set(row.stream, row.revision);
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
      q<{ id: string; ptx: string; pseq: string; recorded: string }[]>`
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
          RETURNING id, stream, revision, transaction_id::text AS ptx, seq::text AS pseq,
                    ${isoTime(q, "recorded")} AS recorded
        ), streams AS (
          INSERT INTO ${s}.streams AS t (stream, revision)
          SELECT stream, max(revision) FROM inserted GROUP BY stream
          ON CONFLICT (stream) DO UPDATE SET revision = greatest(t.revision, excluded.revision)
        )
        SELECT id, ptx, pseq, recorded FROM inserted`,
    ];
    if (!this.#notified) {
      // Delivered by PostgreSQL at commit, never on rollback.
      work.push(q`SELECT pg_notify(${channel}, '')`);
      this.#notified = true;
    }
    let inserted: { id: string; ptx: string; pseq: string; recorded: string }[];
    try {
      [inserted] = await Promise.all(work) as [typeof inserted];
    } catch (error) {
      throw raced(error, records, []);
    }
    const byId = new Map(inserted.map((row) => [row.id, row]));
    const missing = records.filter((record) => !byId.has(record.id)).map((record) => record.id);
    if (missing.length > 0) throw new DuplicateIdError(missing);
    return records.map((record) => {
      const row = byId.get(record.id)!;
      return {
        id: record.id,
        stream: record.stream,
        type: record.type,
        data: record.data ?? null,
        meta: record.meta ?? null,
        revision: record.revision,
        position: formatPostgresPosition(row.ptx, row.pseq),
        created: record.created,
        recorded: row.recorded,
        outdated: record.outdated === true,
      };
    });
  }

  async relate(changes: readonly RelationChange[]): Promise<void> {
    if (changes.length > 0) await applyRelations(this.#q, this.#context.schema, changes);
  }
}
