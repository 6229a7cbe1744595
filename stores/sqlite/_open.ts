/**
 * Opening and configuring SQLite connections, and the errors that says why a file cannot
 * be opened.
 *
 * @module
 */

import { statSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { StoreOpenError } from "../../errors.ts";
import { _Connection, type SqliteDatabase } from "./database.ts";

export function openFile(path: string): _Connection {
  try {
    return new _Connection(new DatabaseSync(path));
  } catch (error) {
    throw openError(path, error);
  }
}

export interface Configuration {
  readonly memory: boolean;
  readonly busyTimeout: number | undefined;
  readonly durability?: "normal" | "full";
  readonly reader?: boolean;
}

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

export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

export function rollback(connection: _Connection): void {
  try {
    connection.exec("ROLLBACK");
  } catch {
    // SQLite already rolled back (an I/O or full-disk error ends the transaction itself).
  }
}

export function closeQuietly(connection: _Connection): void {
  try {
    (connection.raw as unknown as { close(): void }).close();
  } catch {
    // Already closed.
  }
}

export function isDatabase(value: unknown): value is SqliteDatabase {
  return typeof value === "object" && value !== null &&
    typeof (value as SqliteDatabase).exec === "function" &&
    typeof (value as SqliteDatabase).prepare === "function";
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an object without exec() and prepare()`;
  return typeof value;
}

export function milliseconds(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a whole number of milliseconds (0 or more), got ${value}`);
  }
  return value;
}
