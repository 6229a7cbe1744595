/**
 * The SQLite write transaction handed to the store's append: every call runs on the
 * write connection, inside `BEGIN IMMEDIATE`.
 *
 * @module
 */

import { EventInsertionError } from "../../errors.ts";
import type { EventRecord } from "../../events/record.ts";
import {
  type AdapterTransaction,
  type CheckpointUpdate,
  DuplicateIdError,
  formatPosition,
  type InsertableRecord,
  type ParkedEvent,
  type RelationChange,
  RevisionConflictError,
} from "../../contract/mod.ts";
import type { Codec } from "../codec.ts";
import type { _Connection, _Statement, SqliteDatabase, SqliteValue } from "./database.ts";
import { parkEvent, setCheckpoint, unparkEvent } from "./_subscriptions.ts";
import { applyRelations } from "./_relations.ts";
import { CHUNK, EVENTS, EXISTING, FAR, INSERT_INTO, INSERT_ROW, LATEST_CREATED, REVISION } from "./_sql.ts";

/** The transaction handed to `work`: every call runs on the write connection, inside `BEGIN IMMEDIATE`. */
export class SqliteTransaction<THandle extends SqliteDatabase> implements AdapterTransaction<THandle> {
  /** Whose transaction it is (the adapter's connections): calls of another adapter never join it. */
  readonly owner: object;
  /** Cleared when the transaction commits or rolls back: later calls are refused. */
  active = true;
  readonly #connection: _Connection;
  readonly #codec: Codec;
  readonly #source: string;
  /** The position of this transaction's first inserted event (to tell its rows from older ones). */
  #first = -1;

  constructor(owner: object, connection: _Connection, codec: Codec, source: string) {
    this.owner = owner;
    this.#connection = connection;
    this.#codec = codec;
    this.#source = source;
  }

  get handle(): THandle {
    return this.#connection.raw as THandle;
  }

  revisions(streams: readonly string[]): Promise<Map<string, number>> {
    this.#assertActive();
    const statement = this.#connection.statement(REVISION, true);
    const revisions = new Map<string, number>();
    for (const stream of streams) {
      const revision = statement.row([stream])![0];
      revisions.set(stream, revision === null ? 0 : Number(revision));
    }
    return Promise.resolve(revisions);
  }

  existing(ids: readonly string[]): Promise<Set<string>> {
    this.#assertActive();
    if (ids.length === 0) return Promise.resolve(new Set());
    const rows = this.#connection.statement(EXISTING, true).rows([JSON.stringify(ids)]);
    return Promise.resolve(new Set(rows.map((row) => row[0] as string)));
  }

  latestCreated(stream: string, type: string): Promise<string | null> {
    this.#assertActive();
    const row = this.#connection.statement(LATEST_CREATED, true).row([stream, type]);
    return Promise.resolve((row?.[0] as string | null | undefined) ?? null);
  }

  insert(records: readonly InsertableRecord[]): Promise<EventRecord[]> {
    this.#assertActive();
    const total = records.length;
    const stored = new Array<EventRecord>(total);
    const recorded = new Date().toISOString();
    const connection = this.#connection;
    const codec = this.#codec;
    for (let done = 0; done < total;) {
      const size = Math.min(total - done, CHUNK);
      const params = new Array<SqliteValue>(size * 11);
      let field = "data";
      let index = done;
      try {
        for (let o = 0; index < done + size; index++) {
          const record = records[index];
          params[o++] = record.id;
          params[o++] = record.stream;
          params[o++] = record.type;
          params[o++] = record.revision;
          field = "data";
          params[o++] = record.data == null ? null : codec.encode(record.data);
          field = "meta";
          params[o++] = record.meta == null ? null : codec.encode(record.meta);
          params[o++] = record.created;
          params[o++] = recorded;
          params[o++] = record.outdated ? 1 : 0;
          params[o++] = record.imported ? 1 : 0;
          params[o++] = record.version ?? 1;
        }
      } catch (error) {
        const record = records[index];
        return Promise.reject(
          new EventInsertionError(
            `Cannot encode ${field} of event ${record.id} (${record.type}) with the ${codec.name} codec: ${
              (error as Error)?.message ?? error
            }`,
            { cause: error },
          ),
        );
      }
      let changes: number;
      try {
        changes = insertStatement(connection, size).run(params);
      } catch (error) {
        return Promise.reject(this.#failure(error, records));
      }
      if (changes !== size) {
        return Promise.reject(
          new EventInsertionError(`Inserted ${changes} of ${size} events into ${this.#source}; expected all`),
        );
      }
      let position = connection.lastRowid - size + 1;
      if (this.#first < 0) this.#first = position;
      for (let i = done; i < done + size; i++) {
        const record = records[i];
        stored[i] = {
          id: record.id,
          stream: record.stream,
          type: record.type,
          data: record.data ?? null,
          meta: record.meta ?? null,
          revision: record.revision,
          position: formatPosition(position++),
          created: record.created,
          recorded,
          outdated: record.outdated,
          imported: record.imported === true,
          version: record.version ?? 1,
        };
      }
      done += size;
    }
    return Promise.resolve(stored);
  }

  updateRelations(changes: readonly RelationChange[]): Promise<void> {
    this.#assertActive();
    applyRelations(this.#connection, changes);
    return Promise.resolve();
  }

  putCheckpoint(name: string, expected: string | null, next: CheckpointUpdate): Promise<boolean> {
    this.#assertActive();
    return Promise.resolve(setCheckpoint(this.#connection, this.#codec, name, expected, next));
  }

  parkEvent(event: ParkedEvent): Promise<void> {
    this.#assertActive();
    parkEvent(this.#connection, event);
    return Promise.resolve();
  }

  unparkEvent(name: string, id: string): Promise<boolean> {
    this.#assertActive();
    return Promise.resolve(unparkEvent(this.#connection, name, id));
  }

  #assertActive(): void {
    if (!this.active) {
      throw new TypeError("This SQLite transaction has ended; use the tx of a running transaction");
    }
  }

  /** Explains a failed insert: an existing id, a taken revision, or a driver failure. */
  #failure(error: unknown, records: readonly InsertableRecord[]): Error {
    const message = String((error as Error)?.message ?? error);
    const before = this.#first < 0 ? FAR : this.#first;
    if (message.includes(`${EVENTS}.id`)) {
      const found = new Set(
        this.#connection.statement(
          `SELECT id FROM ${EVENTS} WHERE id IN (SELECT value FROM json_each(?)) AND position < ?`,
          true,
        ).rows([JSON.stringify(records.map((record) => record.id)), before]).map((row) => row[0] as string),
      );
      if (found.size > 0) return new DuplicateIdError(records.map((r) => r.id).filter((id) => found.has(id)));
      return new EventInsertionError(`The same event id appears twice in one append to ${this.#source}`, {
        cause: error,
      });
    }
    if (message.includes(`${EVENTS}.stream`)) {
      const taken = this.#connection.statement(
        `SELECT 1 FROM ${EVENTS} WHERE stream = ? AND revision = ? AND position < ?`,
        true,
      );
      const moved = records.find((record) =>
        taken.row([record.stream, record.revision, before]) !== undefined
      );
      if (moved !== undefined) return new RevisionConflictError(moved.stream, { cause: error });
      return new EventInsertionError(
        `The same stream revision appears twice in one append to ${this.#source}`,
        {
          cause: error,
        },
      );
    }
    return new EventInsertionError(`Cannot insert events into ${this.#source}: ${message}`, { cause: error });
  }
}

const insertStatements = new WeakMap<_Connection, _Statement[]>();

/** The INSERT of `size` rows on `connection`, prepared once (a lookup by SQL text would hash kilobytes per call). */
export function insertStatement(connection: _Connection, size: number): _Statement {
  let statements = insertStatements.get(connection);
  if (statements === undefined) insertStatements.set(connection, statements = []);
  return statements[size] ??= connection.statement(
    INSERT_INTO + Array.from({ length: size }, () => INSERT_ROW).join(", "),
  );
}
