/**
 * The page side of tests/browser_conformance_test.ts: bundled for the browser (with
 * `node:assert/strict` mapped to tests/_browser_assert.ts), it registers the conformance
 * suite over `IndexedDbAdapter` through `runConformance`'s `test` option, adds the cases
 * of tests/_browser_cases.ts (several adapters over one database), runs the cases
 * one by one and posts each outcome to the page's server, which prints them and fails the
 * Deno test on any failed case.
 *
 * @module
 */

import { type ConformanceTest, runConformance } from "../testing/mod.ts";
import { IndexedDbAdapter } from "../stores/browser/mod.ts";
import { browserCases } from "./_browser_cases.ts";

/** What the page reports per case. */
export interface CaseOutcome {
  readonly name: string;
  readonly status: "passed" | "failed" | "ignored";
  readonly ms: number;
  readonly error?: string;
}

/** A case longer than this fails (the Deno side has its own overall limit). */
const CASE_TIMEOUT_MS = 120_000;

const post = (path: string, body: unknown): Promise<Response> =>
  fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error);

const cases: ConformanceTest[] = [];
// The suite's cases first, then the browser's own (several adapters over one database).
runConformance({
  name: "indexeddb",
  open: () => new IndexedDbAdapter(`conformance-${crypto.randomUUID()}`),
  reopen: (adapter) => new IndexedDbAdapter((adapter as IndexedDbAdapter).name),
  test: (definition) => void cases.push(definition),
  // Big cases at a quarter (the 100k-event rebuild with 25,000), as the file-backed
  // stores run them at a tenth: at full size one case takes over a minute alone, and a
  // case that overruns its time goes on in the page, under the cases after it.
  scale: 0.25,
});

for (const c of browserCases) {
  cases.push({ name: `indexeddb: browser/tabs: ${c.name}`, ignore: false, fn: c.fn });
}

/** Failures the running case left unhandled (Deno's test runner fails a test for them too). */
let stray: unknown[] = [];
addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  stray.push(event.reason);
});
addEventListener("error", (event) => stray.push(event.error ?? event.message));
/** What the running case printed to `console.error`, shown with its failure. */
let printed: string[] = [];
const consoleError = console.error.bind(console);
console.error = (...args: unknown[]) => {
  printed.push(args.map((arg) => typeof arg === "string" ? arg : describe(arg)).join(" "));
  consoleError(...args);
};

async function runCase(definition: ConformanceTest): Promise<CaseOutcome> {
  if (definition.ignore) return { name: definition.name, status: "ignored", ms: 0 };
  stray = [];
  printed = [];
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      definition.fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
      }),
    ]);
    // Let rejections of the case's last promises surface before judging it.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const ms = Math.round(performance.now() - started);
    if (stray.length > 0) {
      return {
        name: definition.name,
        status: "failed",
        ms,
        error: `unhandled: ${stray.map(describe).join("\n")}`,
      };
    }
    return { name: definition.name, status: "passed", ms };
  } catch (error) {
    const ms = Math.round(performance.now() - started);
    const output = printed.length === 0 ? "" : `\nconsole.error during the case:\n${printed.join("\n")}`;
    return { name: definition.name, status: "failed", ms, error: describe(error) + output };
  } finally {
    clearTimeout(timer);
  }
}

const only = new URLSearchParams(location.search).get("only");
const chosen = only === null ? cases : cases.filter((c) => c.name.includes(only));
await post("/start", { total: chosen.length });
for (const definition of chosen) await post("/result", await runCase(definition));
await post("/done", {});
