/**
 * `eventfold info`: what a store holds.
 *
 * @module
 */

import type { EventRecord } from "../../mod.ts";
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
import { bytes, count, table } from "../_format.ts";
import { Progress } from "../_progress.ts";

function end(
  record: EventRecord | undefined,
): { position: string; created: string; recorded: string } | null {
  return record === undefined
    ? null
    : { position: record.position, created: record.created, recorded: record.recorded };
}

async function run(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "info");
  const url = storeUrl(args);
  const report = await withStore(url, { create: false, lenient: true }, async ({ adapter, store, size }) => {
    const stats = await adapter.stats();
    const [first] = await adapter.readLog({ direction: "forward", limit: 1, settle: true });
    const [last] = await adapter.readLog({ direction: "backward", limit: 1 });
    const types = new Map<string, number>();
    const progress = new Progress("info: counting types", stats.events);
    for await (const record of store.readAll()) {
      types.set(record.type, (types.get(record.type) ?? 0) + 1);
      progress.advance();
    }
    progress.finish();
    return {
      store: url.label,
      kind: adapter.kind,
      events: stats.events,
      streams: stats.streams,
      types: Object.fromEntries([...types].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)),
      first: end(first),
      last: end(last),
      size: (await size()) ?? null,
      checkpoints: (await adapter.listCheckpoints()).length,
    };
  });
  if (io.json) {
    await io.out.line(JSON.stringify(report));
    return EXIT.ok;
  }
  const rows: string[][] = [
    ["store", `${report.store} (${report.kind})`],
    ["events", count(report.events)],
    ["streams", count(report.streams)],
    ["types", count(Object.keys(report.types).length)],
  ];
  for (const [type, n] of Object.entries(report.types)) rows.push([`  ${type}`, count(n)]);
  const at = (e: typeof report.first) =>
    e === null ? "-" : `${e.position}  created ${e.created}  recorded ${e.recorded}`;
  rows.push(["first", at(report.first)], ["last", at(report.last)]);
  rows.push(["size", report.size === null ? "-" : bytes(report.size)]);
  rows.push(["checkpoints", count(report.checkpoints)]);
  for (const line of table(rows)) await io.out.line(line);
  return EXIT.ok;
}

/** `eventfold info`. */
export const info: Command = {
  name: "info",
  summary: "what a store holds: events, streams, types, first and last event, size",
  usage: ["info --store URL [--json]"],
  description: "Counts events and streams, counts events per type (reading the whole log), shows the\n" +
    "first and last position with their times, the size on disk and the number of checkpoints.",
  flags: { ...STORE_FLAG, ...JSON_FLAG },
  examples: [
    ["Summarise a SQLite store", "eventfold info --store sqlite:./events.db"],
    ["The same as JSON, for scripts", "eventfold info --store postgres://app@db/app?schema=events --json"],
  ],
  run,
};
