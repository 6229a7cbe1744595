/**
 * The SQLite write transaction handed to the store's append: every call runs on the
 * write connection, inside `BEGIN IMMEDIATE`.
 *
 * Positions are the rowid, which SQLite gives as one past the highest one left. When a
 * removal or truncation takes the last events of the log, the transaction's next insert
 * therefore names its first position itself, so positions a reader may have seen are
 * never given again (`deleteStream` always appends its record in the same transaction).
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
  type StreamMetadata,
} from "../../contract/mod.ts";
import { StreamTombstonedError } from "../../contract/signals.ts";
import type { Codec } from "../codec.ts";
import type { _Connection, _Statement, SqliteDatabase, SqliteValue } from "./database.ts";
import { parkEvent, setCheckpoint, unparkEvent } from "./_subscriptions.ts";
import { applyRelations } from "./_relations.ts";
import { insertKey } from "./_keys.ts";
import { checkKey, checkSubject } from "../_key_input.ts";
import {
  cutStream,
  deleteStream,
  headPosition,
  keepPositionFloor,
  streamFloor,
  takePositionFloor,
  writeStreamMetadata,
} from "./_lifecycle.ts";
import { CHUNK, EVENTS, EXISTING, FAR, INSERT_INTO, INSERT_ROW, LATEST_CREATED } from "./_sql.ts";

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
  /** The position the next insert must start at, after this transaction removed the log's last events (0: none). */
  #resume = 0;

  constructor(owner: object, connection: _Connection, codec: Codec, source: string) {
    this.owner = owner;
    this.#connection = connection;
    this.#codec = codec;
    this.#source = source;
  }

  get handle(): THandle {
    return this.#connection.raw as THandle;
  }

  /**
   * The current revision of each stream: the highest stored one, or the floor recorded
   * when its events were removed, whichever is higher.
   *
   * @throws {StreamTombstonedError} (as a rejection) when one of the streams is tombstoned
   */
  revisions(streams: readonly string[]): Promise<Map<string, number>> {
    this.#assertActive();
    const revisions = new Map<string, number>();
    for (const stream of streams) {
      const floor = streamFloor(this.#connection, stream);
      if (floor.tombstoned) return Promise.reject(new StreamTombstonedError(stream));
      revisions.set(stream, floor.revision);
    }
    return Promise.resolve(revisions);
  }

  /**
   * Removes the events, snapshots and relations of `stream` and records its floor.
   *
   * @param stream the stream
   * @param options its current revision, and whether it takes appends again
   */
  removeStream(
    stream: string,
    options: { readonly revision: number; readonly tombstone: boolean },
  ): Promise<void> {
    this.#assertActive();
    // `deleteStream` inserts its record in this same transaction, right after.
    this.#keepingPositions(
      () => deleteStream(this.#connection, stream, options.revision, options.tombstone),
      false,
    );
    return Promise.resolve();
  }

  /**
   * Removes the events of `stream` below revision `before`.
   *
   * @param stream the stream
   * @param before the first revision to keep
   * @returns how many events were removed
   */
  truncateStream(stream: string, before: number): Promise<number> {
    this.#assertActive();
    return Promise.resolve(this.#keepingPositions(() => cutStream(this.#connection, stream, before), true));
  }

  /**
   * Stores the metadata of `stream`, replacing what it had.
   *
   * @param stream the stream
   * @param metadata its rules
   */
  setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    this.#assertActive();
    writeStreamMetadata(this.#connection, stream, metadata);
    return Promise.resolve();
  }

  /**
   * Stores each key unless its subject has one, in this transaction.
   *
   * @param keys subject to key
   * @returns the key each subject has now
   */
  createKeys(keys: ReadonlyMap<string, Uint8Array>): Promise<Map<string, Uint8Array>> {
    this.#assertActive();
    const out = new Map<string, Uint8Array>();
    for (const [subject, key] of keys) {
      checkSubject(subject);
      checkKey(key);
      out.set(subject, insertKey(this.#connection, subject, key));
    }
    return Promise.resolve(out);
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
      if (this.#first < 0) {
        // A truncation of the log's last events in an earlier transaction left a floor; a
        // removal in this one may have lowered the head further: continue after both.
        const floor = takePositionFloor(connection);
        if (floor > 0 && headPosition(connection) < floor) this.#resume = Math.max(this.#resume, floor + 1);
      }
      let changes: number;
      try {
        if (this.#resume > 0) {
          changes = resumingInsertStatement(connection, size).run([this.#resume, ...params]);
          this.#resume = 0;
        } else {
          changes = insertStatement(connection, size).run(params);
        }
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

  /**
   * Runs a removal; when it took the last events of the log, the next insert continues
   * after them: this transaction's, or (`later`) the next one's, through the floor kept in
   * `eventfold_meta`.
   */
  #keepingPositions<T>(remove: () => T, later: boolean): T {
    const head = headPosition(this.#connection);
    const result = remove();
    if (head > 0 && headPosition(this.#connection) < head) {
      this.#resume = Math.max(this.#resume, head + 1);
      if (later) keepPositionFloor(this.#connection, head);
    }
    return result;
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

/**
 * The INSERT of `size` rows whose first row names its position (the others follow it), for
 * an insert after the log's last events were removed. Rare: prepared through the
 * connection's cache.
 */
function resumingInsertStatement(connection: _Connection, size: number): _Statement {
  const rest = INSERT_ROW.slice(1);
  return connection.statement(
    INSERT_INTO.replace("(id,", "(position, id,") + `(?, ${rest}` + `, (NULL, ${rest}`.repeat(size - 1),
  );
}
