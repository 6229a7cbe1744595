/**
 * The flags of one command, read with `node:util`'s `parseArgs` (strict mode: `--name
 * value`, `--name=value`, `-n value`, boolean `--name`, repeatable list flags, `--` to
 * end the flags) and a thin layer of our own: whole numbers, flags given twice,
 * `--flag=true|false`, values such as `-1`, and messages in the tool's words. Anything
 * it does not know is a {@linkcode UsageError}, so a typo never passes silently.
 *
 * @module
 */

import { parseArgs as parseNodeArgs } from "node:util";
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

/** One argument as `parseArgs` reports it with `tokens: true`. */
type Token =
  | { kind: "positional"; value: string }
  | { kind: "option-terminator" }
  | { kind: "option"; name: string; rawName: string; value?: string; inlineValue?: boolean };

type NodeOptions = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

function nodeOptions(specs: FlagSpecs): NodeOptions {
  const options: NodeOptions = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = {
      type: spec.type === "boolean" ? "boolean" : "string",
      ...(spec.short === undefined ? {} : { short: spec.short }),
      ...(spec.type === "list" ? { multiple: true } : {}),
    };
  }
  return options;
}

/**
 * The arguments as tokens. Strict mode refuses what it does not know; when it does, the
 * arguments are read again loosely, so that the checks below say which flag was wrong
 * in the tool's words, and so that the two forms the tool allows beyond strict mode pass:
 * a value that starts with `-` and a digit (`--limit -1`, then refused as a number) and
 * `--flag=true` / `--flag=false`.
 */
function tokensOf(args: readonly string[], specs: FlagSpecs): Token[] {
  const config = {
    args: [...args],
    options: nodeOptions(specs),
    allowPositionals: true,
    tokens: true as const,
  };
  try {
    return parseNodeArgs({ ...config, strict: true }).tokens as Token[];
  } catch (error) {
    if (!isParseArgsError(error)) throw error;
    return parseNodeArgs({ ...config, strict: false }).tokens as Token[];
  }
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

/** A value read from the next argument that is another flag rather than a value. */
function looksLikeFlag(value: string): boolean {
  return value.startsWith("-") && value !== "-" && !/^-\d/.test(value);
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
  for (const token of tokensOf(args, specs)) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const { name } = token;
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (spec === undefined) {
      throw new UsageError(`unknown flag ${token.rawName} for "${where}" (see ${where} --help)`);
    }
    if (spec.type === "boolean") {
      const inline = token.value;
      if (inline !== undefined && inline !== "true" && inline !== "false") {
        throw new UsageError(`--${name} takes no value (or =true / =false), got ${JSON.stringify(inline)}`);
      }
      if (inline === "false") values.delete(name);
      else values.set(name, true);
      continue;
    }
    let raw = token.value;
    if (raw === undefined || (!token.inlineValue && looksLikeFlag(raw))) {
      throw new UsageError(`--${name} needs a value${spec.value ? ` (${spec.value})` : ""}`);
    }
    // `-s=value` means the value, as `--store=value` does.
    if (token.inlineValue && !token.rawName.startsWith("--") && raw.startsWith("=")) raw = raw.slice(1);
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
