/**
 * The conformance suite over `IndexedDbAdapter` (`./browser`), in real headless Chromium:
 * `deno bundle` builds tests/_browser_runner.ts for the browser (the suite, the adapter and
 * `node:assert/strict` mapped to the small tests/_browser_assert.ts), `Deno.serve` serves it
 * with a page on 127.0.0.1, Chromium opens the page with a fresh profile, and the page
 * runs every case and posts each outcome back. Any failed case fails this test, with its
 * name and error. Without Chromium the test is skipped (it fails under `CI=true`).
 */
import assert from "node:assert/strict";
import { chromiumCommand, chromiumNeed } from "./_chromium.ts";
import { requireHost } from "./_host_tools.ts";
import type { CaseOutcome } from "./_browser_runner.ts";

const ROOT = new URL("../", import.meta.url);
const need = chromiumNeed();
/** The whole run (bundle, start, every case). */
const RUN_TIMEOUT_MS = 20 * 60_000;

/** Bundles the page script with `node:assert/strict` mapped to the browser shim. */
async function bundle(dir: string): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
    imports?: Record<string, string>;
  };
  const map = {
    imports: {
      ...config.imports,
      "node:assert/strict": new URL("tests/_browser_assert.ts", ROOT).href,
      "node:assert": new URL("tests/_browser_assert.ts", ROOT).href,
    },
  };
  await Deno.writeTextFile(`${dir}/import_map.json`, JSON.stringify(map));
  const out = `${dir}/runner.js`;
  const built = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--import-map",
      `${dir}/import_map.json`,
      "-o",
      out,
      "tests/_browser_runner.ts",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(built.success, `deno bundle failed:\n${new TextDecoder().decode(built.stderr)}`);
  return await Deno.readTextFile(out);
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>eventfold conformance</title>
<script type="module" src="/runner.js"></script>`;

Deno.test({
  name: `browser: the conformance suite passes on IndexedDbAdapter in headless Chromium${need.note}`,
  ignore: need.ignore,
  async fn() {
    requireHost(need);
    const dir = await Deno.makeTempDir({ prefix: "eventfold-browser-" });
    const outcomes: CaseOutcome[] = [];
    let total = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => finish = resolve);
    const script = await bundle(dir);
    const only = Deno.env.get("EVENTFOLD_BROWSER_ONLY");
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
      const { pathname } = new URL(request.url);
      if (request.method === "GET" && pathname === "/") {
        return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
      }
      if (request.method === "GET" && pathname === "/runner.js") {
        return new Response(script, { headers: { "content-type": "text/javascript; charset=utf-8" } });
      }
      if (request.method === "POST" && pathname === "/start") {
        total = ((await request.json()) as { total: number }).total;
        return new Response(null, { status: 204 });
      }
      if (request.method === "POST" && pathname === "/result") {
        const outcome = await request.json() as CaseOutcome;
        outcomes.push(outcome);
        if (outcome.status === "failed") console.error(`FAILED ${outcome.name}\n  ${outcome.error}`);
        else if (Deno.env.get("EVENTFOLD_BROWSER_VERBOSE")) {
          console.error(`${outcome.status} ${outcome.name} (${outcome.ms} ms)`);
        }
        return new Response(null, { status: 204 });
      }
      if (request.method === "POST" && pathname === "/done") {
        finish();
        return new Response(null, { status: 204 });
      }
      return new Response("not found", { status: 404 });
    });
    const url = `http://127.0.0.1:${server.addr.port}/${only ? `?only=${encodeURIComponent(only)}` : ""}`;
    const browser = new Deno.Command(chromiumCommand()!, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        `--user-data-dir=${dir}/profile`,
        url,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let log = "";
    const logged = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of browser.stderr) log = (log + decoder.decode(chunk)).slice(-20_000);
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = browser.status.then((status) => status);
    try {
      const outcome = await Promise.race([
        finished.then(() => "done" as const),
        exited.then((status) => `Chromium exited (code ${status.code}) before the page finished` as const),
        new Promise<string>((resolve) => timer = setTimeout(() => resolve("timed out"), RUN_TIMEOUT_MS)),
      ]);
      const failed = outcomes.filter((o) => o.status === "failed");
      const passed = outcomes.filter((o) => o.status === "passed").length;
      const ignored = outcomes.filter((o) => o.status === "ignored").length;
      console.error(
        `browser conformance: ${passed} passed, ${failed.length} failed, ${ignored} ignored of ${total} cases`,
      );
      assert.equal(
        outcome,
        "done",
        `${outcome} after ${outcomes.length} of ${total} cases; Chromium said:\n${log}`,
      );
      assert.ok(total > 0, "the page registered no cases");
      assert.deepEqual(
        failed.map((o) => `${o.name}: ${o.error?.split("\n")[0]}`),
        [],
        `${failed.length} case(s) failed in Chromium`,
      );
    } finally {
      clearTimeout(timer);
      try {
        browser.kill("SIGTERM");
      } catch {
        // exited already
      }
      await exited;
      await logged;
      await server.shutdown();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
