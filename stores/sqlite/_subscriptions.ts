/**
 * The SQL behind subscription storage on SQLite: checkpoints (read, compare-and-set,
 * delete), parked events and lease rows. Each function runs on the connection it is given, so the adapter and its
 * transactions share them (inside a transaction they commit with it).
 *
 * @module
 */

import { DecodeError } from "../../errors.ts";
import type { Checkpoint, CheckpointUpdate, ParkedEvent } from "../../contract/mod.ts";
import type { Codec } from "../codec.ts";
import type { _Connection } from "./database.ts";

const CHECKPOINT_COLUMNS = "name, position, updated, state, version";

function checkpointOf(row: unknown[], codec: Codec, location: string): Checkpoint {
  const checkpoint: { -readonly [K in keyof Checkpoint]: Checkpoint[K] } = {
    name: row[0] as string,
    position: row[1] as string | null,
    updated: row[2] as string,
  };
  if (row[3] !== null) {
    try {
      checkpoint.state = codec.decode(row[3] as Uint8Array);
    } catch (error) {
      throw new DecodeError(checkpoint.position ?? "(none)", `state of checkpoint "${checkpoint.name}"`, {
        cause: error,
        source: location,
      });
    }
  }
  if (row[4] !== null) checkpoint.version = Number(row[4]);
  return checkpoint;
}

/**
 * The checkpoint called `name`.
 *
 * @returns the checkpoint, or `undefined`
 * @throws {DecodeError} when its saved state does not decode
 */
export function readCheckpoint(
  reader: _Connection,
  codec: Codec,
  location: string,
  name: string,
): Checkpoint | undefined {
  const row = reader.statement(`SELECT ${CHECKPOINT_COLUMNS} FROM eventfold_checkpoints WHERE name = ?`, true)
    .row([name]);
  return row === undefined ? undefined : checkpointOf(row, codec, location);
}

/**
 * All checkpoints, by name.
 *
 * @throws {DecodeError} when a saved state does not decode
 */
export function readCheckpoints(reader: _Connection, codec: Codec, location: string): Checkpoint[] {
  const rows = reader.statement(`SELECT ${CHECKPOINT_COLUMNS} FROM eventfold_checkpoints ORDER BY name`, true)
    .rows([]);
  return rows.map((row) => checkpointOf(row, codec, location));
}

/** Removes a checkpoint (nothing happens when there is none). */
export function removeCheckpoint(writer: _Connection, name: string): void {
  writer.statement("DELETE FROM eventfold_checkpoints WHERE name = ?").run([name]);
}

/**
 * Sets checkpoint `name` to `next` if it is at `expected` now, in one statement.
 *
 * @returns whether it was set
 */
export function setCheckpoint(
  connection: _Connection,
  codec: Codec,
  name: string,
  expected: string | null,
  next: CheckpointUpdate,
): boolean {
  const state = next.state === undefined ? null : codec.encode(next.state);
  const version = next.version ?? null;
  const updated = new Date().toISOString();
  if (expected === null) {
    return connection.statement(
      "INSERT INTO eventfold_checkpoints (name, position, updated, state, version) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated = excluded.updated, " +
        "state = excluded.state, version = excluded.version WHERE eventfold_checkpoints.position IS NULL",
    ).run([name, next.position, updated, state, version]) === 1;
  }
  return connection.statement(
    "UPDATE eventfold_checkpoints SET position = ?, updated = ?, state = ?, version = ? WHERE name = ? AND position = ?",
  ).run([next.position, updated, state, version, name, expected]) === 1;
}

/** Parks an event, replacing an earlier parking of it. */
export function parkEvent(connection: _Connection, event: ParkedEvent): void {
  connection.statement(
    "INSERT INTO eventfold_parked (name, id, position, stream, type, hydrated, error, attempts, parked) " +
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, id) DO UPDATE SET position = excluded.position, " +
      "stream = excluded.stream, type = excluded.type, hydrated = excluded.hydrated, error = excluded.error, " +
      "attempts = excluded.attempts, parked = excluded.parked",
  ).run([
    event.name,
    event.id,
    event.position,
    event.stream,
    event.type,
    event.hydrated ? 1 : 0,
    event.error,
    event.attempts,
    event.parked,
  ]);
}

/** Removes a parked event; returns whether it was parked. */
export function unparkEvent(connection: _Connection, name: string, id: string): boolean {
  return connection.statement("DELETE FROM eventfold_parked WHERE name = ? AND id = ?").run([name, id]) === 1;
}

const PARKED_COLUMNS = "name, id, position, stream, type, hydrated, error, attempts, parked";

/** Parked events of `name` (of all subscriptions when absent), by name and position. */
export function listParked(connection: _Connection, name: string | undefined): ParkedEvent[] {
  const rows = name === undefined
    ? connection.statement(`SELECT ${PARKED_COLUMNS} FROM eventfold_parked ORDER BY name, position`, true)
      .rows([])
    : connection.statement(
      `SELECT ${PARKED_COLUMNS} FROM eventfold_parked WHERE name = ? ORDER BY position`,
      true,
    ).rows([name]);
  return rows.map((row) => ({
    name: row[0] as string,
    id: row[1] as string,
    position: row[2] as string,
    stream: row[3] as string,
    type: row[4] as string,
    hydrated: Number(row[5]) === 1,
    error: row[6] as string,
    attempts: Number(row[7]),
    parked: row[8] as string,
  }));
}

/**
 * Takes or renews the lease row of `name` for `owner` until `expires` (ms since the
 * epoch): it succeeds when the row is missing, already `owner`'s, or expired.
 */
export function takeLease(connection: _Connection, name: string, owner: string, expires: number): boolean {
  return connection.statement(
    "INSERT INTO eventfold_leases (name, owner, expires) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE " +
      "SET owner = excluded.owner, expires = excluded.expires " +
      "WHERE eventfold_leases.owner = excluded.owner OR eventfold_leases.expires <= ?",
  ).run([name, owner, expires, Date.now()]) === 1;
}

/** Extends `owner`'s lease on `name`; false when another owner took it. */
export function renewLease(connection: _Connection, name: string, owner: string, expires: number): boolean {
  return connection.statement("UPDATE eventfold_leases SET expires = ? WHERE name = ? AND owner = ?")
    .run([expires, name, owner]) === 1;
}

/** Removes `owner`'s lease on `name`. */
export function dropLease(connection: _Connection, name: string, owner: string): void {
  connection.statement("DELETE FROM eventfold_leases WHERE name = ? AND owner = ?").run([name, owner]);
}

/** Which of `names` have a lease row that has not expired. */
export function heldLeases(connection: _Connection, names: readonly string[]): string[] {
  if (names.length === 0) return [];
  const rows = connection.statement(
    "SELECT name FROM eventfold_leases WHERE expires > ? AND name IN (SELECT value FROM json_each(?))",
    true,
  ).rows([Date.now(), JSON.stringify(names)]);
  const held = new Set(rows.map((row) => row[0] as string));
  return names.filter((name) => held.has(name));
}
