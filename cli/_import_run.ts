/**
 * The part `import` and `import --from-valkyr` share once the input is checked: the
 * chunked import under a progress line, then the closing line that says what it did.
 *
 * @module
 */

import type { AnyEventFactory, EventStore, PendingEvent } from "../mod.ts";
import type { Io } from "./_command.ts";
import { count, plural } from "./_format.ts";
import { ChunkedImport, importAll } from "./_importer.ts";
import { Progress } from "./_progress.ts";
import { pace, summary } from "./_summary.ts";

/** How an import went. */
export interface ImportResult {
  /** The target's label. */
  readonly into: string;
  /** The events the input held. */
  readonly total: number;
  /** Events stored. */
  readonly imported: number;
  /** Events skipped because their id was stored already. */
  readonly skipped: number;
  /** Milliseconds since the import started, read when asked (work after it counts too). */
  readonly elapsed: number;
}

/** Where an import goes and how. */
export interface ImportOptions {
  /** The target's label, for messages. */
  readonly into: string;
  /** Events per atomic import call. */
  readonly batch: number;
  /** How many events the input holds, for the progress line. */
  readonly total: number;
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal;
}

/**
 * Imports `events` into `store` in atomic chunks under an `import` progress line.
 *
 * @param store where events go
 * @param events the checked events, in order
 * @param options the target's label, the chunk size, the total and the Ctrl-C signal
 * @returns where they went, how many were stored and skipped, and the time taken
 * @throws {CliFailure} when the store refuses a chunk (naming how far it got)
 * @throws {Interrupted} when `options.signal` aborts
 */
export async function importEvents(
  store: EventStore<AnyEventFactory>,
  events: AsyncIterable<PendingEvent>,
  options: ImportOptions,
): Promise<ImportResult> {
  const importer = new ChunkedImport(store, options.batch);
  const progress = new Progress("import", options.total);
  await importAll(importer, progress, events, `import into ${options.into}`, options.signal);
  return {
    into: options.into,
    total: options.total,
    imported: importer.imported,
    skipped: importer.skipped,
    get elapsed(): number {
      return progress.elapsed;
    },
  };
}

/** What the closing line of an import says beyond the counts. */
export interface ImportReport {
  /** The source's label, when it is not a file (`from <source>`). */
  readonly from?: string;
  /** Notes after "already present", in the parentheses; empty ones are left out. */
  readonly notes: readonly string[];
  /** A clause after the parentheses (`, <tail>`). */
  readonly tail?: string;
  /** `--json` fields between `skipped` and `ms`. */
  readonly fields: Readonly<Record<string, number>>;
}

/**
 * Prints `imported N events [from S] into T (notes)[, tail] in … (… events/s)`, or with
 * `--json` one object `{ imported, skipped, ...fields, ms }`.
 *
 * @param io where output goes
 * @param result what {@linkcode importEvents} returned
 * @param report the source's label, the notes and the extra fields
 */
export async function reportImport(io: Io, result: ImportResult, report: ImportReport): Promise<void> {
  const elapsed = result.elapsed;
  const notes = [result.skipped > 0 ? `${count(result.skipped)} already present` : "", ...report.notes]
    .filter((note) => note !== "").join(", ");
  await summary(
    io,
    `imported ${plural(result.imported, "event")}${
      report.from ? ` from ${report.from}` : ""
    } into ${result.into}` +
      `${notes ? ` (${notes})` : ""}${report.tail ? `, ${report.tail}` : ""} ${pace(result.total, elapsed)}`,
    { imported: result.imported, skipped: result.skipped, ...report.fields, ms: Math.round(elapsed) },
  );
}
