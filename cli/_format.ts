/**
 * Number, size and duration formatting for human-readable output, and text tables.
 *
 * @module
 */

/**
 * A count with thousands separators.
 *
 * @param n the count
 * @returns for example `1,204,000`
 */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/**
 * A byte size in B, KB, MB or GB (powers of 1024).
 *
 * @param bytes the size
 * @returns for example `12.4 MB`
 */
export function bytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/**
 * A duration as `1.2 s`, `3m 04s` or `2h 05m`.
 *
 * @param ms milliseconds
 * @returns the duration
 */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * A rate per second.
 *
 * @param n how many
 * @param ms in how many milliseconds
 * @returns the rate, rounded
 */
export function rate(n: number, ms: number): number {
  return ms <= 0 ? n : Math.round((n * 1000) / ms);
}

/**
 * Lays out rows as left-aligned columns separated by two spaces.
 *
 * @param rows the cells, first row usually the header
 * @returns the lines
 */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  return rows.map((row) =>
    row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join("  ")
  );
}

/**
 * A count and a noun, in the singular for one.
 *
 * @param n the count
 * @param noun the singular noun
 * @param plural the plural, when not noun + "s"
 * @returns for example `1 event`, `2,000 events`
 */
export function plural(n: number, noun: string, plural = `${noun}s`): string {
  return `${count(n)} ${n === 1 ? noun : plural}`;
}
