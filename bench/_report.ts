/**
 * Shared shape of benchmark results, so every store's bench prints the same table.
 *
 * @module
 */

/** One measured figure, with the baseline measured in the same run when there is one. */
export interface BenchRow {
  /** The store: `sqlite`, `postgres`, `memory`. */
  store: string;
  /** What was measured, e.g. `append batch 50 x 200 streams`. */
  case: string;
  /** Unit of `value`: `events/s`, `ms`, `bytes/event`... */
  unit: string;
  /** Median over the repeats. */
  value: number;
  /** Median of the raw-driver baseline doing the same work, same unit. */
  baseline?: number;
  /** Target ratio value/baseline (or an absolute limit, described in `target`). */
  target?: string;
}

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The p-th percentile (0..100) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(n >= 10 ? 1 : 2);
}

/** Renders rows as a Markdown table (ratio = value / baseline). */
export function renderTable(rows: readonly BenchRow[]): string {
  const lines = [
    "| store | case | value | baseline (raw driver) | ratio | target |",
    "|---|---|---:|---:|---:|---|",
  ];
  for (const row of rows) {
    const ratio = row.baseline ? (row.value / row.baseline).toFixed(2) : "";
    lines.push(
      `| ${row.store} | ${row.case} | ${fmt(row.value)} ${row.unit} | ${
        row.baseline ? `${fmt(row.baseline)} ${row.unit}` : ""
      } | ${ratio} | ${row.target ?? ""} |`,
    );
  }
  return lines.join("\n");
}
