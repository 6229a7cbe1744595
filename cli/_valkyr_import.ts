/**
 * `eventfold import --from-valkyr URL`: brings a @valkyr/event-store database (PostgreSQL
 * or SQLite) into an Eventfold store. Every row is decoded (and checked against
 * `--definitions` when given) first, so an undecodable row imports nothing unless
 * `--skip-bad`; then events go through `EventStore.import` in valkyr's order (by
 * `created`), keeping ids, streams, types, payloads and `created`, each stream in its
 * valkyr order. Relations follow. Ids already stored are skipped, so a second run imports
 * nothing and an interrupted run resumes.
 *
 * @module
 */

import { type AnyEventFactory, type PendingEvent, validateEvent } from "../mod.ts";
import type { ParsedArgs } from "./_args.ts";
import { type Io, noExtraArgs, storeUrl, withStore } from "./_command.ts";
import { CliFailure, EXIT, Interrupted, UsageError } from "./_errors.ts";
import { plural } from "./_format.ts";
import { importEvents, reportImport } from "./_import_run.ts";
import { say } from "./_output.ts";
import { Progress } from "./_progress.ts";
import { parseStoreUrl } from "./_store_url.ts";
import { summary } from "./_summary.ts";
import { loadDefinitions } from "./_user_module.ts";
import { decodeRow, type ValkyrSource } from "./_valkyr_source.ts";
import { PermissiveEvents } from "./_permissive_events.ts";
import { checkEvent } from "../stores/_input.ts";

const SHOWN = 20;
const PAGE = 1000;

/** The flag's help line. */
export const FROM_VALKYR_HELP: string = "import a @valkyr/event-store database instead of NDJSON: " +
  "postgres://user@host/db[?schema=name] (default schema public) or sqlite:path";

async function openSource(text: string): Promise<ValkyrSource> {
  if (text.startsWith("sqlite:")) {
    const url = parseStoreUrl(text, "--from-valkyr");
    if (url.kind !== "sqlite") throw new UsageError("--from-valkyr: expected sqlite:path");
    const { openValkyrSqlite } = await import("./_valkyr_sqlite.ts");
    return await openValkyrSqlite(url.path);
  }
  if (text.startsWith("postgres://") || text.startsWith("postgresql://")) {
    const url = parseStoreUrl(text, "--from-valkyr");
    if (url.kind !== "postgres") throw new UsageError("--from-valkyr: expected a postgres:// URL");
    const { openValkyrPostgres } = await import("./_valkyr_postgres.ts");
    return await openValkyrPostgres(url);
  }
  throw new UsageError(
    `--from-valkyr: expected postgres://user@host/db[?schema=name] or sqlite:path, got ${
      JSON.stringify(text)
    }`,
  );
}

const anyEvent = new PermissiveEvents();

/** What the store would refuse about the event: its input rules, then its schemas. */
async function problem(
  event: PendingEvent,
  definitions: AnyEventFactory | undefined,
): Promise<string | undefined> {
  try {
    checkEvent(definitions ?? anyEvent, event, 0, true);
    if (definitions !== undefined) await validateEvent(definitions, event.type, event.data, event.meta);
    return undefined;
  } catch (error) {
    const text = (error instanceof Error ? error.message : String(error)).replace(
      /^event #0 (\([^)]*\) )?/,
      "",
    );
    return `row id=${event.id}: ${text}`;
  }
}

interface Checked {
  readonly good: number;
  readonly bad: ReadonlySet<string>;
  /** Rows without a usable id cannot be skipped by id: they fail the import whatever. */
  readonly nameless: number;
  readonly reasons: readonly string[];
}

async function check(
  source: ValkyrSource,
  definitions: AnyEventFactory | undefined,
  signal: AbortSignal,
): Promise<Checked> {
  const progress = new Progress("import: checking", await source.count());
  let good = 0;
  let nameless = 0;
  const bad = new Set<string>();
  const reasons: string[] = [];
  for await (const page of source.rows(PAGE)) {
    if (signal.aborted) {
      progress.finish();
      throw new Interrupted(`import interrupted while checking ${source.label}; nothing was imported`);
    }
    for (const row of page) {
      const decoded = decodeRow(row, source.jsonPayloads);
      const why = "bad" in decoded ? decoded.bad : await problem(decoded.event, definitions);
      if (why === undefined) {
        good++;
        continue;
      }
      if (typeof row.id === "string" && row.id !== "") bad.add(row.id);
      else nameless++;
      if (reasons.length < SHOWN) reasons.push(why);
    }
    progress.advance(page.length);
  }
  progress.finish();
  return { good, bad, nameless, reasons };
}

async function* goodEvents(source: ValkyrSource, bad: ReadonlySet<string>): AsyncGenerator<PendingEvent> {
  for await (const page of source.rows(PAGE)) {
    for (const row of page) {
      if (typeof row.id === "string" && bad.has(row.id)) continue;
      const decoded = decodeRow(row, source.jsonPayloads);
      // A row that turned bad since the check (a writer still running) stops the import.
      if ("bad" in decoded) throw new CliFailure(`${decoded.bad} (it changed since the check)`);
      yield decoded.event;
    }
  }
}

/**
 * Runs `eventfold import --from-valkyr`.
 *
 * @param args the parsed arguments of `import`
 * @param io where output goes
 * @returns the exit code
 * @throws {UsageError} for a FILE argument or a malformed URL
 * @throws {CliFailure} when the source has no valkyr tables, a row does not decode, or the store refuses events
 */
export async function importFromValkyr(args: ParsedArgs, io: Io): Promise<number> {
  if (args.positionals.length > 0) {
    throw new UsageError("--from-valkyr reads a database, not a FILE: leave the file out");
  }
  noExtraArgs(args, "import");
  const url = storeUrl(args);
  const skipBad = args.boolean("skip-bad");
  const batch = args.integer("batch") ?? 1000;
  if (batch < 1) throw new UsageError("--batch must be at least 1");
  if (args.has("export") && !args.has("definitions")) {
    throw new UsageError("--export names an export of --definitions; give both");
  }
  const definitions = args.has("definitions")
    ? await loadDefinitions(args.string("definitions")!, args.string("export") ?? "events")
    : undefined;
  const source = await openSource(args.string("from-valkyr")!);
  try {
    const checked = await check(source, definitions, io.signal);
    const badCount = checked.bad.size + checked.nameless;
    if (badCount > 0 && (!skipBad || checked.nameless > 0)) {
      if (io.json) {
        await io.out.line(JSON.stringify({ imported: 0, bad: badCount, problems: checked.reasons }));
      }
      const more = badCount > 1 ? ` (and ${plural(badCount - 1, "more bad row")})` : "";
      const remedy = checked.nameless > 0
        ? "rows without an id cannot be skipped: fix them in the valkyr database"
        : "fix the rows, or pass --skip-bad to import the others";
      throw new CliFailure(`${source.label}: ${checked.reasons[0]}${more}; nothing was imported (${remedy})`);
    }
    for (const reason of checked.reasons) say(`eventfold: skipping ${reason}`);
    if (args.boolean("dry-run")) {
      await summary(
        io,
        `${source.label}: ${plural(checked.good, "event")} to import, ${plural(badCount, "bad row")} ` +
          "(dry run: nothing imported)",
        { events: checked.good, bad: badCount, dryRun: true },
      );
      return EXIT.ok;
    }
    return await withStore(url, { create: true, events: definitions }, async ({ store }) => {
      const result = await importEvents(store, goodEvents(source, checked.bad), {
        into: url.label,
        batch,
        total: checked.good,
        signal: io.signal,
      });
      let relations = 0;
      for await (const page of source.relations(PAGE)) {
        await store.relations.insertMany(page);
        relations += page.length;
      }
      await reportImport(io, result, {
        from: source.label,
        notes: [badCount > 0 ? `${plural(badCount, "bad row")} skipped` : ""],
        tail: `${plural(relations, "relation")} linked`,
        fields: { bad: badCount, relations },
      });
      return EXIT.ok;
    });
  } finally {
    await source.close();
  }
}
