/**
 * A progress bar with rate and ETA, drawn on stderr only when stderr is a terminal, so
 * nothing of it lands in a pipe or a log file. The line always fits the terminal (it is
 * laid out for its width, then cut to one column less, so it never wraps and scrolls),
 * the ETA appears only once a rate has been measured, and the bar is full only at 100%.
 *
 * @module
 */

import { count, duration, rate } from "./_format.ts";

const REDRAW_MS = 100;
const BAR_MAX = 24;
const BAR_MIN = 6;
/** An ETA needs this much measured time and this many redraws behind it. */
const ETA_AFTER_MS = 1000;
const ETA_AFTER_DRAWS = 5;
const FALLBACK_COLUMNS = 80;
const utf8 = new TextEncoder();

/** What one frame shows; {@linkcode progressLine} lays it out. */
export interface Frame {
  /** What is being done. */
  readonly label: string;
  /** Items done. */
  readonly done: number;
  /** Items in all, when known. */
  readonly total?: number;
  /** Items per second, when measured. */
  readonly perSecond?: number;
  /** Milliseconds left, when a rate is known. */
  readonly etaMs?: number;
}

function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : chars.slice(0, Math.max(0, width)).join("");
}

/**
 * Lays a frame out for a terminal `columns` wide: the bar shrinks first, then the rate
 * and the bar go, and whatever is left is cut to `columns - 1` characters (writing the
 * last column would make some terminals wrap).
 *
 * @param frame what to show
 * @param columns the terminal's width
 * @returns the line, at most `columns - 1` characters
 */
export function progressLine(frame: Frame, columns: number): string {
  const width = Math.max(1, columns - 1);
  const speed = frame.perSecond === undefined ? "" : `${count(frame.perSecond)}/s`;
  const total = frame.total;
  if (total === undefined || total <= 0) {
    return truncate([frame.label, count(frame.done), speed].filter((p) => p !== "").join("  "), width);
  }
  const share = Math.min(1, frame.done / total);
  // Floors, so neither the bar nor the percentage claims the end before it is reached.
  // Padded to their widest, so the line keeps its shape as the numbers grow.
  const percent = `${Math.floor(share * 100)}%`.padStart(4);
  const counts = `${count(frame.done).padStart(count(total).length)}/${count(total)}`;
  const eta = frame.etaMs === undefined ? "" : `ETA ${duration(frame.etaMs)}`;
  const layout = (withSpeed: boolean, bar: number): string => {
    const filled = Math.floor(share * bar);
    const parts = [
      frame.label,
      bar > 0 ? `[${"#".repeat(filled)}${"-".repeat(bar - filled)}]` : "",
      percent,
      counts,
      withSpeed ? speed : "",
      eta,
    ];
    return parts.filter((part) => part !== "").join(" ");
  };
  for (const withSpeed of speed === "" ? [false] : [true, false]) {
    const room = width - layout(withSpeed, 0).length - 3;
    if (room >= BAR_MIN) return layout(withSpeed, Math.min(BAR_MAX, room));
  }
  return truncate(layout(false, 0), width);
}

function terminalColumns(): number {
  try {
    const { columns } = Deno.consoleSize();
    return columns > 0 ? columns : FALLBACK_COLUMNS;
  } catch {
    return FALLBACK_COLUMNS;
  }
}

/** Counts work done and redraws a one-line bar at most ten times a second. */
export class Progress {
  readonly #label: string;
  readonly #enabled: boolean;
  readonly #columns: () => number;
  readonly #started = performance.now();
  #total: number | undefined;
  #done = 0;
  #drawn = 0;
  #draws = 0;
  /** When the first item was done: the rate counts from there, not from start-up work. */
  #firstAt: number | undefined;

  /**
   * @param label what is being done (`export`, `verify`)
   * @param total how many items there are, when known (for the percentage and ETA)
   * @param enabled draw at all (default: when stderr is a terminal)
   * @param columns the terminal's width (default: read from the terminal at each redraw)
   */
  constructor(
    label: string,
    total?: number,
    enabled: boolean = Deno.stderr.isTerminal(),
    columns: () => number = terminalColumns,
  ) {
    this.#label = label;
    this.#total = total;
    this.#enabled = enabled;
    this.#columns = columns;
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
    if (n <= 0) return;
    const now = performance.now();
    this.#firstAt ??= now;
    this.#done += n;
    if (!this.#enabled) return;
    if (now - this.#drawn < REDRAW_MS) return;
    this.#drawn = now;
    this.#draws++;
    this.#write(`\r\x1b[K${progressLine(this.#frame(now), this.#columns())}`);
  }

  /** Removes the bar (the caller then prints its summary); safe to call more than once. */
  finish(): void {
    if (this.#enabled && this.#drawn > 0) this.#write("\r\x1b[K");
    this.#drawn = 0;
  }

  #frame(now: number): Frame {
    const measured = now - (this.#firstAt ?? now);
    const known = measured >= ETA_AFTER_MS && this.#draws >= ETA_AFTER_DRAWS;
    const perSecond = measured > 0 ? rate(this.#done, measured) : undefined;
    const total = this.#total;
    const etaMs = known && perSecond !== undefined && perSecond > 0 && total !== undefined && total > 0
      ? (Math.max(0, total - this.#done) / perSecond) * 1000
      : undefined;
    return { label: this.#label, done: this.#done, total, perSecond: known ? perSecond : undefined, etaMs };
  }

  #write(text: string): void {
    try {
      Deno.stderr.writeSync(utf8.encode(text));
    } catch {
      // A closed terminal is no reason to stop the work.
    }
  }
}
