/**
 * A `deno run` child process for multi-process tests, whose stdout is read line by line
 * as it comes (stderr is kept for failure messages).
 *
 * @module
 */

const root = new URL("..", import.meta.url).pathname;

/** A running helper script of `tests/`. */
export class Child implements AsyncDisposable {
  /** The process. */
  readonly process: Deno.ChildProcess;
  /** Its stdout lines so far. */
  readonly lines: string[] = [];
  /** Its stderr so far. */
  stderr = "";
  readonly #reading: Promise<void>[];
  readonly #listeners = new Set<() => void>();
  readonly #script: string;
  #ended = false;

  /**
   * Starts `deno run -A tests/<script> ...args` with the project's config and cwd.
   *
   * @param script the helper script in `tests/`
   * @param args its arguments
   */
  constructor(script: string, args: readonly string[]) {
    this.#script = script;
    this.process = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", `${root}deno.json`, `${root}tests/${script}`, ...args],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#reading = [
      this.#read(this.process.stdout, (line) => this.lines.push(line)),
      this.#read(this.process.stderr, (line) => void (this.stderr += `${line}\n`)),
    ];
    Promise.all(this.#reading).then(() => {
      this.#ended = true;
      this.#notify();
    });
  }

  async #read(stream: ReadableStream<Uint8Array>, take: (line: string) => unknown): Promise<void> {
    let rest = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      for (const part of parts) take(part);
      this.#notify();
    }
    if (rest !== "") take(rest);
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /**
   * Waits for a stdout line that `matches`.
   *
   * @returns the line and when it was seen (`Date.now()`)
   * @throws {Error} when the output ends or `ms` pass first
   */
  line(matches: (line: string) => boolean, ms = 30_000): Promise<{ line: string; at: number }> {
    return new Promise((resolve, reject) => {
      let seen = 0;
      const check = () => {
        for (; seen < this.lines.length; seen++) {
          if (matches(this.lines[seen])) return finish(undefined, { line: this.lines[seen], at: Date.now() });
        }
        if (this.#ended) {
          finish(new Error(`output ended first; stdout: ${this.lines.join(" / ")}; stderr: ${this.stderr}`));
        }
      };
      const timer = setTimeout(
        () =>
          finish(
            new Error(
              `no such line within ${ms} ms; stdout: ${this.lines.join(" / ")}; stderr: ${this.stderr}`,
            ),
          ),
        ms,
      );
      const finish = (error?: Error, found?: { line: string; at: number }) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (error) reject(error);
        else resolve(found!);
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Waits for it to exit, and for its output to be read. */
  async status(): Promise<Deno.CommandStatus> {
    const status = await this.process.status;
    await Promise.all(this.#reading);
    return status;
  }

  /**
   * Waits for it to exit and gives its stdout.
   *
   * @throws {Error} with its stderr when it exits with another code than 0
   */
  async output(): Promise<string> {
    const status = await this.status();
    if (status.code !== 0) throw new Error(`${this.#script} exited with ${status.code}: ${this.stderr}`);
    return this.lines.join("\n");
  }

  /** Kills it (if still running) and waits for it. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // It has exited already.
    }
    await this.status();
  }
}
