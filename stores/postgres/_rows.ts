/**
 * Shared pieces of the PostgreSQL adapter's SQL: how payloads travel (hex for `bytea`,
 * JSON text for `jsonb`), the columns of an event row, and turning a row into a record.
 *
 * Lists (ids, streams, rows to insert) are sent as one JSON parameter and unpacked on
 * the server (`json_array_elements_text`, `json_to_recordset`). The statement text then
 * stays the same whatever the list's length (one prepared statement, not one per
 * length), and nothing depends on postgres.js array type discovery, which a client made
 * with `fetch_types: false` does not do.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type postgres from "postgres";
import { DecodeError } from "../../errors.ts";
import type { EventRecord } from "../../events/record.ts";
import type { Codec } from "../codec.ts";
import type { PayloadColumn } from "./_schema.ts";
import { formatPostgresPosition } from "./position.ts";

export type { Query } from "./_options.ts";
import type { Query } from "./_options.ts";

/** A postgres.js fragment. */
export type Fragment = postgres.Fragment;

/** An event row as the adapter selects it. */
export interface EventRow {
  id: string;
  stream: string;
  type: string;
  revision: number;
  created: string;
  recorded: string;
  outdated: boolean;
  imported: boolean;
  version: number;
  ptx: string;
  pseq: string;
  data: Uint8Array | string | null;
  meta: Uint8Array | string | null;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** ISO-8601 in UTC with milliseconds, made by the server so client type parsers do not matter. */
export function isoTime(q: Query, column: "recorded" | "updated"): Fragment {
  return column === "recorded"
    ? q`to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
    : q`to_char(updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** A JSON list of strings unpacked on the server, for `x IN (...)`. */
export function textList(q: Query, values: readonly string[]): Fragment {
  return q`(SELECT json_array_elements_text(${JSON.stringify(values)}::text::json))`;
}

/** Encodes and decodes payloads for one schema. */
export class Payloads {
  readonly codec: Codec;
  readonly column: PayloadColumn;
  readonly #source: string;

  /**
   * @param codec the schema's codec
   * @param column the payload column type
   * @param source the store's name for errors
   */
  constructor(codec: Codec, column: PayloadColumn, source: string) {
    this.codec = codec;
    this.column = column;
    this.#source = source;
  }

  /** The value as it travels in a JSON list: hex for `bytea`, JSON text for `jsonb`. */
  text(value: unknown): string {
    const bytes = this.codec.encode(value);
    return this.column === "jsonb"
      ? fromUtf8.decode(bytes)
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  }

  /** An event payload as text, `null` for none (stored as SQL NULL). */
  optional(value: unknown): string | null {
    return value === null || value === undefined ? null : this.text(value);
  }

  /** SQL that turns a text column of a JSON list back into the payload type. */
  fromText(q: Query, column: "data" | "meta"): Fragment {
    if (this.column === "jsonb") return column === "data" ? q`data::jsonb` : q`meta::jsonb`;
    return column === "data" ? q`decode(data, 'hex')` : q`decode(meta, 'hex')`;
  }

  /** A single payload parameter (`NULL` for `undefined`). */
  param(q: Query, value: unknown): Fragment {
    if (value === undefined) return q`NULL`;
    const text = this.text(value);
    return this.column === "jsonb" ? q`${text}::text::jsonb` : q`decode(${text}::text, 'hex')`;
  }

  /** The columns of an event row, aliased to one-word names (safe under column transforms). */
  columns(q: Query): Fragment {
    const payload = this.column === "jsonb" ? q`data::text AS data, meta::text AS meta` : q`data, meta`;
    return q`id, stream, type, revision, created, ${
      isoTime(q, "recorded")
    } AS recorded, outdated, imported, version, transaction_id::text AS ptx, seq::text AS pseq, ${payload}`;
  }

  /**
   * Decodes a stored payload.
   *
   * @throws {DecodeError} naming the position when the codec cannot read it
   */
  decode(raw: Uint8Array | string | null, position: string, field: string): unknown {
    if (raw === null || raw === undefined) return null;
    try {
      return this.codec.decode(typeof raw === "string" ? utf8.encode(raw) : raw);
    } catch (cause) {
      throw new DecodeError(position, field, { cause, location: this.#source });
    }
  }

  /** Turns a selected row into a record. */
  record(row: EventRow): EventRecord {
    const position = formatPostgresPosition(row.ptx, row.pseq);
    return {
      id: row.id,
      stream: row.stream,
      type: row.type,
      data: this.decode(row.data, position, "data"),
      meta: this.decode(row.meta, position, "meta"),
      revision: row.revision,
      position,
      created: row.created,
      recorded: row.recorded,
      outdated: row.outdated,
      imported: row.imported,
      version: row.version,
    };
  }
}
