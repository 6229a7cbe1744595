/**
 * The closing line of long commands: a sentence on stderr, or one JSON object with
 * `--json`, so a script can read what was done.
 *
 * @module
 */

import { duration } from "./_format.ts";
import type { Io } from "./_command.ts";
import { say } from "./_output.ts";

/**
 * Reports what a command did.
 *
 * @param io where output goes
 * @param text the sentence for people
 * @param data the same as fields for `--json`
 * @param toStdout write the JSON form to stdout (false when stdout carries the command's data)
 */
export async function summary(
  io: Io,
  text: string,
  data: Record<string, unknown>,
  toStdout = true,
): Promise<void> {
  if (!io.json) {
    say(text);
    return;
  }
  const line = JSON.stringify(data);
  if (toStdout) await io.out.line(line);
  else say(line);
}

/**
 * `in 1.2 s (81,000 events/s)`.
 *
 * @param n events handled
 * @param ms time taken
 * @returns the phrase
 */
export function pace(n: number, ms: number): string {
  const perSecond = ms > 0 ? Math.round((n * 1000) / ms) : n;
  return `in ${duration(ms)} (${perSecond.toLocaleString("en-US")} events/s)`;
}
