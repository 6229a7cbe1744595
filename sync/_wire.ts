/**
 * The sync wire forms of a batch of records: NDJSON (one record per line, payloads in the
 * CLI's tagged JSON, then an end line) and CBOR (one map). A batch without its end (a
 * response or a body cut short) does not parse, so a cut connection never looks like a
 * short page.
 *
 * @module
 */

import { decode, encode, TaggedJsonError } from "../cli/_tagged_json.ts";
import { decodeCbor } from "../stores/_cbor_decode.ts";
import { encodeCbor } from "../stores/_cbor_encode.ts";
import type { SyncBatch, SyncRecord } from "./endpoint.ts";

/** NDJSON, as sent; `application/ndjson` is read too. */
export const NDJSON = "application/x-ndjson";
/** CBOR. */
export const CBOR = "application/cbor";

/** Input that is not a batch: the reason goes to the 400 response. */
export class BadBatchError extends Error {
  /** @param message what is wrong, and where */
  constructor(message: string) {
    super(message);
    this.name = "BadBatchError";
  }
}

const FIELDS = new Set([
  "id",
  "stream",
  "type",
  "version",
  "created",
  "position",
  "data",
  "meta",
  "forgotten",
]);
const END = new Set(["$end", "cursor", "count"]);

function text(fields: Record<string, unknown>, key: string, where: string): string {
  const value = fields[key];
  if (typeof value !== "string" || value === "") {
    throw new BadBatchError(`${where}: "${key}" must be a non-empty string`);
  }
  return value;
}

function record(
  value: unknown,
  where: string,
  payloads: (value: unknown, root: string) => unknown,
): SyncRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadBatchError(`${where}: expected an object with id, stream, type, created, data and meta`);
  }
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!FIELDS.has(key)) throw new BadBatchError(`${where}: unknown field ${JSON.stringify(key)}`);
  }
  const version = fields.version ?? 1;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    throw new BadBatchError(`${where}: "version" must be a whole number from 1`);
  }
  const forgotten = fields.forgotten ?? false;
  if (typeof forgotten !== "boolean") throw new BadBatchError(`${where}: "forgotten" must be true or false`);
  return {
    ...(forgotten ? { forgotten } : {}),
    id: text(fields, "id", where),
    stream: text(fields, "stream", where),
    type: text(fields, "type", where),
    created: text(fields, "created", where),
    position: text(fields, "position", where),
    version,
    data: payloads(fields.data ?? null, "data"),
    meta: payloads(fields.meta ?? null, "meta"),
  };
}

function end(fields: Record<string, unknown>, count: number, where: string): string | null {
  for (const key of Object.keys(fields)) {
    if (!END.has(key)) throw new BadBatchError(`${where}: unknown field ${JSON.stringify(key)} in the end`);
  }
  if (fields.count !== count) {
    throw new BadBatchError(
      `${where}: the end counts ${JSON.stringify(fields.count)} records, ${count} came`,
    );
  }
  const cursor = fields.cursor ?? null;
  if (cursor !== null && (typeof cursor !== "string" || cursor === "")) {
    throw new BadBatchError(`${where}: "cursor" must be a non-empty string or null`);
  }
  return cursor as string | null;
}

/**
 * A batch as NDJSON.
 *
 * @param batch the records and the cursor
 * @returns the text
 * @throws {TaggedJsonError} for a payload tagged JSON cannot hold (a function, a symbol)
 */
export function toNdjson(batch: SyncBatch): string {
  let out = "";
  for (const r of batch.records) {
    out += JSON.stringify({
      id: r.id,
      stream: r.stream,
      type: r.type,
      version: r.version,
      created: r.created,
      position: r.position,
      data: encode(r.data),
      meta: encode(r.meta),
      ...(r.forgotten === true ? { forgotten: true } : {}),
    }) + "\n";
  }
  return out + JSON.stringify({ $end: true, cursor: batch.cursor, count: batch.records.length }) + "\n";
}

/**
 * Reads an NDJSON batch.
 *
 * @param body the text
 * @returns the batch
 * @throws {BadBatchError} for a line that is not a record, a missing or wrong end line
 */
export function fromNdjson(body: string): SyncBatch {
  const lines = body.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const records: SyncRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const where = `line ${i + 1}`;
    const line = lines[i].endsWith("\r") ? lines[i].slice(0, -1) : lines[i];
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new BadBatchError(`${where}: invalid JSON (${(error as Error).message})`);
    }
    if (typeof value === "object" && value !== null && "$end" in value) {
      if (i !== lines.length - 1) throw new BadBatchError(`${where}: the end line is not the last one`);
      return { records, cursor: end(value as Record<string, unknown>, records.length, where) };
    }
    records.push(record(value, where, (payload, root) => {
      try {
        return decode(payload);
      } catch (error) {
        if (error instanceof TaggedJsonError) {
          throw new BadBatchError(`${where}: ${error.where(root)}: ${error.message}`);
        }
        throw error;
      }
    }));
  }
  throw new BadBatchError(`the batch has no end line ({"$end":true,...}): cut short?`);
}

/**
 * A batch as CBOR: a map `{ records, cursor, count }`.
 *
 * @param batch the records and the cursor
 * @returns the bytes
 * @throws {TypeError} for a payload CBOR cannot hold
 */
export function toCbor(batch: SyncBatch): Uint8Array {
  return encodeCbor({
    records: batch.records.map((r) => ({
      id: r.id,
      stream: r.stream,
      type: r.type,
      version: r.version,
      created: r.created,
      position: r.position,
      data: r.data,
      meta: r.meta,
      ...(r.forgotten === true ? { forgotten: true } : {}),
    })),
    cursor: batch.cursor,
    count: batch.records.length,
  });
}

/**
 * Reads a CBOR batch.
 *
 * @param body the bytes
 * @returns the batch
 * @throws {BadBatchError} for bytes that are not one well-formed batch
 */
export function fromCbor(body: Uint8Array): SyncBatch {
  let value: unknown;
  try {
    value = decodeCbor(body);
  } catch (error) {
    throw new BadBatchError(`invalid CBOR (${(error as Error).message})`);
  }
  if (
    typeof value !== "object" || value === null || !Array.isArray((value as { records?: unknown }).records)
  ) {
    throw new BadBatchError("expected a CBOR map { records, cursor, count }");
  }
  const { records, ...rest } = value as Record<string, unknown> & { records: unknown[] };
  const parsed = records.map((r, i) => record(r, `record ${i + 1}`, (payload) => payload));
  return { records: parsed, cursor: end({ $end: true, ...rest }, parsed.length, "the batch") };
}

/**
 * Reads a batch by its content type.
 *
 * @param type the `Content-Type` header
 * @param body the bytes
 * @returns the batch
 * @throws {BadBatchError} for a malformed body
 */
export function parseBatch(type: string, body: Uint8Array): SyncBatch {
  if (mediaType(type) === CBOR) return fromCbor(body);
  let source: string;
  try {
    source = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    throw new BadBatchError("the body is not valid UTF-8");
  }
  return fromNdjson(source);
}

/**
 * The media type of a `Content-Type` or one `Accept` entry, without parameters, lower case.
 *
 * @param header the header value
 * @returns e.g. `application/cbor`
 */
export function mediaType(header: string): string {
  return header.split(";")[0].trim().toLowerCase();
}

/**
 * Whether a media type is one of the NDJSON names.
 *
 * @param type a media type
 * @returns true for `application/x-ndjson` and `application/ndjson`
 */
export function isNdjson(type: string): boolean {
  return type === NDJSON || type === "application/ndjson";
}
