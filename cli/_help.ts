/**
 * Help text for the tool and for each command, built from the commands' own
 * descriptions, flags and examples so it never drifts from what they accept.
 *
 * @module
 */

import type { FlagSpecs } from "./_args.ts";
import type { Command } from "./_command.ts";
import { table } from "./_format.ts";

/** Flags every command accepts. */
export const GLOBAL_FLAGS: FlagSpecs = {
  help: { type: "boolean", short: "h", description: "show this help" },
  debug: { type: "boolean", description: "print stack traces of errors" },
};

const EXIT_CODES =
  "Exit codes: 0 ok, 1 problems found or the operation failed, 2 bad usage, 130 interrupted (Ctrl-C).";

function flagLines(flags: FlagSpecs): string[] {
  const rows = Object.entries(flags).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.type === "boolean" ? "" : ` ${spec.value ?? "VALUE"}`;
    const repeat = spec.type === "list" ? " (repeatable)" : "";
    return [`  ${short}--${name}${value}`, spec.description + repeat];
  });
  return table(rows);
}

/**
 * The help of one command.
 *
 * @param command the command
 * @returns the text
 */
export function commandHelp(command: Command): string {
  const lines = [
    `eventfold ${command.name}: ${command.summary}`,
    "",
    "Usage:",
    // A line that starts with spaces goes on the one above it, under its flags.
    ...command.usage.map((usage) => usage.startsWith(" ") ? `            ${usage}` : `  eventfold ${usage}`),
    "",
    command.description,
    "",
    "Flags:",
    ...flagLines({ ...command.flags, ...GLOBAL_FLAGS }),
    "",
    "Examples:",
  ];
  for (const [comment, example] of command.examples) lines.push(`  # ${comment}`, `  ${example}`, "");
  lines.push(EXIT_CODES);
  return lines.join("\n");
}

/**
 * The help of the whole tool.
 *
 * @param commands the commands
 * @returns the text
 */
export function toolHelp(commands: readonly Command[]): string {
  return [
    "eventfold: inspect, replay, export, import, copy and verify Eventfold event stores",
    "",
    "Usage:",
    "  eventfold <command> [flags]",
    "  eventfold <command> --help",
    "",
    "Commands:",
    ...table(commands.map((command) => [`  ${command.name}`, command.summary])),
    "",
    "Stores are named by URL: memory:, sqlite:./events.db, sqlite:/abs/path.db,",
    "postgres://user[:password]@host[:port]/database[?schema=name]. --store defaults to $EVENTFOLD_STORE.",
    "",
    "Examples:",
    "  eventfold info --store sqlite:./events.db",
    "  eventfold events --store sqlite:./events.db --stream user-42 --follow",
    "  eventfold replay --store sqlite:./events.db --module ./reducers.ts --export user --stream user-42",
    "  eventfold export --store sqlite:./events.db > events.ndjson",
    "  eventfold copy --from sqlite:./events.db --to postgres://app@db/app?schema=events",
    "  eventfold verify --store sqlite:./events.db --definitions ./events.ts --export events",
    "",
    "Global flags: --help (-h), --debug (stack traces). eventfold --version prints the version.",
    EXIT_CODES,
  ].join("\n");
}
