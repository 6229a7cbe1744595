/**
 * Helpers for the command line's tests: run the real CLI as a subprocess, make temporary
 * directories, seed SQLite stores and write user modules. Not part of the public API.
 *
 * @module
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { event, EventFactory, EventStore } from "../mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";

/** The repository root (with a trailing slash). */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** The library's entry module as a file URL, for user modules written by tests. */
export const MOD_URL: string = new URL("../mod.ts", import.meta.url).href;

/** What a CLI run printed and how it ended. */
export interface CliRun {
  /** The exit code. */
  readonly code: number;
  /** stdout as text. */
  readonly stdout: string;
  /** stderr as text. */
  readonly stderr: string;
  /** stdout as bytes. */
  readonly bytes: Uint8Array;
}

/**
 * Runs `deno run -A cli/mod.ts ...args` in the repository root.
 *
 * @param args the command line after `eventfold`
 * @param options bytes for stdin, extra environment variables
 * @returns exit code and output
 */
export async function cli(
  args: readonly string[],
  options: { stdin?: string | Uint8Array; env?: Record<string, string> } = {},
): Promise<CliRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/mod.ts", ...args],
    cwd: ROOT,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(
      typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin,
    );
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr), bytes: stdout };
}

/**
 * Asserts that a run failed with one line on stderr, no stack trace, and the given code.
 *
 * @param run the run
 * @param code the expected exit code
 * @param pattern what the line must contain
 */
export function assertOneLineFailure(run: CliRun, code: number, pattern: RegExp): void {
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(run.code, code, `exit code (stderr: ${run.stderr})`);
  assert.equal(lines.length, 1, `one line on stderr, got: ${run.stderr}`);
  assert.match(lines[0], /^eventfold: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(run.stderr, /^\s+at /m, "no stack trace");
}

/** A temporary directory removed on dispose. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "eventfold-cli-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** The event definitions the tests seed stores with. */
export const testEvents = new EventFactory([
  event.type("account:opened").data(z.object({ owner: z.string(), opened: z.date(), limit: z.bigint() })),
  event.type("account:deposited").data(z.number()).meta(z.object({ by: z.string() })),
  event.type("account:tagged").data(
    z.object({ tags: z.set(z.string()), scores: z.map(z.string(), z.number()) }),
  ),
  event.type("blob:stored").data(z.record(z.string(), z.unknown())).meta(z.record(z.string(), z.unknown())),
]);

/** A store over {@linkcode testEvents}. */
export type TestStore = EventStore<typeof testEvents>;

/**
 * Creates a SQLite store at `path`, lets `build` fill it, and closes it.
 *
 * @param path the file
 * @param build what to write
 */
export async function seedSqlite(path: string, build: (store: TestStore) => Promise<void>): Promise<void> {
  await using store = new EventStore({ adapter: new SqliteAdapter(path), events: testEvents });
  await build(store);
}

/**
 * Writes a small history: two accounts with deposits at known `created` times, a tagged
 * account, a blob of every CBOR-only kind and an outdated (imported late) deposit.
 *
 * @param store the store
 */
export async function writeHistory(store: TestStore): Promise<void> {
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
  await store.pushEvent(store.event({
    type: "account:opened",
    stream: "acct-1",
    created: at(0),
    data: { owner: "Ada", opened: new Date(Date.UTC(2025, 5, 1)), limit: 2n ** 70n },
  }));
  for (let i = 1; i <= 4; i++) {
    await store.pushEvent(store.event({
      type: "account:deposited",
      stream: "acct-1",
      created: at(i * 10),
      data: i * 100,
      meta: { by: "teller" },
    }));
  }
  await store.pushEvent(store.event({
    type: "account:opened",
    stream: "acct-2",
    created: at(5),
    data: { owner: "Grace", opened: new Date(Date.UTC(2025, 6, 1)), limit: -5n },
  }));
  await store.pushEvent(store.event({
    type: "account:tagged",
    stream: "acct-2",
    created: at(6),
    data: { tags: new Set(["vip", "new"]), scores: new Map([["risk", 0.25], ["loyalty", 3]]) },
  }));
  await store.pushEvent(store.event({
    type: "blob:stored",
    stream: "blob-1",
    created: at(7),
    data: {
      bytes: new Uint8Array([0, 1, 2, 255]),
      floats: new Float64Array([1.5, -2.25]),
      nested: { missing: undefined, list: [1, undefined, "x"], odd: [NaN, Infinity, -Infinity] },
      dollar: { $date: "not a tag" },
      big: [0n, -(2n ** 64n)],
      when: new Date(Date.UTC(2000, 0, 1)),
      unicode: "zero \u0000 snowman \u2603 emoji \u{1F600}",
    },
    meta: { source: new Map<unknown, unknown>([[1, "one"], ["two", new Set([2])]]) },
  }));
  // Imported behind the newer deposits of acct-1: stored as outdated.
  await store.import([{
    id: "0190a000-0000-7000-8000-000000000001",
    stream: "acct-1",
    type: "account:deposited",
    created: at(15),
    data: 5,
    meta: { by: "late import" },
  }]);
}

/**
 * Writes a TypeScript module into `dir` and returns its path.
 *
 * @param dir the directory
 * @param name the file name
 * @param source the code (`MOD` in it is replaced by the library's URL)
 * @returns the file path
 */
export async function writeModule(dir: string, name: string, source: string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, source.replaceAll("MOD", MOD_URL));
  return path;
}
