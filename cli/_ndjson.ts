/**
 * The NDJSON form of events: one JSON object per line, payloads in tagged JSON (see
 * `_tagged_json.ts`) so `Date`, `bigint`, `Map`, `Set`, bytes and `undefined` survive.
 *
 * `export` writes `id, stream, type, version, revision, created, outdated, data, meta`:
 * what makes an event, nothing a store assigns on its own, so two stores holding the same
 * events export the same bytes. Records are written as stored: the type and `version` they
 * were written at and their payloads before any upcast, so an import stores them exactly
 * as they were. `events` adds `position` and `recorded`, and, when it reads through the
 * application's definitions, `storedVersion` of a record it upcast (its `version` and
 * payloads are then the current ones). `import` reads either (`storedVersion` is only
 * information); a line without `version` is at version 1 (files written before versions).
 *
 * @module
 */

import type { EventRecord, PendingEvent } from "../mod.ts";
import { decode, encode, TaggedJsonError } from "./_tagged_json.ts";

/** A line that is not an event; `line` is 1-based. */
export class BadLineError extends Error {
  /** The line number in its file. */
  readonly line: number;

  /**
   * @param line the 1-based line number
   * @param reason what is wrong with it
   */
  constructor(line: number, reason: string) {
    super(`line ${line}: ${reason}`);
    this.name = "BadLineError";
    this.line = line;
  }
}

function payload(value: unknown, root: string, record: EventRecord): unknown {
  try {
    return encode(value);
  } catch (error) {
    if (error instanceof TaggedJsonError) {
      throw new TaggedJsonError(
        `event ${record.id} at position ${record.position}: ${error.where(root)}: ${error.message}`,
      );
    }
    throw error;
  }
}

/**
 * One record as an NDJSON line (without the newline).
 *
 * @param record a record, as stored (the CLI's own reads) or upcast (read through definitions)
 * @param storeFields also write `position` and `recorded` (which another store would assign anew)
 * @returns the line
 * @throws {TaggedJsonError} for a payload holding a function or symbol
 */
export function recordLine(record: EventRecord, storeFields: boolean): string {
  const data = payload(record.data, "data", record);
  const meta = payload(record.meta, "meta", record);
  return JSON.stringify(
    storeFields
      ? {
        id: record.id,
        stream: record.stream,
        type: record.type,
        version: record.version ?? 1,
        ...(record.storedVersion !== undefined && record.storedVersion !== record.version
          ? { storedVersion: record.storedVersion }
          : {}),
        revision: record.revision,
        position: record.position,
        created: record.created,
        recorded: record.recorded,
        outdated: record.outdated,
        data,
        meta,
      }
      : {
        id: record.id,
        stream: record.stream,
        type: record.type,
        version: record.version ?? 1,
        revision: record.revision,
        created: record.created,
        outdated: record.outdated,
        data,
        meta,
      },
  );
}

const FIELDS = new Set([
  "id",
  "stream",
  "type",
  "version",
  "storedVersion",
  "revision",
  "position",
  "created",
  "recorded",
  "outdated",
  "data",
  "meta",
]);
const REQUIRED = ["id", "stream", "type", "created"] as const;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads one NDJSON line back into an event to import.
 *
 * @param text the line (without its newline)
 * @param line its 1-based number, for messages
 * @returns the event: id, stream, type, created, version and the decoded payloads
 * @throws {BadLineError} for invalid JSON, a missing or mistyped field, an unknown field or a bad tag
 */
export function parseLine(text: string, line: number): PendingEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadLineError(line, `invalid JSON (${message(error)})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadLineError(line, "expected a JSON object with id, stream, type, created, data and meta");
  }
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!FIELDS.has(key)) throw new BadLineError(line, `unknown field ${JSON.stringify(key)}`);
  }
  for (const key of REQUIRED) {
    if (typeof fields[key] !== "string" || fields[key] === "") {
      throw new BadLineError(line, `"${key}" must be a non-empty string`);
    }
  }
  const version = fields.version ?? 1;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    throw new BadLineError(line, `"version" must be a whole number from 1, got ${JSON.stringify(version)}`);
  }
  const decoded = (root: "data" | "meta") => {
    try {
      return decode(fields[root] ?? null);
    } catch (error) {
      if (error instanceof TaggedJsonError) {
        throw new BadLineError(line, `${error.where(root)}: ${error.message}`);
      }
      throw error;
    }
  };
  return {
    id: fields.id as string,
    stream: fields.stream as string,
    type: fields.type as string,
    created: fields.created as string,
    version,
    data: decoded("data"),
    meta: decoded("meta"),
  };
}

/** One line of a file, with its 1-based number. */
export interface Line {
  /** The text, without the line break. */
  readonly text: string;
  /** 1-based line number. */
  readonly number: number;
}

/** The longest line {@linkcode readLines} accepts by default: 16 MiB. */
export const MAX_LINE_BYTES: number = 16 * 1024 * 1024;

/**
 * Splits a byte stream into UTF-8 lines (`\n` or `\r\n`), holding one chunk and one
 * partial line at a time. Invalid UTF-8 in a line is a {@linkcode BadLineError} of it,
 * and so is a line longer than `maxBytes`: its bytes are dropped as they arrive (memory
 * stays bounded) and reading goes on at the next line.
 *
 * @param stream the bytes
 * @param maxBytes the longest line accepted, without its line break (default {@linkcode MAX_LINE_BYTES})
 * @returns the lines, blank ones included (the caller decides what they mean)
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number = MAX_LINE_BYTES,
): AsyncGenerator<Line | BadLineError> {
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  // Pieces of a line that spans chunks, joined once its end arrives.
  let carry: Uint8Array[] = [];
  let carried = 0;
  // Bytes of the current line when it outgrew maxBytes (then nothing of it is kept).
  let overflow = 0;
  let number = 0;
  const tooLong = (size: number): BadLineError =>
    new BadLineError(
      number,
      `the line is ${mebibytes(size)}, over the ${mebibytes(maxBytes)} limit (raise it with --max-line-mib)`,
    );
  const emit = (bytes: Uint8Array): Line | BadLineError => {
    number++;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
    if (overflow > 0 || end > maxBytes) {
      const size = overflow > 0 ? overflow + bytes.length : end;
      overflow = 0;
      return tooLong(size);
    }
    try {
      return { text: utf8.decode(bytes.subarray(0, end)), number };
    } catch {
      return new BadLineError(number, "not valid UTF-8");
    }
  };
  const joined = (last: Uint8Array): Uint8Array => {
    if (carry.length === 0) return last;
    const parts = [...carry, last];
    carry = [];
    carried = 0;
    const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  };
  const keep = (rest: Uint8Array): void => {
    if (overflow > 0) {
      overflow += rest.length;
    } else if (carried + rest.length > maxBytes + 1) {
      // One byte of slack for a CR before the newline.
      overflow = carried + rest.length;
      carry = [];
      carried = 0;
    } else {
      carry.push(rest.slice());
      carried += rest.length;
    }
  };
  for await (const chunk of stream) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      yield emit(overflow > 0 ? chunk.subarray(start, nl) : joined(chunk.subarray(start, nl)));
      start = nl + 1;
    }
    if (start < chunk.length) keep(chunk.subarray(start));
  }
  if (carry.length > 0 || overflow > 0) yield emit(joined(new Uint8Array(0)));
}

function mebibytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return mib >= 1 ? `${Number(mib.toFixed(1))} MiB` : `${bytes} bytes`;
}
