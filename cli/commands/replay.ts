/**
 * `eventfold replay`: folds a stream or the whole log with a user's reducer or aggregate
 * and prints the state, or drives a user's projector with the events (as hydrated, so
 * its `once` handlers stay silent). `--until` stops at a position or a time: the state
 * as it was then.
 *
 * @module
 */

import type { AnyEventFactory, EventRecord, EventStore } from "../../mod.ts";
import type { ParsedArgs } from "../_args.ts";
import { type Bounds, inTime, pastEnd, readPositionOrTime, timeField } from "../_bounds.ts";
import {
  type Command,
  type Io,
  JSON_FLAG,
  noExtraArgs,
  STORE_FLAG,
  storeUrl,
  withStore,
} from "../_command.ts";
import { CliFailure, EXIT, UsageError } from "../_errors.ts";
import { plural } from "../_format.ts";
import { givenBounds, hintNoMatch } from "../_no_match.ts";
import { Progress } from "../_progress.ts";
import { pace, summary } from "../_summary.ts";
import { encode } from "../_tagged_json.ts";
import { classify, loadDefinitions, type Loaded, loadExport } from "../_user_module.ts";

const BATCH = 1000;

interface Outcome {
  folded: number;
  last: EventRecord | undefined;
  state?: unknown;
}

async function* source(
  store: EventStore<AnyEventFactory>,
  stream: string | undefined,
  bounds: Bounds,
): AsyncGenerator<EventRecord> {
  const records = stream === undefined ? store.readAll() : store.readStream(stream);
  for await (const record of records) {
    if (pastEnd(record, bounds)) return;
    if (inTime(record, bounds)) yield record;
  }
}

function fail(record: EventRecord, error: unknown): CliFailure {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new CliFailure(
    `the handler failed on event ${record.id} (${record.type}) at position ${record.position}: ${reason}`,
    { cause: error },
  );
}

async function drive(
  loaded: Loaded,
  store: EventStore<AnyEventFactory>,
  records: AsyncIterable<EventRecord>,
  stream: string | undefined,
  dryRun: boolean,
  progress: Progress,
): Promise<Outcome> {
  const outcome: Outcome = { folded: 0, last: undefined };
  let state: unknown;
  let pending: Promise<void>[] = [];
  const aggregate = loaded.kind === "aggregate" ? new loaded.Class(store, stream ?? "*") : undefined;
  for await (const record of records) {
    outcome.folded++;
    outcome.last = record;
    progress.advance();
    if (dryRun) continue;
    try {
      if (loaded.kind === "reducer") {
        state = loaded.reducer.fold(outcome.folded === 1 ? loaded.reducer.initial() : state, record);
      } else if (aggregate !== undefined) {
        aggregate.with(record);
      }
    } catch (error) {
      throw fail(record, error);
    }
    if (loaded.kind === "projector") {
      // Records of one stream run in order inside the projector; other streams overlap.
      pending.push(
        loaded.projector.push(record, { hydrated: true }).catch((error) => {
          throw fail(record, error);
        }),
      );
      if (pending.length >= BATCH) {
        await Promise.all(pending);
        pending = [];
      }
    }
  }
  await Promise.all(pending);
  if (loaded.kind === "reducer") outcome.state = outcome.folded === 0 ? undefined : state;
  if (aggregate !== undefined) outcome.state = outcome.folded === 0 ? undefined : aggregate.snapshotState();
  return outcome;
}

async function run(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "replay");
  const url = storeUrl(args);
  const path = args.string("module");
  if (path === undefined) {
    throw new UsageError(
      "--module FILE is required: a module exporting a reducer, an aggregate class or a projector",
    );
  }
  const name = args.string("export") ?? "default";
  const stream = args.string("stream");
  const dryRun = args.boolean("dry-run");
  const field = timeField(args.string("time-field"));
  const loaded = classify(await loadExport(path, name, "--module"), `${path}#${name}`, [
    "reducer",
    "aggregate",
    "projector",
  ]);
  if (args.has("definitions-export") && !args.has("definitions")) {
    throw new UsageError("--definitions-export names an export of --definitions; give both");
  }
  const definitions = args.has("definitions")
    ? await loadDefinitions(args.string("definitions")!, args.string("definitions-export") ?? "events")
    : undefined;
  const result = await withStore(url, { create: false, events: definitions }, async ({ adapter, store }) => {
    const until = args.has("until")
      ? await readPositionOrTime(args.string("until")!, adapter, "--until")
      : {};
    const bounds: Bounds = { through: until.position, until: until.time, timeField: field };
    const progress = new Progress(
      "replay",
      stream === undefined ? (await adapter.stats()).events : undefined,
    );
    try {
      const outcome = await drive(loaded, store, source(store, stream, bounds), stream, dryRun, progress);
      progress.finish();
      if (outcome.folded === 0) {
        await hintNoMatch(adapter, {
          streams: stream === undefined ? [] : [stream],
          bounds: givenBounds(args, ["until"]),
        });
      }
      return { ...outcome, ms: progress.elapsed, until };
    } finally {
      progress.finish();
    }
  });
  const scope = stream === undefined ? "the log" : `stream ${JSON.stringify(stream)}`;
  const upTo = result.last === undefined
    ? ""
    : ` up to position ${result.last.position} (created ${result.last.created})`;
  const verb = loaded.kind === "projector" ? "projected" : "folded";
  const text = `${dryRun ? "dry run: would have " : ""}${verb} ${
    plural(result.folded, "event")
  } of ${scope}${upTo} ${pace(result.folded, result.ms)}`;
  const facts = {
    kind: loaded.kind,
    stream: stream ?? null,
    events: result.folded,
    position: result.last?.position ?? null,
    revision: stream === undefined ? null : result.last?.revision ?? 0,
    dryRun,
  };
  if (loaded.kind === "projector" || dryRun) {
    await summary(io, text, facts);
    return EXIT.ok;
  }
  const state = encode(result.state ?? null);
  if (io.json) {
    await io.out.line(JSON.stringify({ ...facts, state }));
  } else {
    await io.out.line(JSON.stringify(state, null, 2));
    await summary(io, text, facts);
  }
  return EXIT.ok;
}

/** `eventfold replay`. */
export const replay: Command = {
  name: "replay",
  summary: "fold a stream or the log with your reducer/aggregate, or drive your projector",
  usage: [
    "replay --store URL --module FILE [--export NAME] [--definitions FILE] [--stream ID] [--until POS|TIME]",
    "       [--time-field created|recorded] [--dry-run] [--json]",
  ],
  description:
    "Loads the export NAME (default: the default export) of FILE: a reducer made with makeReducer,\n" +
    "an AggregateRoot class or a Projector. A reducer or aggregate folds --stream (or the whole log)\n" +
    "from its first event, ignoring snapshots, and the resulting state is printed as JSON (values\n" +
    "JSON lacks are tagged, as in export). A projector receives every event as hydrated, so its on\n" +
    "and all handlers rebuild a read model while its once handlers (emails, payments) stay silent.\n" +
    "--until stops at a position (inclusive), head or an ISO-8601 time (events created at or before\n" +
    "it), as in events: the state as it was then. --dry-run reads and counts the events without\n" +
    "calling your code. Events reach your code as stored; give --definitions (the module exporting\n" +
    "your EventFactory) and they reach it as your application reads them: renamed types under their\n" +
    "new name, older versions upcast to the current one.",
  flags: {
    ...STORE_FLAG,
    module: { type: "string", short: "m", value: "FILE", description: "your module (path or URL)" },
    export: {
      type: "string",
      short: "e",
      value: "NAME",
      description: "the export to use (default: default)",
    },
    stream: { type: "string", value: "ID", description: "fold this stream only (default: the whole log)" },
    definitions: {
      type: "string",
      value: "FILE",
      description: "a module exporting your EventFactory: events arrive upcast to their current version",
    },
    "definitions-export": {
      type: "string",
      value: "NAME",
      description: "the export of --definitions (default events)",
    },
    until: {
      type: "string",
      value: "POS|TIME",
      description: "stop at this position (inclusive), head, or ISO-8601 time",
    },
    "time-field": {
      type: "string",
      value: "FIELD",
      description: "what a time in --until compares: created (default) or recorded",
    },
    "dry-run": { type: "boolean", description: "count the events; call nothing" },
    ...JSON_FLAG,
  },
  examples: [
    [
      "The state of one user",
      "eventfold replay -s sqlite:./events.db -m ./reducers.ts -e user --stream user-42",
    ],
    [
      "The same user as it was on New Year's Eve",
      "eventfold replay -s sqlite:./events.db -m ./reducers.ts -e user --stream user-42 --until 2025-12-31T23:59:59Z",
    ],
    [
      "Rebuild a read model after a bug fix",
      "eventfold replay -s postgres://app@db/app -m ./projections.ts -e usersProjector",
    ],
  ],
  run,
};
