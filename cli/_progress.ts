/**
 * A progress bar with rate and ETA, drawn on stderr only when stderr is a terminal, so
 * nothing of it lands in a pipe or a log file.
 *
 * @module
 */

import { count, duration, rate } from "./_format.ts";

const REDRAW_MS = 100;
const WIDTH = 24;
const utf8 = new TextEncoder();

/** Counts work done and redraws a one-line bar at most ten times a second. */
export class Progress {
  readonly #label: string;
  readonly #enabled: boolean;
  readonly #started = performance.now();
  #total: number | undefined;
  #done = 0;
  #drawn = 0;

  /**
   * @param label what is being done (`export`, `verify`)
   * @param total how many items there are, when known (for the percentage and ETA)
   * @param enabled draw at all (default: when stderr is a terminal)
   */
  constructor(label: string, total?: number, enabled: boolean = Deno.stderr.isTerminal()) {
    this.#label = label;
    this.#total = total;
    this.#enabled = enabled;
  }

  /** Items done so far. */
  get done(): number {
    return this.#done;
  }

  /** Milliseconds since the start. */
  get elapsed(): number {
    return performance.now() - this.#started;
  }

  /** Sets or changes the total. */
  set total(total: number | undefined) {
    this.#total = total;
  }

  /**
   * Counts `n` more items done and redraws when due.
   *
   * @param n items done since the last call
   */
  advance(n = 1): void {
    this.#done += n;
    if (!this.#enabled) return;
    const now = performance.now();
    if (now - this.#drawn < REDRAW_MS) return;
    this.#drawn = now;
    this.#draw(now - this.#started);
  }

  /** Removes the bar (the caller then prints its summary). */
  finish(): void {
    if (this.#enabled && this.#drawn > 0) this.#write("\r\x1b[K");
  }

  #draw(elapsed: number): void {
    const perSecond = rate(this.#done, elapsed);
    const total = this.#total;
    let line = `${this.#label} ${count(this.#done)}`;
    if (total !== undefined && total > 0) {
      const share = Math.min(1, this.#done / total);
      const filled = Math.round(share * WIDTH);
      const eta = perSecond > 0 ? duration(((total - this.#done) / perSecond) * 1000) : "?";
      line = `${this.#label} [${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${
        Math.floor(share * 100)
      }% ${count(this.#done)}/${count(total)}  ${count(perSecond)}/s  ETA ${eta}`;
    } else {
      line += `  ${count(perSecond)}/s`;
    }
    this.#write(`\r\x1b[K${line}`);
  }

  #write(text: string): void {
    try {
      Deno.stderr.writeSync(utf8.encode(text));
    } catch {
      // A closed terminal is no reason to stop the work.
    }
  }
}
