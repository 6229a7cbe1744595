/**
 * The database shape the SQLite store talks to, and the one internal wrapper that hides
 * the differences between drivers. `node:sqlite`'s `DatabaseSync` is the driver the store
 * opens itself; a database opened with `@db/sqlite` or `better-sqlite3` fits the same
 * {@linkcode SqliteDatabase} shape and can be handed in.
 *
 * @module
 */

/** A value SQLite binds or returns. */
export type SqliteValue = null | number | bigint | string | Uint8Array;

/**
 * A prepared statement, as `node:sqlite`, `@db/sqlite` and `better-sqlite3` all have it.
 * Only `run`, `get` and `all` with positional parameters are required; the store uses
 * `setReturnArrays` (`node:sqlite`), `raw` (`better-sqlite3`) or `values` (`@db/sqlite`)
 * when present, to read rows as arrays.
 */
export interface SqliteStatement {
  /** Runs the statement. Returns `{ changes, lastInsertRowid }` or the number of changes. */
  run(...params: SqliteValue[]): unknown;
  /** The first row as an object keyed by column name, or `undefined`. */
  get(...params: SqliteValue[]): unknown;
  /** All rows as objects keyed by column name. */
  all(...params: SqliteValue[]): unknown[];
}

/**
 * An open SQLite database: `node:sqlite`'s `DatabaseSync`, or a database from
 * `@db/sqlite` or `better-sqlite3`, which all have this shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 * import { SqliteAdapter, type SqliteDatabase } from "@eventfold/eventfold/sqlite";
 * const db = new DatabaseSync(":memory:");
 * const shape: SqliteDatabase = db; // better-sqlite3 and @db/sqlite databases fit too
 * const adapter = new SqliteAdapter(shape);
 * assert.equal(adapter.location, ":memory:");
 * await adapter.close(); // db stays open: the caller opened it
 * db.close();
 * ```
 */
export interface SqliteDatabase {
  /** Runs one or more statements that return nothing. */
  exec(sql: string): unknown;
  /** Prepares a statement. */
  prepare(sql: string): SqliteStatement;
}

type RawStatement = SqliteStatement & {
  setReturnArrays?(enabled: boolean): void;
  raw?(enabled?: boolean): unknown;
  values?(...params: SqliteValue[]): unknown[][];
};

type RunResult = { changes?: number | bigint; lastInsertRowid?: number | bigint };

/**
 * One statement on a {@linkcode _Connection}, read as arrays of column values whatever the
 * driver, so the store's row code has one shape and no per-row key lookups.
 */
export class _Statement {
  readonly #connection: _Connection;
  readonly #raw: RawStatement;
  readonly #mode: "arrays" | "values" | "objects";

  constructor(connection: _Connection, raw: RawStatement, rows: boolean) {
    this.#connection = connection;
    this.#raw = raw;
    if (rows && typeof raw.setReturnArrays === "function") {
      raw.setReturnArrays(true);
      this.#mode = "arrays";
    } else if (rows && typeof raw.raw === "function") {
      raw.raw(true);
      this.#mode = "arrays";
    } else if (rows && typeof raw.values === "function") {
      this.#mode = "values";
    } else {
      this.#mode = "objects";
    }
  }

  /** Runs a statement that returns no rows; returns the number of changed rows. */
  run(params: readonly SqliteValue[]): number {
    const result = this.#raw.run(...params) as RunResult | number;
    if (typeof result === "object" && result !== null && result.lastInsertRowid !== undefined) {
      this.#connection.lastRowid = Number(result.lastInsertRowid);
      return Number(result.changes);
    }
    // Drivers that return only a count (or nothing) are asked for the row id in SQL.
    const [changes, rowid] = this.#connection.changes();
    this.#connection.lastRowid = rowid;
    return changes;
  }

  /** All rows, each an array of column values in the statement's column order. */
  rows(params: readonly SqliteValue[]): unknown[][] {
    switch (this.#mode) {
      case "arrays":
        return this.#raw.all(...params) as unknown[][];
      case "values":
        return this.#raw.values!(...params);
      default:
        return this.#raw.all(...params).map((row) => Object.values(row as Record<string, unknown>));
    }
  }

  /** The first row as an array of column values, or `undefined`. */
  row(params: readonly SqliteValue[]): unknown[] | undefined {
    switch (this.#mode) {
      case "arrays":
        return this.#raw.get(...params) as unknown[] | undefined;
      case "values":
        return this.#raw.values!(...params)[0];
      default: {
        const row = this.#raw.get(...params) as Record<string, unknown> | undefined;
        return row === undefined ? undefined : Object.values(row);
      }
    }
  }
}

/**
 * The store's view of one database connection: `exec`, cached prepared statements and the
 * last inserted row id, the same for every driver.
 */
export class _Connection {
  /** The driver's database object, given to in-transaction listeners. */
  readonly raw: SqliteDatabase;
  /** The row id of the last row inserted by {@linkcode _Statement.run}. */
  lastRowid = 0;
  readonly #statements = new Map<string, _Statement>();
  #changes: _Statement | undefined;

  constructor(raw: SqliteDatabase) {
    this.raw = raw;
  }

  /** Runs SQL that returns nothing. */
  exec(sql: string): void {
    this.raw.exec(sql);
  }

  /**
   * A prepared statement, made once per connection and SQL text.
   *
   * @param sql the statement
   * @param rows whether it returns rows (read as arrays)
   */
  statement(sql: string, rows = false): _Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = new _Statement(this, this.raw.prepare(sql) as RawStatement, rows);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** `changes()` and `last_insert_rowid()` for drivers whose `run` reports neither. */
  changes(): [number, number] {
    this.#changes ??= this.statement("SELECT changes(), last_insert_rowid()", true);
    const row = this.#changes.row([])!;
    return [Number(row[0]), Number(row[1])];
  }

  /** Forgets the cached statements (before the database closes). */
  clear(): void {
    this.#statements.clear();
    this.#changes = undefined;
  }
}
