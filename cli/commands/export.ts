/**
 * `eventfold export`: writes events as NDJSON, streamed page by page, keeping ids,
 * `created`, types and payloads exactly (CBOR-only values in tagged JSON).
 *
 * @module
 */

import type { ParsedArgs } from "../_args.ts";
import { readPosition } from "../_bounds.ts";
import {
  type Command,
  type Io,
  JSON_FLAG,
  noExtraArgs,
  STORE_FLAG,
  storeUrl,
  withStore,
} from "../_command.ts";
import { CliFailure, EXIT, Interrupted } from "../_errors.ts";
import { plural } from "../_format.ts";
import { recordLine } from "../_ndjson.ts";
import { givenBounds, hintNoMatch } from "../_no_match.ts";
import { Output } from "../_output.ts";
import { Progress } from "../_progress.ts";
import { pace, summary } from "../_summary.ts";

async function openOutput(path: string | undefined, io: Io): Promise<{ out: Output; close(): void }> {
  if (path === undefined || path === "-") return { out: io.out, close: () => {} };
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, create: true, truncate: true });
  } catch (error) {
    throw new CliFailure(`cannot write ${path}: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
  return { out: new Output(file), close: () => file.close() };
}

async function run(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "export");
  const url = storeUrl(args);
  const streams = args.list("stream");
  const types = args.list("type");
  const path = args.string("output");
  const exported = await withStore(url, { create: false }, async ({ adapter, store }) => {
    const after = args.has("after")
      ? await readPosition(args.string("after")!, adapter, "--after")
      : undefined;
    const filtered = streams.length > 0 || types.length > 0 || after !== undefined;
    const progress = new Progress("export", filtered ? undefined : (await adapter.stats()).events);
    const { out, close } = await openOutput(path, io);
    const signal = io.signal;
    let last: string | undefined;
    try {
      for await (
        const record of store.readAll({
          after,
          streams: streams.length > 0 ? streams : undefined,
          types: types.length > 0 ? types : undefined,
        })
      ) {
        await out.line(recordLine(record, false));
        last = record.position;
        progress.advance();
        if (signal.aborted) break;
      }
      await out.flush();
      if (progress.done === 0 && !signal.aborted) {
        await hintNoMatch(adapter, { types, streams, bounds: givenBounds(args, ["after"]) });
      }
    } finally {
      close();
      progress.finish();
    }
    if (signal.aborted) {
      const resume = last === undefined
        ? "run it again"
        : `run it again, or continue with --after ${last}${
          path !== undefined && path !== "-" ? " (into another file)" : ""
        }`;
      throw new Interrupted(
        `export interrupted after ${plural(progress.done, "event")}; the output is incomplete: ${resume}`,
      );
    }
    return { events: progress.done, ms: progress.elapsed };
  });
  await summary(
    io,
    `exported ${plural(exported.events, "event")} from ${url.label} ${pace(exported.events, exported.ms)}`,
    { exported: exported.events, ms: Math.round(exported.ms) },
    path !== undefined && path !== "-",
  );
  return EXIT.ok;
}

/** `eventfold export`. */
export const exportCommand: Command = {
  name: "export",
  summary: "write events as NDJSON (ids, created, types, data, meta kept exactly)",
  usage: ["export --store URL [--output FILE] [--stream ID]... [--type TYPE]... [--after POS] [--json]"],
  description:
    "Writes one JSON object per event, in position order, to stdout or --output: id, stream, type,\n" +
    'revision, created, outdated, data and meta. Values JSON lacks are tagged ({"$date": ...},\n' +
    '{"$bigint": ...}, {"$map": [...]}, {"$set": [...]}, {"$bytes": base64}, {"$undefined": true}),\n' +
    "so `import` restores them exactly. Store-assigned position and recorded time are left out: two\n" +
    "stores holding the same events export the same bytes. Reads page by page (bounded memory);\n" +
    "progress shows on a terminal, and a summary line goes to stderr (JSON with --json).",
  flags: {
    ...STORE_FLAG,
    output: { type: "string", short: "o", value: "FILE", description: "write to FILE instead of stdout" },
    stream: { type: "list", value: "ID", description: "only this stream" },
    type: { type: "list", value: "TYPE", description: "only this event type" },
    after: { type: "string", value: "POS", description: "only positions after this one" },
    ...JSON_FLAG,
  },
  examples: [
    ["Back up a SQLite store", "eventfold export --store sqlite:./events.db --output backup.ndjson"],
    ["Compress on the fly", "eventfold export -s postgres://app@db/app | gzip > events.ndjson.gz"],
    ["One stream only", "eventfold export -s sqlite:./events.db --stream order-7 > order-7.ndjson"],
  ],
  run,
};
