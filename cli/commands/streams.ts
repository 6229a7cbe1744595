/**
 * `eventfold streams`: every stream with its revision and when it last changed.
 *
 * @module
 */

import type { ParsedArgs } from "../_args.ts";
import {
  type Command,
  type Io,
  JSON_FLAG,
  noExtraArgs,
  STORE_FLAG,
  storeUrl,
  withStore,
} from "../_command.ts";
import { EXIT } from "../_errors.ts";
import { STREAM_DELETED } from "../../events/system.ts";
import { count, table } from "../_format.ts";
import { hintNoMatch } from "../_no_match.ts";
import { Progress } from "../_progress.ts";

interface StreamRow {
  stream: string;
  revision: number;
  events: number;
  lastType: string;
  lastCreated: string;
  lastRecorded: string;
  lastPosition: string;
  /** `"deleted"` or `"tombstoned"` (deleted and closed for appends) when its events were removed. */
  status?: "deleted" | "tombstoned";
  /** The first revision kept, when the stream was truncated. */
  truncatedBefore?: number;
  /** Its retention rules, when it has any. */
  maxAge?: number;
  maxCount?: number;
}

function emptyRow(stream: string): StreamRow {
  return {
    stream,
    revision: 0,
    events: 0,
    lastType: "",
    lastCreated: "",
    lastRecorded: "",
    lastPosition: "",
  };
}

/** A `"$stream:deleted"` record's data, as stored. */
function deletedStream(data: unknown): { stream: string; revision: number; tombstone: boolean } | undefined {
  const value = data as { stream?: unknown; revision?: unknown; tombstone?: unknown } | null;
  if (typeof value?.stream !== "string" || typeof value.revision !== "number") return undefined;
  return { stream: value.stream, revision: value.revision, tombstone: value.tombstone === true };
}

const UNITS: readonly [string, number][] = [["d", 86_400_000], ["h", 3_600_000], ["min", 60_000], [
  "s",
  1000,
]];

/** A `maxAge` in the largest unit that divides it: `30d`, `90min`, `1500ms`. */
function age(ms: number): string {
  const unit = UNITS.find(([, size]) => ms % size === 0);
  return unit === undefined ? `${ms}ms` : `${ms / unit[1]}${unit[0]}`;
}

/** What the STATUS column says: deleted or truncated, and the retention rules. */
function statusText(row: StreamRow): string {
  const parts = [
    row.status ?? (row.truncatedBefore === undefined ? "" : `truncated before ${count(row.truncatedBefore)}`),
    row.maxCount === undefined ? "" : `maxCount ${count(row.maxCount)}`,
    row.maxAge === undefined ? "" : `maxAge ${age(row.maxAge)}`,
  ];
  return parts.filter((part) => part !== "").join(", ");
}

async function run(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "streams");
  const url = storeUrl(args);
  const prefix = args.string("prefix") ?? "";
  const limit = args.integer("limit") ?? Infinity;
  const rows = await withStore(url, { create: false, lenient: true }, async ({ adapter, store }) => {
    const found = new Map<string, StreamRow>();
    const progress = new Progress("streams: reading the log", (await adapter.stats()).events);
    for await (const record of store.readAll()) {
      progress.advance();
      const deleted = record.type === STREAM_DELETED ? deletedStream(record.data) : undefined;
      if (deleted !== undefined && deleted.stream.startsWith(prefix)) {
        // Its events are gone from the log; the stream is listed with what the record says.
        const row = found.get(deleted.stream) ?? emptyRow(deleted.stream);
        found.set(deleted.stream, {
          ...row,
          revision: deleted.revision,
          events: 0,
          status: deleted.tombstone ? "tombstoned" : "deleted",
        });
      }
      if (!record.stream.startsWith(prefix)) continue;
      let row = found.get(record.stream);
      if (row === undefined) {
        row = emptyRow(record.stream);
        found.set(record.stream, row);
      }
      delete row.status; // written again after a delete
      row.revision = record.revision;
      row.events++;
      row.lastType = record.type;
      row.lastCreated = record.created;
      row.lastRecorded = record.recorded;
      row.lastPosition = record.position;
    }
    progress.finish();
    if (adapter.streamStatus !== undefined && found.size > 0) {
      for (const [stream, status] of await adapter.streamStatus([...found.keys()])) {
        const row = found.get(stream)!;
        if (status.truncatedBefore > 1 && status.truncatedBefore - 1 > status.deletedAt) {
          row.truncatedBefore = status.truncatedBefore;
        }
        if (status.metadata?.maxAge !== undefined) row.maxAge = status.metadata.maxAge;
        if (status.metadata?.maxCount !== undefined) row.maxCount = status.metadata.maxCount;
      }
    }
    if (found.size === 0 && prefix !== "") await hintNoMatch(adapter, { prefix });
    return [...found.values()].slice(0, limit);
  });
  if (io.json) {
    for (const row of rows) await io.out.line(JSON.stringify(row));
    return EXIT.ok;
  }
  const lines = table([
    ["STREAM", "REVISION", "STATUS", "LAST TYPE", "LAST CREATED", "LAST RECORDED"],
    ...rows.map((row) => [
      row.stream,
      count(row.revision),
      statusText(row),
      row.lastType,
      row.lastCreated,
      row.lastRecorded,
    ]),
  ]);
  for (const line of lines) await io.out.line(line);
  return EXIT.ok;
}

/** `eventfold streams`. */
export const streams: Command = {
  name: "streams",
  summary: "list streams with their revision and last event time",
  usage: ["streams --store URL [--prefix TEXT] [--limit N] [--json]"],
  description: "Reads the log once and lists every stream in order of its first event, with its revision\n" +
    "(its last), its status (deleted, tombstoned: deleted and closed for appends, or truncated before a\n" +
    "revision, and its retention rules maxCount and maxAge), the type and times of its last event.\n" +
    "Deleted streams are listed from their $stream:deleted record. --json prints one object per stream.",
  flags: {
    ...STORE_FLAG,
    prefix: { type: "string", value: "TEXT", description: "only streams whose id starts with TEXT" },
    limit: { type: "integer", short: "n", value: "N", description: "at most N streams" },
    ...JSON_FLAG,
  },
  examples: [
    ["All streams of a SQLite store", "eventfold streams --store sqlite:./events.db"],
    ["User streams as NDJSON", "eventfold streams --store sqlite:./events.db --prefix user- --json"],
  ],
  run,
};
