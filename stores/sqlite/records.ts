/**
 * Turning event rows into records: the columns every event read selects, and the decoding
 * of payloads, which names the position of a row that fails.
 *
 * @module
 */

import { DecodeError } from "../../errors.ts";
import type { EventRecord } from "../../events/record.ts";
import { formatPosition } from "../../contract/mod.ts";
import type { Codec } from "../codec.ts";

/** The columns of an event read, in the order {@linkcode toRecords} expects them. */
export const EVENT_COLUMNS =
  "position, id, stream, type, revision, data, meta, created, recorded, outdated, imported, version";

/**
 * Builds records from rows selected with {@linkcode EVENT_COLUMNS}.
 *
 * @param rows rows as arrays of column values
 * @param codec the payload codec of the database
 * @param source where the database lives, named in a {@linkcode DecodeError}
 * @returns the records, in row order
 * @throws {DecodeError} when a payload does not decode, naming its position and field
 */
export function toRecords(rows: readonly unknown[][], codec: Codec, source: string): EventRecord[] {
  const records = new Array<EventRecord>(rows.length);
  let field = "data";
  let i = 0;
  try {
    for (; i < rows.length; i++) {
      const row = rows[i];
      field = "data";
      const data = row[5] === null ? null : codec.decode(row[5] as Uint8Array);
      field = "meta";
      const meta = row[6] === null ? null : codec.decode(row[6] as Uint8Array);
      records[i] = {
        id: row[1] as string,
        stream: row[2] as string,
        type: row[3] as string,
        data,
        meta,
        revision: Number(row[4]),
        position: formatPosition(Number(row[0])),
        created: row[7] as string,
        recorded: row[8] as string,
        outdated: row[9] === 1 || row[9] === 1n,
        imported: row[10] === 1 || row[10] === 1n,
        version: Number(row[11]),
      };
    }
  } catch (error) {
    throw new DecodeError(formatPosition(Number(rows[i][0])), field, { cause: error, source });
  }
  return records;
}
