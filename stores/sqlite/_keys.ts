/**
 * The SQL behind key storage on SQLite: the data key of each subject, one row in
 * `eventfold_keys`. A key is deleted with `secure_delete` on, so SQLite overwrites the
 * freed bytes in the page it writes; a WAL checkpoint afterwards (see
 * {@linkcode checkpointQuietly}) carries that page into the database file and empties the
 * WAL, whose older frames still hold the key.
 *
 * @module
 */

import type { _Connection } from "./database.ts";

/** The table of data keys. */
export const KEYS = "eventfold_keys";

const READ = `SELECT subject, key FROM ${KEYS} WHERE subject IN (SELECT value FROM json_each(?))`;
const READ_ONE = `SELECT key FROM ${KEYS} WHERE subject = ?`;
const INSERT = `INSERT INTO ${KEYS} (subject, key) VALUES (?, ?) ON CONFLICT (subject) DO NOTHING`;
const DELETE = `DELETE FROM ${KEYS} WHERE subject = ?`;

/** A fresh copy of stored key bytes, so callers never share a driver's buffer. */
function copy(bytes: unknown): Uint8Array {
  return new Uint8Array(bytes as Uint8Array);
}

/**
 * The keys of the subjects that have one.
 *
 * @param reader the connection
 * @param subjects the subjects
 * @returns subject to key (fresh copies), subjects without a key left out
 */
export function readKeys(reader: _Connection, subjects: readonly string[]): Map<string, Uint8Array> {
  const rows = reader.statement(READ, true).rows([JSON.stringify(subjects)]);
  return new Map(rows.map((row) => [row[0] as string, copy(row[1])]));
}

/**
 * Stores `key` for `subject` unless it has one, and reads the one it has now.
 *
 * @param writer the write connection, in a transaction
 * @param subject the subject
 * @param key the key
 * @returns the stored key: `key`, or the one stored before
 */
export function insertKey(writer: _Connection, subject: string, key: Uint8Array): Uint8Array {
  writer.statement(INSERT).run([subject, key]);
  return copy(writer.statement(READ_ONE, true).row([subject])![0]);
}

/**
 * Deletes the key of `subject` with `secure_delete` on (set back as it was afterwards),
 * so the page SQLite writes holds zeros where the key was.
 *
 * @param writer the write connection, in a transaction
 * @param subject the subject
 * @returns whether a key was deleted
 */
export function removeKey(writer: _Connection, subject: string): boolean {
  const before = Number(writer.statement("PRAGMA secure_delete", true).row([])![0]);
  writer.exec("PRAGMA secure_delete = ON");
  try {
    return writer.statement(DELETE).run([subject]) > 0;
  } finally {
    writer.exec(`PRAGMA secure_delete = ${before === 2 ? "FAST" : before === 0 ? "OFF" : "ON"}`);
  }
}

/**
 * Copies the WAL into the database file and truncates it, so no older frame keeps a
 * deleted key. Best effort: when another connection's reader or writer is in the way, the
 * WAL's old frames stay until a later checkpoint overwrites them.
 *
 * @param writer the write connection, outside any transaction
 * @returns whether the checkpoint completed
 */
export function checkpointQuietly(writer: _Connection): boolean {
  try {
    const row = writer.statement("PRAGMA wal_checkpoint(TRUNCATE)", true).row([]);
    return row === undefined || Number(row[0]) === 0;
  } catch {
    return false;
  }
}
