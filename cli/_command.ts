/**
 * The shape of a command, the flags most commands share, and the helpers that open the
 * store a command names.
 *
 * @module
 */

import type { FlagSpecs, ParsedArgs } from "./_args.ts";
import { UsageError } from "./_errors.ts";
import { type OpenedStore, type OpenOptions, openStore } from "./_open_store.ts";
import type { Output } from "./_output.ts";
import { parseStoreUrl, type StoreUrl } from "./_store_url.ts";

/** What a command gets besides its arguments. */
export interface Io {
  /** stdout, buffered. */
  readonly out: Output;
  /** `--json` was given: machine-readable output. */
  readonly json: boolean;
  /** Aborted on Ctrl-C (SIGINT), for commands that run until stopped. */
  readonly signal: AbortSignal;
}

/** One `eventfold` command. */
export interface Command {
  /** The name typed after `eventfold`. */
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** The usage line(s), without the leading `eventfold`. */
  readonly usage: readonly string[];
  /** What it does, a few lines. */
  readonly description: string;
  /** Its flags (`--help` and `--debug` are added for every command). */
  readonly flags: FlagSpecs;
  /** Example invocations, each with a comment line before it. */
  readonly examples: readonly (readonly [comment: string, command: string])[];
  /**
   * Runs the command.
   *
   * @returns the exit code
   */
  run(args: ParsedArgs, io: Io): Promise<number>;
}

/** The `--store` flag. */
export const STORE_FLAG: FlagSpecs = {
  store: {
    type: "string",
    short: "s",
    value: "URL",
    description: "the store: memory:, sqlite:./events.db or postgres://user@host/db[?schema=name] " +
      "(default: $EVENTFOLD_STORE)",
  },
};

/** The `--json` flag. */
export const JSON_FLAG: FlagSpecs = {
  json: { type: "boolean", description: "machine-readable JSON output" },
};

/**
 * The store URL of `--store` (or `$EVENTFOLD_STORE`).
 *
 * @param args the parsed arguments
 * @param flag the flag's name
 * @returns the parsed URL
 * @throws {UsageError} when neither is given or the URL is malformed
 */
export function storeUrl(args: ParsedArgs, flag = "store"): StoreUrl {
  const text = args.string(flag) ?? (flag === "store" ? Deno.env.get("EVENTFOLD_STORE") : undefined);
  if (text === undefined) {
    throw new UsageError(`--${flag} URL is required${flag === "store" ? " (or set EVENTFOLD_STORE)" : ""}`);
  }
  return parseStoreUrl(text, `--${flag}`);
}

/**
 * Opens a store, runs `work` with it and closes it, whatever happens.
 *
 * @param url the store
 * @param options how to open it
 * @param work what to do with it
 * @returns what `work` returned
 */
export async function withStore<T>(
  url: StoreUrl,
  options: OpenOptions,
  work: (opened: OpenedStore) => Promise<T>,
): Promise<T> {
  const opened = await openStore(url, options);
  try {
    return await work(opened);
  } finally {
    await opened.close();
  }
}

/**
 * Refuses positional arguments a command does not take.
 *
 * @param args the parsed arguments
 * @param command the command name, for the message
 * @param max how many it takes
 * @throws {UsageError} for extra arguments
 */
export function noExtraArgs(args: ParsedArgs, command: string, max = 0): void {
  if (args.positionals.length > max) {
    throw new UsageError(
      `unexpected argument ${
        JSON.stringify(args.positionals[max])
      } for "eventfold ${command}" (see eventfold ${command} --help)`,
    );
  }
}
