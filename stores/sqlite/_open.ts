/**
 * Opening and configuring SQLite connections, and the errors that say why a file cannot
 * be opened. Opening a store: a file gets a write and a read connection, `":memory:"`
 * and a handed-in database one; the schema is created or migrated on the writer.
 *
 * @module
 */

import { statSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { StoreOpenError } from "../../errors.ts";
import { type Codec, resolveCodec } from "../codec.ts";
import { _Connection, type SqliteDatabase } from "./database.ts";
import { prepareSchema } from "./schema.ts";
import { DEFAULT_BUSY_TIMEOUT, DEFAULT_WATCH_INTERVAL } from "./_sql.ts";

/** Opens a connection to a file (or `":memory:"`), as a `StoreOpenError` that says why when it cannot. */
export function openFile(path: string): _Connection {
  try {
    return new _Connection(new DatabaseSync(path));
  } catch (error) {
    throw openError(path, error);
  }
}

/** How a connection is set up. */
export interface Configuration {
  /** Whether it is `":memory:"` (no WAL). */
  readonly memory: boolean;
  /** The busy timeout to set, in ms (kept as it is when undefined). */
  readonly busyTimeout: number | undefined;
  /** The durability to set (kept as it is when undefined). */
  readonly durability?: "normal" | "full";
  /** Whether it is the read connection (`query_only`). */
  readonly reader?: boolean;
}

/** Sets a connection up: busy timeout, WAL for a file, read-only for a reader, durability. */
export function configure(connection: _Connection, configuration: Configuration): void {
  if (configuration.busyTimeout !== undefined) {
    connection.exec(`PRAGMA busy_timeout = ${configuration.busyTimeout}`);
  }
  // Reading the mode first touches the file, so a file that is not a database fails here.
  const mode = String(connection.statement("PRAGMA journal_mode", true).row([])![0]).toLowerCase();
  if (!configuration.memory && mode !== "wal") connection.exec("PRAGMA journal_mode = WAL");
  if (configuration.reader) connection.exec("PRAGMA query_only = 1");
  if (configuration.durability !== undefined) {
    connection.exec(`PRAGMA synchronous = ${configuration.durability === "full" ? "FULL" : "NORMAL"}`);
  }
}

/** A driver failure to open `path`, as a `StoreOpenError` in words (not a database, no directory). */
export function openError(path: string, error: unknown): StoreOpenError {
  const message = String((error as Error)?.message ?? error);
  let reason = message;
  if (/not a database|file is encrypted/i.test(message)) {
    reason = "it is not a SQLite database";
  } else if (/unable to open/i.test(message)) {
    const directory = dirname(path);
    reason = exists(directory)
      ? `the file cannot be opened (${message})`
      : `its directory ${directory} does not exist`;
  }
  return new StoreOpenError(path, reason, { cause: error });
}

/** Whether `path` exists. */
export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Rolls back, ignoring that SQLite may have done it already. */
export function rollback(connection: _Connection): void {
  try {
    connection.exec("ROLLBACK");
  } catch {
    // SQLite already rolled back (an I/O or full-disk error ends the transaction itself).
  }
}

/** Closes a connection, ignoring that it may be closed already. */
export function closeQuietly(connection: _Connection): void {
  try {
    (connection.raw as unknown as { close(): void }).close();
  } catch {
    // Already closed.
  }
}

/** Whether `value` looks like an open SQLite database (it has `exec` and `prepare`). */
export function isDatabase(value: unknown): value is SqliteDatabase {
  return typeof value === "object" && value !== null &&
    typeof (value as SqliteDatabase).exec === "function" &&
    typeof (value as SqliteDatabase).prepare === "function";
}

/** What `value` is, for a message about a wrong argument. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an object without exec() and prepare()`;
  return typeof value;
}

/**
 * A duration option, checked.
 *
 * @throws {RangeError} for a negative or fractional number
 */
export function milliseconds(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a whole number of milliseconds (0 or more), got ${value}`);
  }
  return value;
}

/** The options of a store, as `SqliteAdapter` takes them. */
export interface StoreOptions {
  /** The codec asked for. */
  readonly codec?: "cbor" | "json" | Codec;
  /** The durability asked for. */
  readonly durability?: "normal" | "full";
  /** The busy timeout asked for, in ms. */
  readonly busyTimeout?: number;
  /** The watch interval asked for, in ms. */
  readonly watchInterval?: number;
}

/** An opened store: its connections and settings. */
export interface OpenedStore {
  /** The file path, `":memory:"`, or the path of a handed-in database. */
  readonly location: string;
  /** Whether the adapter opened the database (and so closes it). */
  readonly owned: boolean;
  /** The write connection. */
  readonly writer: _Connection;
  /** The read connection (the writer itself for `":memory:"` and a handed-in database). */
  readonly reader: _Connection;
  /** The codec recorded in the file. */
  readonly codec: Codec;
  /** How long a writer waits for another's write lock, in ms. */
  readonly busyTimeout: number;
  /** Whether the writer waits for the write lock in the adapter (true) or in SQLite's busy handler. */
  readonly asyncBusy: boolean;
  /** How often `watch` checks for commits, in ms. */
  readonly watchInterval: number;
}

/**
 * Opens (and on first use creates) a store: a file path, `":memory:"`, or an open database.
 *
 * @param database the path or the database
 * @param options codec, durability, busy timeout, watch interval
 * @returns the connections and settings
 * @throws {StoreOpenError} when the file cannot be opened or its schema or codec do not fit
 * @throws {TypeError} for an unknown codec or durability, or a `database` of another kind
 * @throws {RangeError} for a negative or fractional busy timeout or watch interval
 */
export function openStore(database: string | SqliteDatabase, options: StoreOptions): OpenedStore {
  const requested = options.codec === undefined ? undefined : resolveCodec(options.codec);
  const durability = options.durability;
  if (durability !== undefined && durability !== "normal" && durability !== "full") {
    throw new TypeError(`Unknown durability ${JSON.stringify(durability)}: expected "normal" or "full"`);
  }
  const busyTimeout = milliseconds("busyTimeout", options.busyTimeout);
  const watchInterval = milliseconds("watchInterval", options.watchInterval) ?? DEFAULT_WATCH_INTERVAL;
  if (watchInterval === 0) throw new RangeError("watchInterval must be at least 1 ms");
  if (typeof database === "string") {
    if (database === "") throw new TypeError('Expected a file path or ":memory:", got an empty string');
    return openPath(database, { requested, durability, busyTimeout, watchInterval });
  }
  if (isDatabase(database)) return adopt(database, { requested, durability, busyTimeout, watchInterval });
  throw new TypeError(
    `Expected a file path, ":memory:" or an open SQLite database (with exec() and prepare()), got ${
      describe(database)
    }`,
  );
}

/** The checked options. */
interface Checked {
  readonly requested: Codec | undefined;
  readonly durability: "normal" | "full" | undefined;
  readonly busyTimeout: number | undefined;
  readonly watchInterval: number;
}

function openPath(path: string, checked: Checked): OpenedStore {
  const memory = path === ":memory:";
  const busyTimeout = checked.busyTimeout ?? DEFAULT_BUSY_TIMEOUT;
  const writer = openFile(path);
  let reader: _Connection | undefined;
  try {
    configure(writer, { memory, busyTimeout, durability: checked.durability ?? "normal" });
    const codec = prepareSchema(writer, { source: path, codec: checked.requested });
    reader = memory ? writer : openFile(path);
    if (!memory) {
      configure(reader, { memory, busyTimeout, reader: true });
      // From here on the writer waits for other processes asynchronously (see `begin`).
      writer.exec("PRAGMA busy_timeout = 0");
    }
    return {
      location: path,
      owned: true,
      writer,
      reader,
      codec,
      busyTimeout,
      asyncBusy: !memory,
      watchInterval: checked.watchInterval,
    };
  } catch (error) {
    if (reader !== undefined && reader !== writer) closeQuietly(reader);
    closeQuietly(writer);
    throw error instanceof StoreOpenError ? error : openError(path, error);
  }
}

function adopt(database: SqliteDatabase, checked: Checked): OpenedStore {
  const connection = new _Connection(database);
  let source = "SQLite database";
  try {
    const file = connection.statement("PRAGMA database_list", true).rows([]).find((row) => row[1] === "main");
    source = file === undefined || file[2] === "" ? ":memory:" : String(file[2]);
    const current = Number(connection.statement("PRAGMA busy_timeout", true).row([])![0]);
    // A handed-in database keeps its own busy timeout unless it has none or one is asked for.
    const busyTimeout = checked.busyTimeout ?? (current > 0 ? current : DEFAULT_BUSY_TIMEOUT);
    configure(connection, { memory: source === ":memory:", busyTimeout, durability: checked.durability });
    const codec = prepareSchema(connection, { source, codec: checked.requested });
    return {
      location: source,
      owned: false,
      writer: connection,
      reader: connection,
      codec,
      busyTimeout,
      asyncBusy: false,
      watchInterval: checked.watchInterval,
    };
  } catch (error) {
    throw error instanceof StoreOpenError ? error : openError(source, error);
  }
}
