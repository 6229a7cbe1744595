/**
 * The package as another Deno app meets it. The app in `tests/consumer/` (its main.ts is
 * the README's "Use it in your app" snippet) is copied to a temporary folder with the
 * package's published files and run in the three ways users have:
 *
 * - as JSR serves it: `jsr:@eventfold/eventfold` in the app's import map, and the app's
 *   `"links"` pointing at the local copy (JSR itself is not reachable here);
 * - an import map pointing at the package's files, with Deno's own npm resolution;
 * - an npm-managed node_modules in the app (`"nodeModulesDir": "manual"`).
 *
 * Each mode type-checks the app, runs main.ts (a SQLite store and a projector), loads every
 * export, and runs the CLI through the app's import map against the file main.ts wrote.
 * No mode uses the repository's node_modules: npm packages come from Deno's npm cache in a
 * temporary DENO_DIR (shared by the modes of one run) or from the app's own npm install.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURE = join(ROOT, "tests/consumer");
const CI = Deno.env.get("CI") === "true";
// Long enough for a cold npm download on a slow link, short enough to never hang CI.
const COMMAND_MS = 120_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function _run(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(COMMAND_MS),
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

async function _ok(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<string> {
  const run = await _run(cmd, args, cwd, env);
  assert.equal(
    run.code,
    0,
    `\`${[cmd === Deno.execPath() ? "deno" : cmd, ...args].join(" ")}\` in ${cwd} exited ${run.code}\n` +
      `--- stdout\n${run.stdout}--- stderr\n${run.stderr}`,
  );
  return run.stdout;
}

/** The package's files as `deno publish` takes them: git's file list less publish.exclude. */
async function _publishedFiles(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const exclude: string[] = config.publish?.exclude ?? [];
  const listed = await _ok("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], ROOT, {});
  const excluded = (path: string): boolean =>
    exclude.some((pattern) =>
      pattern.endsWith("/")
        ? path.startsWith(pattern)
        : pattern.startsWith("**/*")
        ? path.endsWith(pattern.slice(4))
        : path === pattern
    );
  const files: string[] = [];
  for (const path of listed.split("\0")) {
    if (path === "" || excluded(path)) continue;
    // git lists files deleted from the work tree until the deletion is staged.
    if ((await Deno.stat(join(ROOT, path)).catch(() => undefined))?.isFile) files.push(path);
  }
  return files;
}

async function _copyPackage(to: string, files: readonly string[]): Promise<void> {
  for (const path of files) {
    await Deno.mkdir(dirname(join(to, path)), { recursive: true });
    await Deno.copyFile(join(ROOT, path), join(to, path));
  }
}

/** A copy of the fixture app in `dir`, with its deno.json changed by `edit`. */
async function _app(dir: string, edit: (config: Record<string, unknown>) => void): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const name of ["main.ts", "exports.ts"]) await Deno.copyFile(join(FIXTURE, name), join(dir, name));
  const config = JSON.parse(await Deno.readTextFile(join(FIXTURE, "deno.json")));
  edit(config);
  await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config, null, 2) + "\n");
}

/**
 * The checks every mode passes: `deno check`, main.ts on a SQLite file, every export, and
 * the CLI run as `deno run -A <cli>` where `<cli>` is what the app's import map resolves.
 */
async function _exercise(dir: string, env: Record<string, string>, cli: string): Promise<void> {
  const deno = Deno.execPath();
  await _ok(deno, ["check", "main.ts", "exports.ts"], dir, env);

  const out = await _ok(deno, ["run", "-A", "main.ts"], dir, env);
  // The reducer's state, then the projector's read model: both saw the email change.
  assert.match(out, /\{ name: "Ada", email: "ada@lovelace\.dev" \} ada@lovelace\.dev/);

  const counts = JSON.parse(await _ok(deno, ["run", "-A", "exports.ts"], dir, env));
  for (const name of ["core", "memory", "sqlite", "postgres", "testing", "cli"]) {
    assert.ok(counts[name] > 0, `export ${name} has no names: ${JSON.stringify(counts)}`);
  }

  const info = JSON.parse(
    await _ok(deno, ["run", "-A", cli, "info", "--store", "sqlite:./events.db", "--json"], dir, env),
  );
  assert.equal(info.events, 2);
  assert.deepEqual(info.types, { "user:created": 1, "user:email-set": 1 });
}

async function _hasNpm(): Promise<boolean> {
  try {
    return (await _run("npm", ["--version"], ROOT, {})).code === 0;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("another Deno app loads, type-checks and runs the package in the three ways users have", async (t) => {
  const temp = await Deno.makeTempDir({ prefix: "eventfold-consumer-" });
  try {
    const files = await _publishedFiles();
    const pkg = join(temp, "eventfold");
    await _copyPackage(pkg, files);
    // One npm cache for the run; nothing from the developer's DENO_DIR or node_modules.
    const env = { DENO_DIR: join(temp, "deno_dir") };

    await t.step("as JSR serves it: jsr:@eventfold/eventfold, linked to the local copy", async () => {
      const dir = join(temp, "jsr-app");
      await _app(dir, (config) => void (config.links = [pkg]));
      // The root config leaves tests/consumer out (it is an app of its own); lint it here.
      await _ok(Deno.execPath(), ["lint"], dir, env);
      await _ok(Deno.execPath(), ["fmt", "--check"], dir, env);
      await _exercise(dir, env, "jsr:@eventfold/eventfold/cli");
    });

    await t.step("an import map at the package's files, with Deno's own npm resolution", async () => {
      const dir = join(temp, "files-app");
      await _app(dir, (config) => {
        delete config.links;
        const exports = JSON.parse(Deno.readTextFileSync(join(pkg, "deno.json"))).exports as Record<
          string,
          string
        >;
        const imports = config.imports as Record<string, string>;
        for (const [key, path] of Object.entries(exports)) {
          imports[join("@eventfold/eventfold", key)] = join(pkg, path);
        }
      });
      await _exercise(dir, env, "@eventfold/eventfold/cli");
    });

    const npm = await _hasNpm();
    if (!npm && CI) throw new Error("npm is not on PATH (CI=true: the node_modules mode must run)");
    await t.step({
      name: "an npm-managed node_modules in the app",
      ignore: !npm,
      fn: async () => {
        const dir = join(temp, "npm-app");
        // Deno looks for an npm package in the node_modules folders above the importing
        // file, as Node does; the linked copy lives inside the app so that its imports
        // find the app's node_modules, as a JSR package's do.
        await _copyPackage(join(dir, "eventfold"), files);
        await _app(dir, (config) => {
          config.links = ["./eventfold"];
          config.nodeModulesDir = "manual";
        });
        // With a node_modules of its own, Deno type-checks `node:` imports against
        // @types/node from it (any app's, not only this package's), so it is listed.
        const manifest = JSON.parse(await Deno.readTextFile(join(FIXTURE, "package.json")));
        await Deno.writeTextFile(join(dir, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
        await _ok("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], dir, {});
        await _exercise(dir, env, "jsr:@eventfold/eventfold/cli");
      },
    });
    if (!npm) console.warn("skipped the node_modules mode: npm is not on PATH");
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
});

Deno.test("the README's \"Use it in your app\" snippet is the consumer app's main.ts", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const section = readme.split(/^## Use it in your app\n/m)[1];
  assert.ok(section !== undefined, 'README.md has a "## Use it in your app" section');
  const block = /^```ts[^\n]*\n([\s\S]*?)^```$/m.exec(section.split(/^## /m)[0]);
  assert.ok(block !== null, "the section has a ts block");
  assert.equal(block[1], await Deno.readTextFile(join(FIXTURE, "main.ts")));
});
