/**
 * Buffered output: results go to stdout (or a file) in large writes, messages go to
 * stderr. A reader that goes away (`eventfold events | head`) ends the command quietly.
 *
 * @module
 */

import { OutputClosed, scrubSecrets } from "./_errors.ts";

const FLUSH_AT = 1 << 16;
const utf8 = new TextEncoder();

/** Where output bytes go: `Deno.stdout` or an open file. */
export interface ByteSink {
  /** Writes some of `bytes`, returning how many. */
  write(bytes: Uint8Array): Promise<number>;
}

/** Collects lines and writes them in large chunks. */
export class Output {
  readonly #sink: ByteSink;
  #parts: string[] = [];
  #size = 0;

  /** @param sink where the bytes go (default stdout) */
  constructor(sink: ByteSink = Deno.stdout) {
    this.#sink = sink;
  }

  /**
   * Queues one line (a newline is added) and writes when enough has gathered.
   *
   * @param text the line
   * @returns once the line is queued (and written, when the buffer was full)
   * @throws {OutputClosed} when the reader went away
   */
  line(text: string): Promise<void> | undefined {
    this.#parts.push(text, "\n");
    this.#size += text.length + 1;
    return this.#size >= FLUSH_AT ? this.flush() : undefined;
  }

  /**
   * Writes everything queued.
   *
   * @throws {OutputClosed} when the reader went away
   */
  async flush(): Promise<void> {
    if (this.#size === 0) return;
    const bytes = utf8.encode(this.#parts.join(""));
    this.#parts = [];
    this.#size = 0;
    try {
      for (let done = 0; done < bytes.length;) done += await this.#sink.write(bytes.subarray(done));
    } catch (error) {
      if (error instanceof Deno.errors.BrokenPipe) throw new OutputClosed();
      throw error;
    }
  }
}

/**
 * Writes one message line to stderr, with any secret removed.
 *
 * @param text the message
 */
export function say(text: string): void {
  const bytes = utf8.encode(scrubSecrets(text) + "\n");
  try {
    for (let done = 0; done < bytes.length;) done += Deno.stderr.writeSync(bytes.subarray(done));
  } catch {
    // Nobody reads stderr any more; there is nowhere left to complain.
  }
}
