/**
 * `eventfold checkpoints`: the subscriptions' checkpoints with how far each is behind,
 * and `reset NAME` to make one start over.
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
import { CliFailure, EXIT, UsageError } from "../_errors.ts";
import { count, table } from "../_format.ts";
import { say } from "../_output.ts";

async function list(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "checkpoints", 1);
  const rows = await withStore(storeUrl(args), { create: false, lenient: true }, async ({ adapter }) => {
    const out = [];
    for (const checkpoint of await adapter.listCheckpoints()) {
      out.push({
        name: checkpoint.name,
        position: checkpoint.position,
        updated: checkpoint.updated,
        lag: await adapter.countAfter(checkpoint.position),
        parked: (await adapter.listParked(checkpoint.name)).length,
      });
    }
    return out;
  });
  if (io.json) {
    await io.out.line(JSON.stringify(rows));
    return EXIT.ok;
  }
  if (rows.length === 0) {
    say("no checkpoints");
    return EXIT.ok;
  }
  const lines = table([
    ["NAME", "POSITION", "UPDATED", "LAG", "PARKED"],
    ...rows.map((row) => [row.name, row.position ?? "-", row.updated, count(row.lag), count(row.parked)]),
  ]);
  for (const line of lines) await io.out.line(line);
  return EXIT.ok;
}

async function reset(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "checkpoints", 2);
  const name = args.positionals[1];
  if (name === undefined) throw new UsageError("checkpoints reset needs the NAME of a checkpoint");
  const before = await withStore(storeUrl(args), { create: false, lenient: true }, async ({ adapter }) => {
    const checkpoint = await adapter.getCheckpoint(name);
    if (checkpoint === undefined) throw new CliFailure(`no checkpoint named ${JSON.stringify(name)}`);
    await adapter.deleteCheckpoint(name);
    return checkpoint.position;
  });
  if (io.json) await io.out.line(JSON.stringify({ reset: name, was: before }));
  else {say(
      `reset checkpoint ${JSON.stringify(name)} (was at ${
        before ?? "no position"
      }); it starts over from the first event`,
    );}
  return EXIT.ok;
}

function run(args: ParsedArgs, io: Io): Promise<number> {
  const action = args.positionals[0] ?? "list";
  if (action === "list") return list(args, io);
  if (action === "reset") return reset(args, io);
  throw new UsageError(`unknown checkpoints action ${JSON.stringify(action)} (expected list or reset NAME)`);
}

/** `eventfold checkpoints`. */
export const checkpoints: Command = {
  name: "checkpoints",
  summary: "list subscription checkpoints with their lag; reset one",
  usage: ["checkpoints [list] --store URL [--json]", "checkpoints reset NAME --store URL"],
  description: "Lists every checkpoint with its position, when it was saved, its lag (how many events\n" +
    "the subscription has yet to handle) and how many of its events are parked after failing. `reset NAME` removes a checkpoint, so its subscription\n" +
    "handles the whole log again the next time it runs (a rebuild).",
  flags: { ...STORE_FLAG, ...JSON_FLAG },
  examples: [
    ["How far behind are the subscriptions?", "eventfold checkpoints --store postgres://app@db/app"],
    [
      'Rebuild the read model fed by the projection "users"',
      "eventfold checkpoints reset users --store sqlite:./events.db",
    ],
  ],
  run,
};
