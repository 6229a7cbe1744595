/**
 * One write transaction of the PostgreSQL adapter. Writers to a stream serialise on a
 * transaction-level advisory lock of the stream (taken in key order, so two writers never
 * wait on each other in a cycle, and before the transaction has an id, so position order
 * within a stream is revision order) and read its revision only once they hold the lock;
 * the unique `(stream, revision)` constraint backs that up, so no interleaving can store a
 * revision twice. The transaction runs at READ COMMITTED whatever the server's default:
 * the revision read must see what the writer it waited for committed.
 *
 * The transaction runs on a reserved connection, and its `BEGIN` travels with its first
 * statement (postgres.js `sql.begin` waits for `BEGIN` first: one round trip more per
 * append). Only statements that change nothing when run outside a transaction may go
 * before `BEGIN` is confirmed; writes wait for it.
 *
 * The reserved connection is watched (see `_reserved.ts`): when it dies, every statement
 * pending on it fails at once, and the transaction settles with `ConnectionLostError`,
 * which says whether `COMMIT` had been sent (then the append may have committed; its ids
 * make a retry safe).
 *
 * @module
 */

import { ConnectionLostError, EventInsertionError } from "../../errors.ts";
import type { EventRecord } from "../../events/record.ts";
import {
  type AdapterTransaction,
  type CheckpointUpdate,
  DuplicateIdError,
  type InsertableRecord,
  type ParkedEvent,
  type RelationChange,
  RevisionConflictError,
  type StreamMetadata,
  StreamTombstonedError,
} from "../../contract/mod.ts";
import type { PostgresTransactionSql } from "./client.ts";
import { applyRelations } from "./_relations.ts";
import { removeStream, truncateStream, writeStreamMetadata } from "./_lifecycle.ts";
import { insertKey } from "./_keys.ts";
import { checkKey, checkSubject } from "../_key_input.ts";
import { type Payloads, type Query, textList } from "./_rows.ts";
import { formatPostgresPosition } from "./position.ts";
import { parkEvent, setCheckpoint, unparkEvent } from "./_subscriptions.ts";
import { isConnectionFailure, lostOr } from "./_connection_loss.ts";
import type { Reservations, ReservedConnection } from "./_reserved.ts";

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
  /** The schema's payload codec. */
  readonly payloads: Payloads;
}

// First key of the two-key advisory locks of streams ("EVFS"): apart from an application's
// one-key locks, the schema lock ("EVFD") and the subscription leases. Two streams whose
// names hash alike only share a lock; the unique (stream, revision) constraint still holds.
const STREAM_LOCK_CLASS = 0x45564653;

// Rows per INSERT statement: keeps one JSON parameter to a few megabytes on big imports.
const INSERT_CHUNK = 2000;

// SQLSTATE of a statement sent after an earlier one failed in the same transaction.
const IN_FAILED_TRANSACTION = "25P02";

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
export function raced(
  error: unknown,
  records: readonly InsertableRecord[],
  streams: readonly string[],
): unknown {
  const pg = error as PgError;
  if (pg?.code === "23505" && pg.constraint_name === "events_stream_revision") {
    return new RevisionConflictError(conflictStream(pg, records), { cause: error });
  }
  if (pg?.code === "23505" && pg.constraint_name === "events_pkey") {
    const id = /^Key \(id\)=\((.*)\) already exists/s.exec(pg.detail ?? "")?.[1];
    return new DuplicateIdError(id === undefined ? records.map((record) => record.id) : [id]);
  }
  if (pg?.code === "40P01" || pg?.code === "40001") {
    return new RevisionConflictError(streams[0] ?? records[0]?.stream ?? "", { cause: error });
  }
  return error;
}

/** A stream's revision row, as {@linkcode lockAndReadRevisions} reads it. */
export interface RevisionRow {
  /** The stream. */
  stream: string;
  /** Its revision: the highest of its events, or the floor its removed events left. */
  revision: number;
  /** Whether it takes no more appends. */
  tombstoned: boolean;
}

/**
 * The two statements that lock `streams` and read their revisions, to be sent one after
 * the other on one connection (pipelined): transaction-level advisory locks in key order,
 * then each stream's revision, floor and tombstone with a fresh snapshot.
 *
 * @param q the transaction's connection
 * @param schema the schema
 * @param streams distinct stream names, sorted
 * @returns the lock statement and the revision read, both executing
 */
export function lockAndReadRevisions(
  q: Query,
  schema: string,
  streams: readonly string[],
): [Promise<unknown>, Promise<RevisionRow[]>] {
  const list = JSON.stringify(streams);
  const s = q(schema);
  return [
    q`
      SELECT pg_advisory_xact_lock(${STREAM_LOCK_CLASS}::integer, k.key)
      FROM (
        SELECT DISTINCT hashtext(${schema + "."} || x.stream) AS key
        FROM json_array_elements_text(${list}::text::json) AS x(stream)
      ) AS k
      ORDER BY k.key`,
    q<RevisionRow[]>`
      SELECT x.stream,
             greatest(coalesce(t.floor, 0),
                      (SELECT coalesce(max(e.revision), 0) FROM ${s}.events AS e WHERE e.stream = x.stream)) AS revision,
             coalesce(t.tombstoned, false) AS tombstoned
      FROM json_array_elements_text(${list}::text::json) AS x(stream)
      LEFT JOIN ${s}.streams AS t ON t.stream = x.stream`,
  ];
}

/** A record encoded for {@linkcode insertStatement}: `n` orders the rows. */
export interface EncodedRow {
  n: number;
  id: string;
  stream: string;
  type: string;
  revision: number;
  created: string;
  outdated: boolean;
  imported: boolean;
  version: number;
  data: string | null;
  meta: string | null;
}

/** What {@linkcode insertStatement} returns per row. */
export interface InsertedRow {
  id: string;
  pseq: string;
  ptx: string;
  recorded: string;
}

/**
 * Encodes records for {@linkcode insertStatement}, numbered from `first`.
 *
 * @param payloads the schema's payload codec
 * @param records the records
 * @param first the number of the first row
 * @returns the rows
 */
export function encodeRows(
  payloads: Payloads,
  records: readonly InsertableRecord[],
  first = 0,
): EncodedRow[] {
  return records.map((record, n) => ({
    n: first + n,
    id: record.id,
    stream: record.stream,
    type: record.type,
    revision: record.revision,
    created: record.created,
    outdated: record.outdated === true,
    imported: record.imported === true,
    version: record.version ?? 1,
    data: payloads.optional(record.data),
    meta: payloads.optional(record.meta),
  }));
}

/**
 * The statement inserting `rows` (in `n` order, so sequence numbers and positions follow
 * it) and the rows of new streams. For a commit it has no `ON CONFLICT` clause, so an
 * existing id fails the statement and PostgreSQL turns the `COMMIT` sent after it into a
 * rollback; otherwise existing ids are skipped (and missing from the answer).
 *
 * @param q the transaction's connection
 * @param context the schema and payloads
 * @param rows the encoded rows
 * @param commit whether `COMMIT` follows it
 * @returns the statement, executing
 */
export function insertStatement(
  q: Query,
  context: Context,
  rows: readonly EncodedRow[],
  commit: boolean,
): Promise<InsertedRow[]> {
  const { payloads, schema } = context;
  const s = q(schema);
  return q<InsertedRow[]>`
    WITH input AS (
      SELECT * FROM json_to_recordset(${JSON.stringify(rows)}::text::json) AS x(
        n integer, id text, stream text, "type" text, revision integer, created text,
        outdated boolean, imported boolean, version integer, data text, meta text)
    ), inserted AS (
      INSERT INTO ${s}.events (id, stream, type, revision, created, outdated, imported, version, data, meta)
      SELECT id, stream, "type", revision, created, outdated, imported, version,
             ${payloads.fromText(q, "data")}, ${payloads.fromText(q, "meta")}
      FROM input ORDER BY n
      ${commit ? q`` : q`ON CONFLICT (id) DO NOTHING`}
      RETURNING id, stream, revision, seq
    ), new_streams AS (
      INSERT INTO ${s}.streams (stream)
      SELECT DISTINCT stream FROM inserted WHERE revision = 1
      ON CONFLICT (stream) DO NOTHING
    ), tx AS MATERIALIZED (
      SELECT pg_current_xact_id()::text AS ptx, ${nowIso(q)} AS recorded
    )
    SELECT i.id, i.seq::text AS pseq, tx.ptx, tx.recorded FROM inserted AS i, tx`;
}

/**
 * Waits for an insert and the `COMMIT` sent right after it, and returns the inserted rows
 * once the server confirmed the commit.
 *
 * @param insert the insert statement
 * @param commit the `COMMIT` statement, marked with `ReservedConnection.commit`
 * @returns the rows the insert returned
 * @throws the insert's error (a lost connection's too)
 * @throws {EventInsertionError} when PostgreSQL rolled the transaction back
 */
export async function committedInsert(
  insert: Promise<InsertedRow[]>,
  commit: Promise<{ command?: string }>,
): Promise<InsertedRow[]> {
  const [rows, done] = await Promise.allSettled([insert, commit]);
  if (rows.status === "rejected") {
    if ((rows.reason as PgError)?.code !== IN_FAILED_TRANSACTION) throw rows.reason;
    throw new EventInsertionError(
      "PostgreSQL rolled the append back: a statement before it in the transaction had failed; " +
        "nothing was written",
      { cause: rows.reason },
    );
  }
  // A lost connection is reported by the caller, with whether COMMIT had been sent.
  if (done.status === "rejected" && isConnectionFailure(done.reason)) throw done.reason;
  // Any answer of the server to COMMIT other than COMMIT (an error, as a deferred
  // constraint raises, or ROLLBACK) means it rolled the transaction back.
  if (done.status === "rejected" || done.value.command !== "COMMIT") {
    throw new EventInsertionError(
      "PostgreSQL rolled the append back at COMMIT" +
        (done.status === "rejected" ? ` (${(done.reason as Error)?.message ?? done.reason})` : "") +
        "; nothing was written",
      { cause: done.status === "rejected" ? done.reason : undefined },
    );
  }
  return rows.value;
}

/**
 * The stored form of `records`, from the rows their insert returned.
 *
 * @param records the records inserted
 * @param inserted what the insert returned (rows of other records may be among them)
 * @returns the records with positions and `recorded`, in the given order
 * @throws {DuplicateIdError} for records the insert skipped (their ids exist)
 */
export function storedRecords(
  records: readonly InsertableRecord[],
  inserted: readonly InsertedRow[],
): EventRecord[] {
  const byId = new Map<string, string>();
  for (const row of inserted) byId.set(row.id, row.pseq);
  const missing = records.filter((record) => !byId.has(record.id));
  if (missing.length > 0) throw new DuplicateIdError(missing.map((record) => record.id));
  const { ptx, recorded } = inserted[0];
  const prefix = positionPrefix(ptx);
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
    imported: record.imported === true,
    version: record.version ?? 1,
  }));
}

/** The {@linkcode AdapterTransaction} over a postgres.js transaction. */
export class PostgresTransaction implements AdapterTransaction<PostgresTransactionSql> {
  readonly handle: PostgresTransactionSql;
  readonly #context: Context;
  readonly #q: Query;
  readonly #begun: Promise<void>;
  /** The transaction id, once it has inserted events (as text: an `xid8`). */
  transactionId: string | undefined;
  /** Whether a final insert committed the transaction already. */
  committed = false;
  /** Whether it has tried to insert events (a lost connection is then a lost append). */
  inserting = false;
  readonly #connection: ReservedConnection;

  /**
   * @param handle the transaction's connection
   * @param context the adapter's schema and payloads
   * @param begun settles when `BEGIN` is confirmed
   */
  constructor(
    handle: PostgresTransactionSql,
    context: Context,
    begun: Promise<void>,
    connection: ReservedConnection,
  ) {
    this.handle = handle;
    this.#q = handle as unknown as Query;
    this.#context = context;
    this.#begun = begun;
    this.#connection = connection;
  }

  /** Runs a statement that changes nothing outside a transaction, without waiting for `BEGIN`. */
  async #early<T>(statement: Promise<T>): Promise<T> {
    const [result] = await Promise.all([statement, this.#begun]);
    return result;
  }

  async revisions(streams: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (streams.length === 0) return out;
    const sorted = [...new Set(streams)].sort();
    const q = this.#q;
    let tombstoned: string | undefined;
    try {
      // The first statement takes a transaction-level advisory lock per stream, in key
      // order (so two writers never wait on each other in a cycle), waiting for a
      // concurrent writer of a stream to finish. Advisory locks assign no transaction id:
      // this transaction gets its id, and so its position, only when it inserts, after it
      // holds the locks of its streams. A writer that waited for another therefore sorts
      // after it, and within a stream position order is revision order. (A row lock would
      // assign the id before waiting.) The second statement starts after the first, with a
      // fresh snapshot: it sees what that writer committed, so the loser of a race reads
      // the true revision. It also reads the stream's row (one index lookup, no round trip
      // more): the floor left by removed events, and the tombstone.
      const [, rows] = await this.#early(Promise.all(lockAndReadRevisions(q, this.#context.schema, sorted)));
      for (const row of rows) out.set(row.stream, row.revision);
      tombstoned = rows.filter((row) => row.tombstoned).map((row) => row.stream).sort()[0];
    } catch (error) {
      throw raced(error, [], sorted);
    }
    // Nothing is written yet: the store abandons the transaction.
    if (tombstoned !== undefined) throw new StreamTombstonedError(tombstoned);
    return out;
  }

  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const q = this.#q;
    const rows = await this.#early(q<{ id: string }[]>`
      SELECT id FROM ${q(this.#context.schema)}.events WHERE id IN ${textList(q, [...new Set(ids)])}`);
    return new Set(rows.map((row) => row.id));
  }

  async latestCreated(stream: string, type: string): Promise<string | null> {
    const q = this.#q;
    const [row] = await this.#early(q<{ latest: string | null }[]>`
      SELECT max(created) AS latest FROM ${q(this.#context.schema)}.events
      WHERE stream = ${stream} AND type = ${type}`);
    return row.latest;
  }

  async latestCreatedMany(pairs: readonly { stream: string; type: string }[]): Promise<(string | null)[]> {
    if (pairs.length === 0) return [];
    const q = this.#q;
    const input = JSON.stringify(pairs.map((pair, n) => ({ n, stream: pair.stream, type: pair.type })));
    const rows = await this.#early(q<{ n: number; latest: string | null }[]>`
      SELECT x.n, (
        SELECT max(e.created) FROM ${q(this.#context.schema)}.events AS e
        WHERE e.stream = x.stream AND e.type = x."type"
      ) AS latest
      FROM json_to_recordset(${input}::text::json) AS x(n integer, stream text, "type" text)`);
    const out = new Array<string | null>(pairs.length).fill(null);
    for (const row of rows) out[row.n] = row.latest;
    return out;
  }

  async insert(records: readonly InsertableRecord[], options?: { final?: boolean }): Promise<EventRecord[]> {
    this.#assertOpen();
    this.inserting = true;
    await this.#begun;
    const out: EventRecord[] = [];
    for (let start = 0; start < records.length; start += INSERT_CHUNK) {
      const end = start + INSERT_CHUNK;
      out.push(
        ...await this.#insertChunk(
          records.slice(start, end),
          options?.final === true && end >= records.length,
        ),
      );
    }
    return out;
  }

  #assertOpen(): void {
    if (this.committed) {
      throw new TypeError("This transaction committed with its final insert; start a new one");
    }
  }

  /**
   * Inserts one chunk. With `commit`, `COMMIT` travels with the insert (one round trip
   * less); the insert then has no `ON CONFLICT` clause, so an existing id fails the
   * statement and PostgreSQL turns that `COMMIT` into a rollback.
   */
  async #insertChunk(records: readonly InsertableRecord[], commit: boolean): Promise<EventRecord[]> {
    if (records.length === 0) return [];
    const q = this.#q;
    let inserted: InsertedRow[];
    try {
      const insert = insertStatement(q, this.#context, encodeRows(this.#context.payloads, records), commit);
      if (commit) {
        inserted = await committedInsert(insert, this.#connection.commit(q`COMMIT`));
        this.committed = true;
      } else {
        inserted = await insert;
      }
    } catch (error) {
      throw raced(error, records, []);
    }
    const stored = storedRecords(records, inserted);
    this.transactionId = inserted[0].ptx;
    return stored;
  }

  async updateRelations(changes: readonly RelationChange[]): Promise<void> {
    this.#assertOpen();
    await this.#begun;
    if (changes.length > 0) await applyRelations(this.#q, this.#context.schema, changes);
  }

  /**
   * Removes every event, snapshot and relation of `stream` and records `revision` as its
   * floor (and the tombstone). The stream is locked: the store read its revision with
   * {@linkcode PostgresTransaction.revisions} first.
   *
   * @param stream the stream
   * @param options its current revision, and whether it takes appends again
   * @throws {RangeError} for a revision that is not a whole number of 0 or more
   */
  async removeStream(
    stream: string,
    options: { readonly revision: number; readonly tombstone: boolean },
  ): Promise<void> {
    this.#assertOpen();
    await this.#begun;
    await removeStream(this.#q, this.#context.schema, stream, options.revision, options.tombstone === true);
  }

  /**
   * Removes the events of `stream` below revision `before` (snapshots and relations stay).
   *
   * @param stream the stream
   * @param before the first revision to keep (at least 1)
   * @returns how many events were removed
   * @throws {RangeError} for a `before` that is not a whole number of 1 or more
   */
  async truncateStream(stream: string, before: number): Promise<number> {
    this.#assertOpen();
    await this.#begun;
    return await truncateStream(this.#q, this.#context.schema, stream, before);
  }

  /**
   * Stores the metadata of `stream` on its row, replacing what it had.
   *
   * @param stream the stream
   * @param metadata its rules
   */
  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    this.#assertOpen();
    await this.#begun;
    await writeStreamMetadata(this.#q, this.#context.schema, stream, metadata);
  }

  /**
   * Stores each key unless its subject has one, in this transaction (a concurrent one
   * storing the same subject's key is waited for; the first to commit wins).
   *
   * @param keys subject to key
   * @returns the key each subject has now
   */
  async createKeys(keys: ReadonlyMap<string, Uint8Array>): Promise<Map<string, Uint8Array>> {
    this.#assertOpen();
    await this.#begun;
    const out = new Map<string, Uint8Array>();
    for (const [subject, key] of keys) {
      checkSubject(subject);
      checkKey(key);
      out.set(subject, await insertKey(this.#q, this.#context.schema, subject, key));
    }
    return out;
  }

  async putCheckpoint(name: string, expected: string | null, next: CheckpointUpdate): Promise<boolean> {
    this.#assertOpen();
    await this.#begun;
    const { schema, payloads } = this.#context;
    return await setCheckpoint(this.#q, schema, payloads, name, expected, next);
  }

  async parkEvent(event: ParkedEvent): Promise<void> {
    this.#assertOpen();
    await this.#begun;
    await parkEvent(this.#q, this.#context.schema, event);
  }

  async unparkEvent(name: string, id: string): Promise<boolean> {
    this.#assertOpen();
    await this.#begun;
    return await unparkEvent(this.#q, this.#context.schema, name, id);
  }
}

/**
 * The handle given to `work`: the reserved connection, with `savepoint` as in a
 * postgres.js transaction and without `release` (the transaction releases it).
 */
function transactionHandle(connection: ReservedConnection): PostgresTransactionSql {
  let savepoints = 0;
  const handle = connection.sql as unknown as Record<string, unknown> & Query;
  delete handle.release;
  handle.savepoint = async (name: unknown, fn?: unknown) => {
    const body = (typeof name === "function" ? name : fn) as (sql: unknown) => unknown;
    const id = `s${++savepoints}`;
    await handle`SAVEPOINT ${handle(id)}`;
    try {
      const result = await body(handle);
      await handle`RELEASE SAVEPOINT ${handle(id)}`;
      return result;
    } catch (error) {
      await handle`ROLLBACK TO SAVEPOINT ${handle(id)}`;
      throw error;
    }
  };
  handle.prepare = () => {
    throw new TypeError("Two-phase commit (prepare) is not supported in an Eventfold transaction");
  };
  return handle as unknown as PostgresTransactionSql;
}

/**
 * Runs `work` in one transaction on a reserved connection: everything commits, or
 * (when `work` throws, or a statement in it failed unseen) nothing does. When the
 * connection dies, every statement pending on it fails at once and the call settles with
 * {@linkcode ConnectionLostError}, saying whether `COMMIT` had been sent; the dead
 * connection is left to the driver, which reconnects for later calls.
 *
 * @param reservations where to reserve the connection
 * @param context the adapter's schema and payloads
 * @param work the transaction's body
 * @param store the store's name for messages (no password)
 * @returns what `work` returned, and the transaction id when it inserted events
 * @throws {EventInsertionError} when PostgreSQL rolled back at COMMIT because a statement had failed
 * @throws {ConnectionLostError} when the connection was lost before the commit was confirmed
 */
export async function runTransaction<T>(
  reservations: Reservations,
  context: Context,
  work: (tx: PostgresTransaction) => Promise<T>,
  store = "PostgreSQL",
): Promise<{ result: T; transactionId: string | undefined }> {
  let connection: ReservedConnection;
  try {
    connection = await reservations.reserve();
  } catch (error) {
    throw lostOr(error, "transaction", store);
  }
  let tx: PostgresTransaction | undefined;
  const lost = (error: unknown): ConnectionLostError =>
    new ConnectionLostError(tx?.inserting ? "append" : "transaction", {
      cause: connection.cause ?? error,
      mayHaveCommitted: connection.commitSent,
      store,
    });
  try {
    const begun = connection.first("BEGIN ISOLATION LEVEL READ COMMITTED").then(() => undefined);
    // Settled below in every path; this only keeps an early failure from being "unhandled".
    begun.catch(() => {});
    tx = new PostgresTransaction(transactionHandle(connection), context, begun, connection);
    let result: T;
    try {
      result = await work(tx);
      await begun;
      const done = tx.committed ? undefined : await connection.commit(connection.sql`COMMIT`);
      if (done !== undefined && done.command !== "COMMIT") {
        throw new EventInsertionError(
          "PostgreSQL rolled the transaction back at COMMIT because a statement in it failed; nothing was written",
        );
      }
    } catch (error) {
      if (connection.lost || isConnectionFailure(error)) throw lost(error);
      await connection.sql`ROLLBACK`.catch(() => {});
      throw error;
    }
    return { result, transactionId: tx.transactionId };
  } finally {
    connection.release();
  }
}
