/**
 * SQL text and sizes shared by the SQLite store's modules.
 *
 * @module
 */

import { EVENT_COLUMNS } from "./records.ts";

export const DEFAULT_BUSY_TIMEOUT = 5000;
export const DEFAULT_WATCH_INTERVAL = 50;
/** Rows per multi-row INSERT: one statement call per chunk is much cheaper than one per row. */
export const CHUNK = 64;
export const FAR = Number.MAX_SAFE_INTEGER;
export const EVENTS = "eventfold_events";
export const INSERT_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
export const INSERT_INTO =
  `INSERT INTO ${EVENTS} (id, stream, type, revision, data, meta, created, recorded, outdated, imported, version) VALUES `;
export const EXISTING = `SELECT id FROM ${EVENTS} WHERE id IN (SELECT value FROM json_each(?))`;
export const POSITION_AT = `SELECT position FROM ${EVENTS} WHERE stream = ? AND revision = ?`;
/** Up to this many streams, a filtered log read goes stream by stream (see `streamsPage`). */
export const FEW_STREAMS = 16;
export const LATEST_CREATED = `SELECT max(created) FROM ${EVENTS} WHERE stream = ? AND type = ?`;

/** The stream-read statements: [direction backward][with types]. */
export const STREAM_READS: string[][] = [false, true].map((backward) =>
  [false, true].map((types) =>
    `SELECT ${EVENT_COLUMNS} FROM ${EVENTS} WHERE stream = ? AND revision ${backward ? "<=" : ">="} ?${
      types ? " AND type IN (SELECT value FROM json_each(?))" : ""
    } ORDER BY revision ${backward ? "DESC" : "ASC"} LIMIT ?`
  )
);
