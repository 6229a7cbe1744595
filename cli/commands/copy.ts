/**
 * `eventfold copy`: moves every event of one store into another, streamed, with the
 * guarantees of `import` (ids and `created` kept, already present ids skipped).
 *
 * @module
 */

import type { ParsedArgs } from "../_args.ts";
import { type Command, type Io, JSON_FLAG, noExtraArgs, storeUrl, withStore } from "../_command.ts";
import { EXIT, UsageError } from "../_errors.ts";
import { count, plural } from "../_format.ts";
import { ChunkedImport, importAll } from "../_importer.ts";
import { Progress } from "../_progress.ts";
import { pace, summary } from "../_summary.ts";

// Large chunks: a PostgreSQL target spends its time per statement and per commit.
const DEFAULT_BATCH = 5000;

async function run(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "copy");
  const from = storeUrl(args, "from");
  const to = storeUrl(args, "to");
  if (from.label === to.label) throw new UsageError(`--from and --to name the same store (${from.label})`);
  const batch = args.integer("batch") ?? DEFAULT_BATCH;
  const signal = io.signal;
  if (batch < 1) throw new UsageError("--batch must be at least 1");
  const result = await withStore(
    from,
    { create: false },
    (source) =>
      withStore(to, { create: true }, async (target) => {
        const importer = new ChunkedImport(target.store, batch);
        const progress = new Progress("copy", (await source.adapter.stats()).events);
        await importAll(importer, progress, source.store.readAll(), `copy to ${to.label}`, signal);
        return {
          read: progress.done,
          imported: importer.imported,
          skipped: importer.skipped,
          ms: progress.elapsed,
        };
      }),
  );
  const skipped = result.skipped > 0 ? ` (${count(result.skipped)} already present)` : "";
  await summary(
    io,
    `copied ${plural(result.imported, "event")} from ${from.label} to ${to.label}${skipped} ${
      pace(result.read, result.ms)
    }`,
    { read: result.read, imported: result.imported, skipped: result.skipped, ms: Math.round(result.ms) },
  );
  return EXIT.ok;
}

/** `eventfold copy`. */
export const copy: Command = {
  name: "copy",
  summary: "copy every event from one store to another (idempotent, streamed)",
  usage: ["copy --from URL --to URL [--batch N] [--json]"],
  description:
    "Reads the source log page by page and imports it into the target in atomic chunks of --batch\n" +
    "(default 5000; the next chunk is read while one is written), keeping ids, created times, types, data and meta. Ids already in the target are\n" +
    "skipped, so a copy can be repeated or resumed, and only new events are added. The target is\n" +
    "created when missing. Snapshots and checkpoints are not copied (they belong to the source).\n" +
    "A $subject:forgotten record (left by forget) destroys the target's key of its subject too.\n" +
    "Ctrl-C stops after the chunk being written and says how far it got (exit 130); run it again to resume.",
  flags: {
    from: { type: "string", value: "URL", description: "the store to read" },
    to: { type: "string", value: "URL", description: "the store to write (created when missing)" },
    batch: { type: "integer", value: "N", description: "events per atomic import call (default 5000)" },
    ...JSON_FLAG,
  },
  examples: [
    [
      "Move from SQLite to PostgreSQL",
      "eventfold copy --from sqlite:./events.db --to postgres://app@db/app?schema=events",
    ],
    [
      "Keep a local replica up to date",
      "eventfold copy --from postgres://app@db/app --to sqlite:./replica.db",
    ],
  ],
  run,
};
