/**
 * What the command line reports and with which exit code: 0 when all went well, 1 when
 * it found problems or an operation failed, 2 when it was called wrongly.
 *
 * @module
 */

/** Exit codes of the `eventfold` command. */
export const EXIT = {
  /** Everything went well. */
  ok: 0,
  /** Problems were found (verify) or the operation failed (unreachable server, broken input...). */
  failed: 1,
  /** Bad usage: unknown command or flag, malformed flag value or store URL. */
  usage: 2,
  /** Stopped by Ctrl-C (SIGINT), as shells report a process killed by it. */
  interrupted: 130,
} as const;

/** The command was called wrongly; the message says what was wrong and what was expected. */
export class UsageError extends Error {
  /** Always {@linkcode EXIT.usage}. */
  readonly exitCode: number = EXIT.usage;

  /** @param message what was wrong and what was expected */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The operation failed or found problems; the message is the one line printed. */
export class CliFailure extends Error {
  /** Always {@linkcode EXIT.failed}. */
  readonly exitCode: number = EXIT.failed;

  /**
   * @param message the line to print
   * @param options the underlying error, printed with `--debug`
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CliFailure";
  }
}

/** Ctrl-C stopped the work; the message says how far it got and how to go on. */
export class Interrupted extends Error {
  /** Always {@linkcode EXIT.interrupted}. */
  readonly exitCode: number = EXIT.interrupted;

  /** @param message how far the work got and how to resume it */
  constructor(message: string) {
    super(message);
    this.name = "Interrupted";
  }
}

/** Thrown when the reader of stdout went away (`eventfold events | head`): not an error. */
export class OutputClosed extends Error {
  constructor() {
    super("stdout was closed");
    this.name = "OutputClosed";
  }
}

const secrets = new Set<string>();

/**
 * Remembers a secret (a password) that must never be printed.
 *
 * @param secret the text to hide
 */
export function hideSecret(secret: string): void {
  if (secret.length > 0) secrets.add(secret);
}

/**
 * Replaces every remembered secret in `text` with `***`.
 *
 * @param text a message about to be printed
 * @returns the message without secrets
 */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("***");
  return out;
}
