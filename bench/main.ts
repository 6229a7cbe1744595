/**
 * `deno task bench`: runs each store's benchmark and prints one Markdown table. Every
 * ratio compares the store with the raw driver doing the same work in the same run.
 *
 * Usage: `deno task bench [sqlite] [postgres] [kv] [cli] [subscriptions] [lifecycle] [workflows] [filters] [partitions] [sync] [--quick]`
 *
 * @module
 */

import { type BenchRow, renderTable } from "./_report.ts";

/** A bench module: runs its cases and returns the rows. */
export type BenchModule = { bench(options: { quick: boolean }): Promise<BenchRow[]> };

const suites: Record<string, () => Promise<BenchModule>> = {
  sqlite: () => import("./sqlite.ts"),
  postgres: () => import("./postgres.ts"),
  kv: () => import("./kv.ts"),
  cli: () => import("./cli.ts"),
  subscriptions: () => import("./subscriptions.ts"),
  lifecycle: () => import("./lifecycle.ts"),
  workflows: () => import("./workflows.ts"),
  filters: () => import("./filters.ts"),
  partitions: () => import("./partitions.ts"),
  sync: () => import("./sync.ts"),
};

const args = Deno.args.filter((arg) => !arg.startsWith("--"));
const quick = Deno.args.includes("--quick");
const chosen = args.length > 0 ? args : Object.keys(suites);
const rows: BenchRow[] = [];
for (const name of chosen) {
  const load = suites[name];
  if (load === undefined) {
    console.error(`unknown bench "${name}"; known: ${Object.keys(suites).join(", ")}`);
    Deno.exit(2);
  }
  console.error(`running ${name}...`);
  rows.push(...await (await load()).bench({ quick }));
}
console.log(renderTable(rows));
