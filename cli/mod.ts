/**
 * The `eventfold` command line: inspect, replay, export, import, copy and verify event
 * stores named by URL (`memory:`, `sqlite:./events.db`, `postgres://user@host/db`).
 *
 * ```sh
 * deno run -A jsr:@eventfold/eventfold/cli info --store sqlite:./events.db
 * deno run -A jsr:@eventfold/eventfold/cli export --store sqlite:./events.db > events.ndjson
 * deno run -A jsr:@eventfold/eventfold/cli import --store postgres://app@db/app events.ndjson
 * ```
 *
 * From a program, {@linkcode main} runs a command and returns its exit code:
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "@eventfold/eventfold/cli";
 * assert.equal(await main(["checkpoints", "--store", "memory:", "--json"]), 0);
 * ```
 *
 * Exit codes: 0 ok, 1 problems found or the operation failed, 2 bad usage, 130 interrupted
 * (Ctrl-C; `import`, `copy` and `export` stop after the chunk in flight and say how far
 * they got). `eventfold --version` prints the version.
 *
 * @module
 */

import { parseArgs } from "./_args.ts";
import type { Command, Io } from "./_command.ts";
import { EXIT, UsageError } from "./_errors.ts";
import { commandHelp, GLOBAL_FLAGS, toolHelp } from "./_help.ts";
import { Output, say } from "./_output.ts";
import { reportError } from "./_report.ts";
import { checkpoints } from "./commands/checkpoints.ts";
import { copy } from "./commands/copy.ts";
import { events } from "./commands/events.ts";
import { exportCommand } from "./commands/export.ts";
import { forget } from "./commands/forget.ts";
import { importCommand } from "./commands/import.ts";
import { info } from "./commands/info.ts";
import { replay } from "./commands/replay.ts";
import { scavenge } from "./commands/scavenge.ts";
import { streams } from "./commands/streams.ts";
import { VERSION } from "./_version.ts";
import { verify } from "./commands/verify.ts";
import { workflows } from "./commands/workflows.ts";
import { relayCommand } from "./commands/relay.ts";

const COMMANDS: readonly Command[] = [
  info,
  streams,
  events,
  replay,
  exportCommand,
  importCommand,
  copy,
  verify,
  checkpoints,
  forget,
  scavenge,
  workflows,
  relayCommand,
];

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    throw new UsageError(
      `unknown command ${JSON.stringify(name)} (commands: ${
        COMMANDS.map((c) => c.name).join(", ")
      }; see eventfold --help)`,
    );
  }
  return command;
}

/** Aborts on the first Ctrl-C; a second one ends the process at once. Installed on first use. */
class Interrupt {
  #controller: AbortController | undefined;
  #listener = (): void => {
    if (this.#controller?.signal.aborted) Deno.exit(130);
    this.#controller?.abort();
  };

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      Deno.addSignalListener("SIGINT", this.#listener);
    }
    return this.#controller.signal;
  }

  dispose(): void {
    if (this.#controller !== undefined) Deno.removeSignalListener("SIGINT", this.#listener);
  }
}

async function dispatch(args: readonly string[], out: Output, interrupt: Interrupt): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    say(toolHelp(COMMANDS));
    return EXIT.usage;
  }
  if (name === "--version" || name === "-V") {
    await out.line(`eventfold ${VERSION}`);
    return EXIT.ok;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    await out.line(rest.length > 0 ? commandHelp(findCommand(rest[0])) : toolHelp(COMMANDS));
    return EXIT.ok;
  }
  if (name.startsWith("-")) throw new UsageError(`expected a command before ${name} (see eventfold --help)`);
  const command = findCommand(name);
  const parsed = parseArgs(rest, { ...command.flags, ...GLOBAL_FLAGS }, `eventfold ${name}`);
  if (parsed.boolean("help")) {
    await out.line(commandHelp(command));
    return EXIT.ok;
  }
  const io: Io = {
    out,
    json: parsed.boolean("json"),
    get signal() {
      return interrupt.signal;
    },
  };
  return await command.run(parsed, io);
}

/**
 * Runs one `eventfold` command, as the process entry point does.
 *
 * @param args the arguments after `eventfold`: a command, its flags and arguments
 * @returns the exit code: 0 ok, 1 problems found or the operation failed, 2 bad usage,
 *   130 interrupted by Ctrl-C
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "@eventfold/eventfold/cli";
 * assert.equal(await main(["no-such-command"]), 2);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  const debug = args.includes("--debug");
  const out = new Output();
  const interrupt = new Interrupt();
  try {
    const code = await dispatch(args, out, interrupt);
    await out.flush();
    return code;
  } catch (error) {
    try {
      await out.flush();
    } catch {
      // The error being reported matters more than output that could not be written.
    }
    return reportError(error, debug);
  } finally {
    interrupt.dispose();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
