/**
 * `eventfold scavenge`: removes for good the events that the streams' retention rules
 * (`maxAge`, `maxCount`) hide, in bounded transactions, with progress on a terminal. Ctrl-C
 * stops it between two transactions; what it removed was hidden already, and running it
 * again goes on from there.
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
import { CliFailure, EXIT, Interrupted, UsageError } from "../_errors.ts";
import { count, plural } from "../_format.ts";
import { Progress } from "../_progress.ts";
import { pace, summary } from "../_summary.ts";
import { scavenge as scavengeStore } from "../../stores/_scavenge.ts";

const DEFAULT_BATCH = 1000;

async function run(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "scavenge");
  const url = storeUrl(args);
  const batchSize = args.integer("batch") ?? DEFAULT_BATCH;
  if (batchSize < 1) throw new UsageError("--batch must be at least 1");
  const progress = new Progress("scavenge: events removed");
  const result = await withStore(url, { create: false }, async ({ adapter }) => {
    if (typeof adapter.streamsWithMetadata !== "function" || typeof adapter.streamStatus !== "function") {
      throw new CliFailure(`${url.label} keeps no stream metadata (the ${adapter.kind} adapter has none)`);
    }
    return await scavengeStore(adapter, () => Date.now(), {
      batchSize,
      signal: io.signal,
      onProgress: ({ removed }) => progress.advance(removed - progress.done),
    });
  });
  progress.finish();
  const counts = {
    streams: result.streams,
    truncated: result.truncated,
    removed: result.removed,
    transactions: result.transactions,
    complete: result.complete,
    ms: Math.round(progress.elapsed),
  };
  const done = `${plural(result.removed, "event")} from ${plural(result.truncated, "stream")} in ${
    plural(result.transactions, "transaction")
  }`;
  if (!result.complete) {
    if (io.json) await io.out.line(JSON.stringify(counts));
    throw new Interrupted(
      `scavenge of ${url.label} interrupted after removing ${done}; only hidden events were removed: run it again to go on`,
    );
  }
  await summary(
    io,
    `scavenged ${url.label}: ${count(result.streams)} with retention rules, removed ${done} ${
      pace(result.removed, progress.elapsed)
    }`,
    counts,
  );
  return EXIT.ok;
}

/** `eventfold scavenge`. */
export const scavenge: Command = {
  name: "scavenge",
  summary: "remove for good the events streams' retention rules (maxAge, maxCount) hide",
  usage: ["scavenge --store URL [--batch N] [--json]"],
  description:
    "Walks the streams that have retention rules (set with store.setStreamMetadata) and removes the\n" +
    "events the rules hide, at most --batch events (default 1000) per transaction. Reads of those\n" +
    "streams hide the events already; reads of the whole log (export, subscriptions) show them until\n" +
    "scavenge removes them. Ages are told by this machine's clock. Ctrl-C stops it between two\n" +
    "transactions (exit code 130); running it again goes on from there.",
  flags: {
    ...STORE_FLAG,
    batch: {
      type: "integer",
      value: "N",
      description: `events removed per transaction (default ${DEFAULT_BATCH})`,
    },
    ...JSON_FLAG,
  },
  examples: [["Remove expired events", "eventfold scavenge --store sqlite:./events.db"]],
  run,
};
