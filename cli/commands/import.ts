/**
 * `eventfold import`: reads NDJSON (a file or stdin) into a store. The file is checked
 * whole first, so a broken line imports nothing (unless `--skip-bad`); then it is read
 * again and imported in atomic chunks. Ids already stored are skipped: running the same
 * import twice imports nothing the second time.
 *
 * @module
 */

import type { PendingEvent } from "../../mod.ts";
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
import { DefinitionsCheck } from "../_definitions_check.ts";
import { CliFailure, EXIT, Interrupted, UsageError } from "../_errors.ts";
import { count, plural } from "../_format.ts";
import { importEvents, reportImport } from "../_import_run.ts";
import { BadLineError, MAX_LINE_BYTES, parseLine, readLines } from "../_ndjson.ts";
import { say } from "../_output.ts";
import { MAX_BIGINT_DIGITS, MAX_DEPTH } from "../_tagged_json.ts";
import { Progress } from "../_progress.ts";
import { summary } from "../_summary.ts";
import { loadDefinitions } from "../_user_module.ts";
import { FROM_VALKYR_HELP, importFromValkyr } from "../_valkyr_import.ts";

const SHOWN = 20;

interface Checked {
  /** Lines holding an event. */
  readonly good: number;
  /** Bad lines: every number, and the first few reasons. */
  readonly bad: number[];
  readonly reasons: string[];
}

async function openFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new CliFailure(`${path}: no such file`);
    throw new CliFailure(`cannot read ${path}: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
}

type Item = { readonly line: number; readonly event: PendingEvent } | {
  readonly line: number;
  readonly bad: string;
};

async function* items(path: string, skip: ReadonlySet<number>, maxLine: number): AsyncGenerator<Item> {
  const file = await openFile(path);
  for await (const line of readLines(file.readable, maxLine)) {
    if (line instanceof BadLineError) {
      yield { line: line.line, bad: line.message };
      continue;
    }
    if (line.text.trim() === "" || skip.has(line.number)) continue;
    try {
      yield { line: line.number, event: parseLine(line.text, line.number) };
    } catch (error) {
      if (!(error instanceof BadLineError)) throw error;
      yield { line: line.number, bad: error.message };
    }
  }
}

async function* goodEvents(source: AsyncIterable<Item>): AsyncGenerator<PendingEvent> {
  for await (const item of source) if (!("bad" in item)) yield item.event;
}

async function check(
  path: string,
  definitions: DefinitionsCheck | undefined,
  maxLine: number,
  signal: AbortSignal,
): Promise<Checked> {
  let good = 0;
  const bad: number[] = [];
  const reasons: string[] = [];
  const progress = new Progress("import: checking");
  for await (const item of items(path, new Set(), maxLine)) {
    if (signal.aborted) {
      progress.finish();
      throw new Interrupted(`import interrupted while checking line ${item.line}; nothing was imported`);
    }
    progress.advance();
    const problem = "bad" in item
      ? item.bad
      : (await definitions?.event(item.event, `line ${item.line}`))?.message;
    if (problem === undefined) {
      good++;
      continue;
    }
    bad.push(item.line);
    if (reasons.length < SHOWN) {
      reasons.push(problem.startsWith("line ") ? problem : `line ${item.line}: ${problem}`);
    }
  }
  progress.finish();
  return { good, bad, reasons };
}

async function spoolStdin(): Promise<string> {
  if (Deno.stdin.isTerminal()) {
    throw new UsageError(
      "give an NDJSON file to import, or pipe one into stdin (see eventfold import --help)",
    );
  }
  const path = await Deno.makeTempFile({ prefix: "eventfold-import-", suffix: ".ndjson" });
  const file = await Deno.open(path, { write: true });
  await Deno.stdin.readable.pipeTo(file.writable);
  return path;
}

function maxLineBytes(args: ParsedArgs): number {
  const mib = args.integer("max-line-mib");
  if (mib === undefined) return MAX_LINE_BYTES;
  if (mib < 1 || mib > 1024) throw new UsageError(`--max-line-mib must be 1 to 1024, got ${mib}`);
  return mib * 1024 * 1024;
}

async function run(args: ParsedArgs, io: Io): Promise<number> {
  if (args.has("from-valkyr")) return await importFromValkyr(args, io);
  noExtraArgs(args, "import", 1);
  const url = storeUrl(args);
  const skipBad = args.boolean("skip-bad");
  const batch = args.integer("batch") ?? 1000;
  if (batch < 1) throw new UsageError("--batch must be at least 1");
  const maxLine = maxLineBytes(args);
  if (args.has("export") && !args.has("definitions")) {
    throw new UsageError("--export names an export of --definitions; give both");
  }
  const definitions = args.has("definitions")
    ? await loadDefinitions(args.string("definitions")!, args.string("export") ?? "events")
    : undefined;
  const given = args.positionals[0];
  const fromStdin = given === undefined || given === "-";
  const path = fromStdin ? await spoolStdin() : given;
  const name = fromStdin ? "stdin" : given;
  try {
    const checked = await check(
      path,
      definitions === undefined ? undefined : new DefinitionsCheck(definitions, name),
      maxLine,
      io.signal,
    );
    if (checked.bad.length > 0 && !skipBad) {
      if (io.json) {
        await io.out.line(
          JSON.stringify({ imported: 0, bad: checked.bad.length, problems: checked.reasons }),
        );
      }
      const more = checked.bad.length > 1 ? ` (and ${plural(checked.bad.length - 1, "more bad line")})` : "";
      throw new CliFailure(
        `${name}: ${
          checked.reasons[0]
        }${more}; nothing was imported (fix the file, or pass --skip-bad to import the good lines)`,
      );
    }
    for (const reason of checked.reasons) if (skipBad) say(`eventfold: skipping ${name} ${reason}`);
    if (args.boolean("dry-run")) {
      await summary(
        io,
        `${name}: ${plural(checked.good, "event")} to import, ${
          plural(checked.bad.length, "bad line")
        } (dry run: nothing imported)`,
        {
          events: checked.good,
          bad: checked.bad.length,
          dryRun: true,
        },
      );
      return EXIT.ok;
    }
    const badLines = new Set(checked.bad);
    return await withStore(url, { create: true, events: definitions }, async ({ store }) => {
      const result = await importEvents(store, goodEvents(items(path, badLines, maxLine)), {
        into: url.label,
        batch,
        total: checked.good,
        signal: io.signal,
      });
      const duplicates = checked.good - result.imported - result.skipped;
      await reportImport(io, result, {
        notes: [
          duplicates > 0 ? `${count(duplicates)} repeated in the file` : "",
          checked.bad.length > 0 ? `${plural(checked.bad.length, "bad line")} skipped` : "",
        ],
        fields: { duplicates, bad: checked.bad.length },
      });
      return EXIT.ok;
    });
  } finally {
    if (fromStdin) await Deno.remove(path).catch(() => {});
  }
}

/** `eventfold import`. */
export const importCommand: Command = {
  name: "import",
  summary: "read NDJSON events into a store (idempotent; a broken file imports nothing)",
  usage: [
    "import --store URL [FILE | -] [--skip-bad] [--batch N] [--max-line-mib N] [--definitions FILE [--export NAME]] [--dry-run] [--json]",
    "import --store URL --from-valkyr postgres://user@host/db[?schema=name] | sqlite:path [--skip-bad] [--batch N] [--definitions FILE] [--dry-run] [--json]",
  ],
  description:
    "Reads events written by `export` (or `events`) from FILE or stdin. The whole input is checked\n" +
    "first: a line that is not an event is reported with its line number and nothing is imported,\n" +
    "unless --skip-bad is given. Events are then imported in atomic chunks of --batch (default 1000)\n" +
    "keeping their ids and created times; ids already in the store are skipped, so running the same\n" +
    "import twice imports nothing the second time, and an interrupted import resumes where it stopped.\n" +
    "With --definitions, every event must also pass its schema. The store is created when missing.\n" +
    "A $subject:forgotten record (left by forget) destroys the store's key of its subject too.\n" +
    "Each line costs bounded work: a line over 16 MiB (--max-line-mib), a value nested deeper than\n" +
    `${MAX_DEPTH} levels or a $bigint of more than ${
      count(MAX_BIGINT_DIGITS)
    } digits is a bad line, named by its number.`,
  flags: {
    ...STORE_FLAG,
    "skip-bad": { type: "boolean", description: "import the good lines and report the bad ones" },
    batch: { type: "integer", value: "N", description: "events per atomic import call (default 1000)" },
    "max-line-mib": {
      type: "integer",
      value: "N",
      description: "the longest line accepted, in MiB (default 16); a longer one is a bad line",
    },
    definitions: {
      type: "string",
      value: "FILE",
      description: "a module exporting the EventFactory to validate against",
    },
    export: { type: "string", value: "NAME", description: "the export of --definitions (default events)" },
    "dry-run": { type: "boolean", description: "check the input only; import nothing" },
    "from-valkyr": { type: "string", value: "URL", description: FROM_VALKYR_HELP },
    ...JSON_FLAG,
  },
  examples: [
    [
      "Restore a backup into a new SQLite store",
      "eventfold import --store sqlite:./restored.db backup.ndjson",
    ],
    [
      "Move a compressed export into PostgreSQL",
      "gunzip -c events.ndjson.gz | eventfold import -s postgres://app@db/app -",
    ],
    [
      "Check a file against the app's schemas",
      "eventfold import -s memory: events.ndjson --definitions ./events.ts --dry-run",
    ],
    [
      "Move a @valkyr/event-store database over (ids, created times, order and relations kept)",
      "eventfold import -s postgres://app@db/app --from-valkyr 'postgres://app@db/app?schema=event_store'",
    ],
  ],
  run,
};
