/**
 * `eventfold verify`: reads the whole log once and checks what the store promises:
 * contiguous revisions from 1 in every stream, unique ids, increasing positions, well
 * formed records, payloads that decode and, given the application's definitions,
 * payloads that pass their schemas. Prints each problem; exits 1 when there is any.
 *
 * @module
 */

import type { AnyEventFactory, EventRecord, EventStore } from "../../mod.ts";
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
import { EXIT, UsageError } from "../_errors.ts";
import { count, plural } from "../_format.ts";
import { DefinitionsCheck } from "../_definitions_check.ts";
import { idHash, IdSet } from "../_id_set.ts";
import { Undecodable } from "../_open_store.ts";
import { Progress } from "../_progress.ts";
import { pace, summary } from "../_summary.ts";
import { loadDefinitions } from "../_user_module.ts";

/** One problem found. */
export interface Finding {
  /** What kind of problem. */
  readonly problem:
    | "revision-gap"
    | "revision-order"
    | "position-order"
    | "duplicate-id"
    | "malformed"
    | "decode"
    | "unknown-type"
    | "upcast"
    | "schema";
  /** Where. */
  readonly position: string;
  /** The event's stream. */
  readonly stream: string;
  /** The event's id. */
  readonly id: string;
  /** What is wrong. */
  readonly message: string;
  /** How many events the finding stands for, when it collapses several (`revision-order`). */
  readonly count?: number;
  /** The position of the last of them, when it collapses several. */
  readonly lastPosition?: string;
}

/** Events of one stream out of order behind the same highest revision: one finding. */
interface OrderRun {
  readonly after: number;
  readonly first: Pick<Finding, "position" | "stream" | "id">;
  lastPosition: string;
  count: number;
  low: number;
  high: number;
}

type Report = (finding: Finding) => Promise<void>;

function malformed(record: EventRecord): string | undefined {
  if (typeof record.id !== "string" || record.id === "") return "its id is not a non-empty string";
  if (typeof record.stream !== "string" || record.stream === "") {
    return "its stream is not a non-empty string";
  }
  if (typeof record.type !== "string" || record.type === "") return "its type is not a non-empty string";
  if (!Number.isSafeInteger(record.revision) || record.revision < 1) {
    return `its revision ${record.revision} is not a positive integer`;
  }
  if (typeof record.created !== "string" || record.created === "") {
    return "its created time is not a non-empty string";
  }
  if (typeof record.outdated !== "boolean") return "its outdated flag is not a boolean";
  return undefined;
}

class Checker {
  readonly #revisions = new Map<string, number>();
  /** Per stream, the run of out-of-order events being gathered (reported when it ends). */
  readonly #runs = new Map<string, OrderRun>();
  readonly #ids = new IdSet(1 << 16);
  readonly suspects = new Set<string>();
  #position: string | undefined;
  readonly #definitions: DefinitionsCheck | undefined;
  readonly #report: Report;

  constructor(definitions: DefinitionsCheck | undefined, report: Report) {
    this.#definitions = definitions;
    this.#report = report;
  }

  get streams(): number {
    return this.#revisions.size;
  }

  async check(record: EventRecord): Promise<void> {
    const at = { position: record.position, stream: record.stream, id: record.id };
    if (this.#position !== undefined && !(record.position > this.#position)) {
      await this.#report({
        ...at,
        problem: "position-order",
        message: `position ${record.position} comes after ${this.#position}`,
      });
    }
    this.#position = record.position;
    const bad = malformed(record);
    if (bad !== undefined) {
      await this.#report({ ...at, problem: "malformed", message: `event ${record.id}: ${bad}` });
      return;
    }
    await this.#revision(record, at);
    if (!this.#ids.add(record.id)) this.suspects.add(idHash(record.id));
    let decoded = true;
    for (const field of ["data", "meta"] as const) {
      const value = record[field];
      if (value instanceof Undecodable) {
        decoded = false;
        await this.#report({
          ...at,
          problem: "decode",
          message: `${field} does not decode: ${value.reason}`,
        });
      }
    }
    if (this.#definitions !== undefined && decoded) {
      const found = await this.#definitions.record(record);
      if (found !== undefined) await this.#report({ ...at, ...found });
    }
  }

  async #revision(record: EventRecord, at: Pick<Finding, "position" | "stream" | "id">): Promise<void> {
    const last = this.#revisions.get(record.stream) ?? 0;
    const expected = last + 1;
    if (record.revision > expected) {
      const missing = record.revision - expected === 1
        ? `revision ${expected} is`
        : `revisions ${expected} to ${record.revision - 1} are`;
      await this.#report({
        ...at,
        problem: "revision-gap",
        message: `revision ${record.revision} follows ${
          last === 0 ? "no event" : `revision ${last}`
        }: ${missing} missing`,
      });
    }
    if (record.revision < expected) {
      // One bad revision puts every later event of its stream out of order: gather them
      // into one finding rather than a line each.
      const run = this.#runs.get(record.stream);
      if (run !== undefined && run.after === last) {
        run.count++;
        run.lastPosition = record.position;
        run.low = Math.min(run.low, record.revision);
        run.high = Math.max(run.high, record.revision);
      } else {
        await this.#endRun(record.stream);
        this.#runs.set(record.stream, {
          after: last,
          first: at,
          lastPosition: record.position,
          count: 1,
          low: record.revision,
          high: record.revision,
        });
      }
    } else {
      await this.#endRun(record.stream);
    }
    this.#revisions.set(record.stream, Math.max(last, record.revision));
  }

  /** Reports the runs still open (call once the log is read). */
  async end(): Promise<void> {
    for (const stream of [...this.#runs.keys()]) await this.#endRun(stream);
  }

  async #endRun(stream: string): Promise<void> {
    const run = this.#runs.get(stream);
    if (run === undefined) return;
    this.#runs.delete(stream);
    if (run.count === 1) {
      await this.#report({
        ...run.first,
        problem: "revision-order",
        message: `revision ${run.low} comes after revision ${run.after} (repeated or out of order)`,
      });
      return;
    }
    const revisions = run.low === run.high ? `revision ${run.low}` : `revisions ${run.low} to ${run.high}`;
    await this.#report({
      ...run.first,
      problem: "revision-order",
      message: `${count(run.count)} events out of order after revision ${run.after} ` +
        `(${revisions} at positions ${run.first.position} to ${run.lastPosition}; repeated or out of order)`,
      count: run.count,
      lastPosition: run.lastPosition,
    });
  }
}

async function confirmDuplicates(
  store: EventStore<AnyEventFactory>,
  suspects: ReadonlySet<string>,
  report: Report,
): Promise<void> {
  const seen = new Map<string, string>();
  for await (const record of store.readAll()) {
    if (!suspects.has(idHash(record.id))) continue;
    const first = seen.get(record.id);
    if (first === undefined) seen.set(record.id, record.position);
    else {
      await report({
        position: record.position,
        stream: record.stream,
        id: record.id,
        problem: "duplicate-id",
        message: `id ${record.id} is stored already at position ${first}`,
      });
    }
  }
}

async function run(args: ParsedArgs, io: Io): Promise<number> {
  noExtraArgs(args, "verify");
  const url = storeUrl(args);
  const max = args.integer("max-problems") ?? 100;
  if (args.has("export") && !args.has("definitions")) {
    throw new UsageError("--export names an export of --definitions; give both");
  }
  const definitions = args.has("definitions")
    ? await loadDefinitions(args.string("definitions")!, args.string("export") ?? "events")
    : undefined;
  let problems = 0;
  const progress = new Progress("verify");
  const report: Report = async (finding) => {
    problems++;
    if (problems > max) return;
    progress.finish();
    await io.out.line(
      io.json
        ? JSON.stringify(finding)
        : `${finding.problem}  position ${finding.position}  stream ${
          JSON.stringify(finding.stream)
        }: ${finding.message}`,
    );
  };
  const checked = await withStore(url, { create: false, lenient: true }, async ({ adapter, store }) => {
    progress.total = (await adapter.stats()).events;
    const checker = new Checker(
      definitions === undefined ? undefined : new DefinitionsCheck(definitions, url.label),
      report,
    );
    for await (const record of store.readAll()) {
      await checker.check(record);
      progress.advance();
    }
    await checker.end();
    if (checker.suspects.size > 0) await confirmDuplicates(store, checker.suspects, report);
    progress.finish();
    return { events: progress.done, streams: checker.streams };
  });
  const hidden = problems > max ? ` (${count(problems - max)} not shown; raise --max-problems)` : "";
  const verdict = problems === 0 ? "no problems" : `${plural(problems, "problem")}${hidden}`;
  await summary(
    io,
    `verify ${url.label}: ${plural(checked.events, "event")} in ${
      plural(checked.streams, "stream")
    }, ${verdict} ${pace(checked.events, progress.elapsed)}`,
    { ok: problems === 0, events: checked.events, streams: checked.streams, problems },
  );
  return problems === 0 ? EXIT.ok : EXIT.failed;
}

/** `eventfold verify`. */
export const verify: Command = {
  name: "verify",
  summary: "check revisions, ids, positions, decodability and schemas; exit 1 on any problem",
  usage: ["verify --store URL [--definitions FILE [--export NAME]] [--max-problems N] [--json]"],
  description: "Reads the whole log once (bounded memory: a compact hash per id and the last revision per\n" +
    "stream) and checks that every stream's revisions run 1, 2, 3... without gaps or repeats, ids\n" +
    "are unique, positions increase, records are well formed and every payload decodes. With\n" +
    "--definitions (a module exporting your EventFactory, export name events unless --export says\n" +
    "otherwise), every event's type must be defined and its data and meta must pass their schemas.\n" +
    "Each problem is printed on stdout (NDJSON with --json); the events one bad revision puts out of\n" +
    "order are one problem with a count. A summary goes to stderr (stdout with --json). Exits 1 when\n" +
    "anything was found.",
  flags: {
    ...STORE_FLAG,
    definitions: { type: "string", value: "FILE", description: "a module exporting your EventFactory" },
    export: { type: "string", value: "NAME", description: "the export of --definitions (default events)" },
    "max-problems": {
      type: "integer",
      value: "N",
      description: "print at most N problems (default 100); all are counted",
    },
    ...JSON_FLAG,
  },
  examples: [
    ["Check a store after an incident", "eventfold verify --store sqlite:./events.db"],
    [
      "Also check every payload against the app's schemas",
      "eventfold verify -s postgres://app@db/app --definitions ./events.ts --export events",
    ],
  ],
  run,
};
