/**
 * A small flag parser: `--name value`, `--name=value`, `-n value`, boolean `--name`,
 * repeatable list flags and `--` to end the flags. Anything it does not know is a
 * {@linkcode UsageError}, so a typo never passes silently.
 *
 * @module
 */

import { UsageError } from "./_errors.ts";

/** How one flag is read. */
export interface FlagSpec {
  /** `string` and `integer` take one value, `list` may repeat, `boolean` takes none. */
  readonly type: "string" | "boolean" | "integer" | "list";
  /** A one-letter alias (`-s`). */
  readonly short?: string;
  /** The value's name in help text (`URL`, `FILE`). */
  readonly value?: string;
  /** One line for the help text. */
  readonly description: string;
}

/** The flags a command accepts, by long name (without `--`). */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type Value = string | boolean | number | string[];

/** The parsed command line of one command. */
export class ParsedArgs {
  /** Arguments that are not flags, in order. */
  readonly positionals: readonly string[];
  readonly #values: ReadonlyMap<string, Value>;

  /**
   * @param values flag values by long name
   * @param positionals the other arguments
   */
  constructor(values: ReadonlyMap<string, Value>, positionals: readonly string[]) {
    this.#values = values;
    this.positionals = positionals;
  }

  /** Whether the flag was given. */
  has(name: string): boolean {
    return this.#values.has(name);
  }

  /** A string flag's value, if given. */
  string(name: string): string | undefined {
    return this.#values.get(name) as string | undefined;
  }

  /** A boolean flag: true when given. */
  boolean(name: string): boolean {
    return this.#values.get(name) === true;
  }

  /** An integer flag's value, if given. */
  integer(name: string): number | undefined {
    return this.#values.get(name) as number | undefined;
  }

  /** A list flag's values (empty when not given). */
  list(name: string): string[] {
    return (this.#values.get(name) as string[] | undefined) ?? [];
  }
}

function findShort(specs: FlagSpecs, letter: string): string | undefined {
  return Object.keys(specs).find((name) => specs[name].short === letter);
}

function convert(name: string, spec: FlagSpec, raw: string): string | number {
  if (spec.type !== "integer") return raw;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`--${name} needs a whole number >= 0, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/**
 * Parses the arguments of one command.
 *
 * @param args the arguments after the command name
 * @param specs the flags the command accepts
 * @param where the command, for messages (`eventfold info`)
 * @returns the flag values and positionals
 * @throws {UsageError} for an unknown flag, a missing or malformed value, or a flag given twice
 */
export function parseArgs(args: readonly string[], specs: FlagSpecs, where: string): ParsedArgs {
  const values = new Map<string, Value>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const key = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const name = key.startsWith("--")
      ? key.slice(2)
      : key.length === 2
      ? findShort(specs, key[1])
      : undefined;
    const spec = name === undefined ? undefined : specs[name];
    if (name === undefined || spec === undefined) {
      throw new UsageError(`unknown flag ${key} for "${where}" (see ${where} --help)`);
    }
    if (spec.type === "boolean") {
      if (inline !== undefined && inline !== "true" && inline !== "false") {
        throw new UsageError(`--${name} takes no value (or =true / =false), got ${JSON.stringify(inline)}`);
      }
      if (inline === "false") values.delete(name);
      else values.set(name, true);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-" && !/^-\d/.test(next))) {
        throw new UsageError(`--${name} needs a value${spec.value ? ` (${spec.value})` : ""}`);
      }
      raw = next;
      i++;
    }
    if (spec.type === "list") {
      const list = (values.get(name) as string[] | undefined) ?? [];
      list.push(raw);
      values.set(name, list);
      continue;
    }
    if (values.has(name)) throw new UsageError(`--${name} is given twice; give it once`);
    values.set(name, convert(name, spec, raw));
  }
  return new ParsedArgs(values, positionals);
}
