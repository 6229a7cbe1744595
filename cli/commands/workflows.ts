/**
 * `eventfold workflows`: the workflows a store holds, with their instances by status and
 * their timers (pending, and due now by this machine's clock); `workflows show NAME KEY`:
 * one instance's state, status, timers and the inputs it handled with what each produced.
 * Read from the workflows' own records in the log, so no definitions are needed.
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
import { WORKFLOW_TYPES } from "../../events/system.ts";
import type { EventRecord } from "../../events/record.ts";
import type { StateData, TimerRow } from "../../workflows/_records.ts";
import { instanceStream } from "../../workflows/_records.ts";
import type { Adapter } from "../../contract/mod.ts";

const PAGE = 1000;
const TYPES = [
  WORKFLOW_TYPES.state,
  WORKFLOW_TYPES.timerSet,
  WORKFLOW_TYPES.timerCancelled,
  WORKFLOW_TYPES.timerFired,
];

interface Summary {
  name: string;
  instances: number;
  byStatus: Record<string, number>;
  timers: number;
  due: number;
}

/** Every record of `types` in the log, page by page. */
async function* records(adapter: Adapter, types: readonly string[], streams?: string[]) {
  let after: string | undefined;
  let settle = true;
  for (;;) {
    const page = await adapter.readLog({ after, direction: "forward", limit: PAGE, types, streams, settle });
    settle = false;
    yield* page;
    if (page.length < PAGE) return;
    after = page[page.length - 1].position;
  }
}

async function list(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "workflows", 1);
  const now = new Date().toISOString();
  const rows = await withStore(storeUrl(args), { create: false, lenient: true }, async ({ adapter }) => {
    const status = new Map<string, Map<string, string>>();
    const timers = new Map<string, Map<string, TimerRow>>();
    for await (const record of records(adapter, TYPES)) {
      if (record.type === WORKFLOW_TYPES.state) {
        const data = record.data as StateData;
        const of = status.get(data.workflow) ?? new Map();
        of.set(data.key, data.status);
        status.set(data.workflow, of);
        continue;
      }
      // Timer records live in "$workflows:NAME:timers".
      const name = record.stream.slice("$workflows:".length, -":timers".length);
      const row = record.data as TimerRow;
      const of = timers.get(name) ?? new Map();
      if (record.type === WORKFLOW_TYPES.timerSet) of.set(`${row.key}\u0000${row.id}`, row);
      else of.delete(`${row.key}\u0000${row.id}`);
      timers.set(name, of);
    }
    const names = [...new Set([...status.keys(), ...timers.keys()])].sort();
    return names.map((name): Summary => {
      const byStatus: Record<string, number> = {};
      for (const value of status.get(name)?.values() ?? []) byStatus[value] = (byStatus[value] ?? 0) + 1;
      const pending = [...timers.get(name)?.values() ?? []];
      return {
        name,
        instances: status.get(name)?.size ?? 0,
        byStatus,
        timers: pending.length,
        due: pending.filter((row) => row.at <= now).length,
      };
    });
  });
  if (io.json) {
    for (const row of rows) await io.out.line(JSON.stringify(row));
    return EXIT.ok;
  }
  const lines = table([
    ["WORKFLOW", "INSTANCES", "RUNNING", "COMPLETED", "COMPENSATED", "FAILED", "TIMERS", "DUE"],
    ...rows.map((row) => [
      row.name,
      count(row.instances),
      count(row.byStatus.running ?? 0),
      count(row.byStatus.completed ?? 0),
      count(row.byStatus.compensated ?? 0),
      count(row.byStatus.failed ?? 0),
      count(row.timers),
      count(row.due),
    ]),
  ]);
  for (const line of lines) await io.out.line(line);
  return EXIT.ok;
}

async function show(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "workflows", 3);
  const [, name, key] = args.positionals;
  if (name === undefined || key === undefined) {
    throw new UsageError("workflows show needs the workflow's NAME and the instance's KEY");
  }
  const history = await withStore(storeUrl(args), { create: false, lenient: true }, async ({ adapter }) => {
    const out: EventRecord[] = [];
    let from = 1;
    for (;;) {
      const page = await adapter.readStream(instanceStream(name, key), {
        fromRevision: from,
        direction: "forward",
        limit: PAGE,
        types: [WORKFLOW_TYPES.state],
      });
      out.push(...page);
      if (page.length < PAGE) break;
      from = page[page.length - 1].revision + 1;
    }
    return out.map((record) => record.data as StateData);
  });
  if (history.length === 0) {
    throw new CliFailure(`workflow ${JSON.stringify(name)} has no instance ${JSON.stringify(key)}`);
  }
  const last = history[history.length - 1];
  if (io.json) {
    await io.out.line(JSON.stringify({
      workflow: name,
      key,
      status: last.status,
      state: last.state,
      reason: last.reason,
      timers: Object.values(last.timers).map((row) => ({ id: row.id, at: row.at })),
      inputs: history.map((data) => ({ ...data.input, status: data.status, outputs: data.outputs })),
    }));
    return EXIT.ok;
  }
  await io.out.line(
    `workflow ${name}, instance ${key}: ${last.status}${last.reason ? ` (${last.reason})` : ""}`,
  );
  await io.out.line(`state: ${JSON.stringify(last.state)}`);
  for (const row of Object.values(last.timers)) await io.out.line(`timer ${row.id} due ${row.at}`);
  const lines = table([
    ["POSITION", "INPUT", "STREAM", "STATUS", "OUTPUTS"],
    ...history.map((data) => [
      data.input.position,
      data.input.type,
      data.input.stream,
      data.status,
      count(data.outputs.length),
    ]),
  ]);
  for (const line of lines) await io.out.line(line);
  return EXIT.ok;
}

function run(args: ParsedArgs, io: Io): Promise<number> {
  const action = args.positionals[0] ?? "list";
  if (action === "list") return list(args, io);
  if (action === "show") return show(args, io);
  throw new UsageError(`unknown workflows action ${JSON.stringify(action)} (expected list or show NAME KEY)`);
}

/** `eventfold workflows`. */
export const workflows: Command = {
  name: "workflows",
  summary: "list workflows with their instances by status and their timers; show one instance",
  usage: ["workflows [list] --store URL [--json]", "workflows show NAME KEY --store URL [--json]"],
  description:
    "Lists every workflow the store holds records of (store.runWorkflow), with how many instances\n" +
    "are running, completed, compensated or failed, and how many timers are pending and due now by\n" +
    "this machine's clock. `show NAME KEY` prints one instance: its status, state and timers, and\n" +
    "every input it handled, in order, with the status it left and how many events it appended.",
  flags: { ...STORE_FLAG, ...JSON_FLAG },
  examples: [
    ["Where are the sagas?", "eventfold workflows --store sqlite:./events.db"],
    ["One order's saga", "eventfold workflows show orders order-42 --store sqlite:./events.db"],
  ],
  run,
};
