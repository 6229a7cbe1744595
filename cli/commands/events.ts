/**
 * `eventfold events`: prints events as NDJSON, filtered, and with `--follow` keeps
 * printing new ones as they are committed, by this or any other process.
 *
 * @module
 */

import type { ParsedArgs } from "../_args.ts";
import {
  type Bounds,
  inTime,
  pastEnd,
  readPosition,
  readPositionOrTime,
  readTime,
  timeField,
} from "../_bounds.ts";
import {
  type Command,
  type Io,
  JSON_FLAG,
  noExtraArgs,
  STORE_FLAG,
  storeUrl,
  withStore,
} from "../_command.ts";
import { givenBounds, hintNoMatch } from "../_no_match.ts";
import { EXIT, UsageError } from "../_errors.ts";
import { loadDefinitions } from "../_user_module.ts";
import { RecordReader } from "../../stores/_evolve.ts";
import { recordLine } from "../_ndjson.ts";
import { watchChanges } from "../_changes.ts";
import { correlationOf } from "../../events/correlation.ts";
import type { EventRecord } from "../../events/record.ts";

const PAGE = 1000;

async function run(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "events");
  const url = storeUrl(args);
  const limit = args.integer("limit") ?? Infinity;
  const interval = args.integer("interval") ?? 500;
  const follow = args.boolean("follow");
  const streams = args.list("stream");
  const types = args.list("type");
  const correlation = args.string("correlation");
  if (correlation === "") {
    throw new UsageError("--correlation needs the id of a flow (the record that started it)");
  }
  // A flow: the record that started it, and every record carrying its id as $correlation.
  const inFlow = (record: EventRecord) =>
    correlation === undefined || record.id === correlation || correlationOf(record.meta) === correlation;
  const since = args.has("since") ? readTime(args.string("since")!, "--since") : undefined;
  const field = timeField(args.string("time-field"));
  const definitions = args.has("definitions")
    ? await loadDefinitions(args.string("definitions")!, args.string("export") ?? "events")
    : undefined;
  if (args.has("export") && definitions === undefined) {
    throw new UsageError("--export names an export of --definitions; give both");
  }
  await withStore(url, { create: false }, async ({ adapter }) => {
    // With definitions, records print in their current shape; types they do not know as stored.
    const reader = definitions === undefined
      ? undefined
      : new RecordReader(definitions, "pass", false, () => url.label);
    const before = args.has("before")
      ? await readPosition(args.string("before")!, adapter, "--before")
      : undefined;
    let after = args.has("after") ? await readPosition(args.string("after")!, adapter, "--after") : undefined;
    const until = args.has("until")
      ? await readPositionOrTime(args.string("until")!, adapter, "--until")
      : {};
    const bounds: Bounds = { before, through: until.position, since, until: until.time, timeField: field };
    using changes = follow ? watchChanges(adapter, io.signal) : undefined;
    let printed = 0;
    const hint = (): Promise<void> =>
      printed > 0 || follow ? Promise.resolve() : hintNoMatch(adapter, {
        types,
        streams,
        bounds: givenBounds(args, ["after", "before", "since", "until"]),
      });
    // The first page settles (everything committed before the command is printed); the
    // following ones, and the polls of --follow, go on from the last position read.
    let settle = true;
    while (printed < limit) {
      const page = await adapter.readLog({
        after,
        direction: "forward",
        limit: PAGE,
        types: types.length === 0 ? undefined : reader?.storedTypes(types) ?? types,
        streams: streams.length > 0 ? streams : undefined,
        settle,
      });
      settle = false;
      for (const record of reader === undefined ? page : await reader.read(page)) {
        if (pastEnd(record, bounds)) return await hint();
        if (!inTime(record, bounds) || !inFlow(record)) continue;
        await io.out.line(recordLine(record, true));
        if (++printed >= limit) return;
      }
      if (page.length > 0) after = page[page.length - 1].position;
      if (page.length === PAGE) continue;
      if (changes === undefined) return await hint();
      await io.out.flush();
      await changes.wait(interval);
      if (io.signal.aborted) return;
    }
  });
  return EXIT.ok;
}

/** `eventfold events`. */
export const events: Command = {
  name: "events",
  summary: "print events as NDJSON, filtered; --follow tails new ones",
  usage: [
    "events --store URL [--stream ID]... [--type TYPE]... [--correlation ID] [--after POS] [--before POS]",
    "       [--since TIME] [--until POS|TIME] [--time-field created|recorded] [--limit N] [--follow]",
    "       [--definitions FILE [--export NAME]] [--json]",
  ],
  description:
    "Prints one JSON object per line, in position order: id, stream, type, version, revision, position,\n" +
    "created, recorded, outdated, data and meta (values JSON lacks, such as dates and bigints, are\n" +
    'tagged: {"$date": "..."}, {"$bigint": "..."}). Positions may be written short (42) and --after\n' +
    "takes head for the newest one; --until takes a position (inclusive), head or a time, as in replay.\n" +
    "With --follow it keeps printing events as they are committed, by this or another process, until\n" +
    "Ctrl-C. Records print as stored (their type, version and payloads as written); with\n" +
    "--definitions they print as your application reads them: renamed types under their new name,\n" +
    "older versions upcast (with storedVersion). The output is JSON already: --json changes\n" +
    "nothing and is accepted like everywhere. --correlation ID prints one whole flow: the record ID\n" +
    "and every record whose meta.$correlation is ID (what workflows and commands caused). When\n" +
    "filters match nothing, a hint on stderr lists what the store holds (the exit code stays 0).",
  flags: {
    ...STORE_FLAG,
    stream: { type: "list", value: "ID", description: "only this stream" },
    type: { type: "list", value: "TYPE", description: "only this event type" },
    correlation: {
      type: "string",
      value: "ID",
      description: "only one flow: the record with this id and those whose meta.$correlation is it",
    },
    after: { type: "string", value: "POS", description: "only positions after this one (head: the newest)" },
    before: { type: "string", value: "POS", description: "only positions before this one" },
    since: { type: "string", value: "TIME", description: "only events at or after this ISO-8601 time" },
    until: {
      type: "string",
      value: "POS|TIME",
      description: "only events up to this position (inclusive), head, or ISO-8601 time",
    },
    "time-field": {
      type: "string",
      value: "FIELD",
      description: "what --since/--until compare: created (default) or recorded",
    },
    limit: { type: "integer", short: "n", value: "N", description: "at most N events" },
    definitions: {
      type: "string",
      value: "FILE",
      description: "a module exporting your EventFactory: print records in their current shape",
    },
    export: { type: "string", value: "NAME", description: "the export of --definitions (default events)" },
    follow: { type: "boolean", short: "f", description: "keep printing new events until Ctrl-C" },
    interval: {
      type: "integer",
      value: "MS",
      description: "with --follow, poll at least every MS milliseconds (default 500)",
    },
    ...JSON_FLAG,
  },
  examples: [
    ["The history of one entity", "eventfold events --store sqlite:./events.db --stream user-42"],
    [
      "Two types during January",
      "eventfold events -s sqlite:./events.db --type order:placed --type order:paid --since 2026-01-01 --until 2026-01-31T23:59:59Z",
    ],
    [
      "One whole flow: an order and everything it caused",
      "eventfold events --store sqlite:./events.db --correlation 0190a000-0000-7000-8000-000000000001",
    ],
    [
      "Tail new events of any process",
      "eventfold events --store postgres://app@db/app --after head --follow",
    ],
    ["Pick fields with jq", "eventfold events -s sqlite:./events.db -n 10 | jq -c '{type, data}'"],
  ],
  run,
};
