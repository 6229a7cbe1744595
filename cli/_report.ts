/**
 * How a failure is told: one line on stderr (`eventfold: ...`), the stack only with
 * `--debug`, never a password, and the exit code that says what kind of failure it was.
 *
 * @module
 */

import { isEventStoreError } from "../mod.ts";
import { CliFailure, EXIT, Interrupted, OutputClosed, UsageError } from "./_errors.ts";
import { say } from "./_output.ts";

function oneLine(text: string): string {
  return text.replaceAll(/\s*\n\s*/g, " ").trim();
}

function details(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    lines.push(
      current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current),
    );
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) lines.push("caused by:");
  }
  return lines.join("\n");
}

/**
 * Prints an error the way the command line does and returns its exit code.
 *
 * @param error what was thrown
 * @param debug print the stack and causes too
 * @returns 0 when the reader of stdout went away, 2 for bad usage, 130 when interrupted, 1 otherwise
 */
export function reportError(error: unknown, debug: boolean): number {
  if (error instanceof OutputClosed) return EXIT.ok;
  let code: number = EXIT.failed;
  let line: string;
  if (error instanceof UsageError) {
    code = EXIT.usage;
    line = error.message;
  } else if (error instanceof Interrupted) {
    code = EXIT.interrupted;
    line = error.message;
  } else if (error instanceof CliFailure || isEventStoreError(error)) {
    line = (error as Error).message;
  } else if (error instanceof Error) {
    line = `${error.name}: ${error.message}${debug ? "" : " (run with --debug for details)"}`;
  } else {
    line = String(error);
  }
  say(`eventfold: ${oneLine(line)}`);
  if (debug) say(details(error));
  return code;
}
