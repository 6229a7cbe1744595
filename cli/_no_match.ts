/**
 * The hint printed on stderr when a command's filters match no event: silence would
 * look the same as an empty store, so it says what the store does hold (its types, its
 * streams, its range of positions). The exit code stays 0: no match is an answer.
 *
 * @module
 */

import type { Adapter } from "../mod.ts";
import type { ParsedArgs } from "./_args.ts";
import { count, plural } from "./_format.ts";
import { say } from "./_output.ts";

/** What a command filtered on. */
export interface Filters {
  /** `--type` values. */
  readonly types?: readonly string[];
  /** `--stream` values. */
  readonly streams?: readonly string[];
  /** `--prefix` of `streams`. */
  readonly prefix?: string;
  /** The other bounds given, as typed (`--after 42`, `--since 2026-01-01`). */
  readonly bounds?: readonly string[];
}

// Listing the types reads the log; past this many events the hint says what it saw.
const SCAN_LIMIT = 100_000;
const PAGE = 1000;
const SHOWN = 20;

/**
 * The bound flags of `names` that were given, as `--name value`, for the hint.
 *
 * @param args the parsed arguments
 * @param names the flags to look at
 * @returns for example `["--after 42"]`
 */
export function givenBounds(args: ParsedArgs, names: readonly string[]): string[] {
  return names.filter((name) => args.has(name)).map((name) => `--${name} ${args.string(name)}`);
}

async function storeTypes(adapter: Adapter): Promise<{ types: string[]; complete: boolean }> {
  const types = new Set<string>();
  let after: string | undefined;
  let read = 0;
  while (read < SCAN_LIMIT) {
    const page = await adapter.readLog({ after, direction: "forward", limit: PAGE });
    for (const record of page) types.add(record.type);
    read += page.length;
    if (page.length < PAGE) return { types: [...types].sort(), complete: true };
    after = page[page.length - 1].position;
  }
  return { types: [...types].sort(), complete: false };
}

function list(items: readonly string[]): string {
  const shown = items.slice(0, SHOWN).map((item) => JSON.stringify(item)).join(", ");
  return items.length > SHOWN ? `${shown} and ${count(items.length - SHOWN)} more` : shown;
}

async function missingStreams(adapter: Adapter, streams: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const stream of streams) {
    const [first] = await adapter.readStream(stream, { direction: "forward", limit: 1 });
    if (first === undefined) missing.push(stream);
  }
  return missing;
}

/**
 * Builds the hint for filters that matched nothing.
 *
 * @param adapter the store
 * @param filters what was filtered on
 * @returns the line (without the `eventfold: ` prefix), or `undefined` when no filter was given
 */
export async function noMatchHint(adapter: Adapter, filters: Filters): Promise<string | undefined> {
  const given = [
    ...(filters.types ?? []).map((type) => `--type ${JSON.stringify(type)}`),
    ...(filters.streams ?? []).map((stream) => `--stream ${JSON.stringify(stream)}`),
    ...(filters.prefix ? [`--prefix ${JSON.stringify(filters.prefix)}`] : []),
    ...(filters.bounds ?? []),
  ];
  if (given.length === 0) return undefined;
  const stats = await adapter.stats();
  if (stats.events === 0) return `no events match ${given.join(" ")} (the store is empty)`;
  const facts: string[] = [];
  if ((filters.types ?? []).length > 0) {
    try {
      const { types, complete } = await storeTypes(adapter);
      facts.push(
        `${complete ? "types in the store" : `types in its first ${count(SCAN_LIMIT)} events`}: ${
          list(types)
        }`,
      );
    } catch (error) {
      // A hint must not fail the command: an undecodable event is for verify to report.
      facts.push(`its types could not be listed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if ((filters.streams ?? []).length > 0) {
    const missing = await missingStreams(adapter, filters.streams ?? []);
    if (missing.length > 0) {
      facts.push(
        `no stream ${missing.map((s) => JSON.stringify(s)).join(", ")} among its ${
          plural(stats.streams, "stream")
        }; eventfold streams lists them`,
      );
    }
  }
  if (filters.prefix) facts.push(`no stream id starts with it among ${plural(stats.streams, "stream")}`);
  if (facts.length === 0) {
    facts.push(`the store holds ${plural(stats.events, "event")} up to position ${stats.head ?? "-"}`);
  }
  return `no events match ${given.join(" ")} (${facts.join("; ")})`;
}

/**
 * Prints {@linkcode noMatchHint} on stderr, when there is one.
 *
 * @param adapter the store
 * @param filters what was filtered on
 */
export async function hintNoMatch(adapter: Adapter, filters: Filters): Promise<void> {
  const hint = await noMatchHint(adapter, filters);
  if (hint !== undefined) say(`eventfold: ${hint}`);
}
