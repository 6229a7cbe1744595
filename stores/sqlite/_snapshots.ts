/**
 * The SQL behind snapshots on SQLite: one row per (name, stream), replaced on save.
 *
 * @module
 */

import type { Snapshot } from "../../contract/mod.ts";
import type { Codec } from "../codec.ts";
import type { _Connection, SqliteValue } from "./database.ts";

/**
 * The snapshot saved as (`name`, `stream`). One whose state no longer decodes is reported
 * as missing, so the state is rebuilt from the events (and saved anew).
 *
 * @param reader the connection
 * @param codec the file's codec
 * @param name reducer or aggregate name
 * @param stream stream or relation key
 * @returns the snapshot, or `undefined`
 */
export function readSnapshot(
  reader: _Connection,
  codec: Codec,
  name: string,
  stream: string,
): Snapshot | undefined {
  const row = reader.statement(
    "SELECT state, revision, position, version FROM eventfold_snapshots WHERE name = ? AND stream = ?",
    true,
  ).row([name, stream]);
  if (row === undefined) return undefined;
  let state: unknown;
  try {
    state = codec.decode(row[0] as Uint8Array);
  } catch {
    return undefined;
  }
  return {
    name,
    stream,
    state,
    revision: row[1] === null ? null : Number(row[1]),
    position: row[2] as string | null,
    version: Number(row[3]),
  };
}

/**
 * Saves a snapshot, replacing the one with the same name and stream.
 *
 * @param writer the write connection
 * @param snapshot the snapshot
 * @param state its state, encoded
 */
export function writeSnapshot(writer: _Connection, snapshot: Snapshot, state: SqliteValue): void {
  writer.statement(
    "INSERT INTO eventfold_snapshots (name, stream, state, revision, position, version) VALUES (?, ?, ?, ?, ?, ?) " +
      "ON CONFLICT (name, stream) DO UPDATE SET state = excluded.state, revision = excluded.revision, " +
      "position = excluded.position, version = excluded.version",
  ).run([snapshot.name, snapshot.stream, state, snapshot.revision, snapshot.position, snapshot.version]);
}

/**
 * Removes a snapshot (nothing happens when there is none).
 *
 * @param writer the write connection
 * @param name reducer or aggregate name
 * @param stream stream or relation key
 */
export function removeSnapshot(writer: _Connection, name: string, stream: string): void {
  writer.statement("DELETE FROM eventfold_snapshots WHERE name = ? AND stream = ?").run([name, stream]);
}
