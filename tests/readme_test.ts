/**
 * Every TypeScript snippet of README.md compiles and runs. Self-contained blocks (```ts)
 * are Deno's own doc tests; the short ones (```ts ignore, which Deno skips) take their
 * set-up from tests/_readme_prelude.ts: each is written to a module that imports from the
 * prelude the names it uses without defining them, type-checked, then run
 * (```ts ignore no-run: type-checked only, for snippets that need a server elsewhere).
 *
 * @module
 */

import assert from "node:assert/strict";

const root = new URL("..", import.meta.url);
const prelude = new URL("tests/_readme_prelude.ts", root);

/** A README snippet that the doc tests skip. */
interface Snippet {
  readonly line: number;
  readonly code: string;
  readonly run: boolean;
}

function snippets(markdown: string): Snippet[] {
  const found: Snippet[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```ts\s+(.*)$/.exec(lines[i]);
    if (open === null || !open[1].split(/\s+/).includes("ignore")) continue;
    const start = i + 1;
    while (i + 1 < lines.length && lines[i + 1] !== "```") i++;
    found.push({ line: start, code: lines.slice(start, i + 1).join("\n"), run: !open[1].includes("no-run") });
  }
  return found;
}

/** Names a snippet binds itself: its imports and top-level declarations. */
function ownNames(code: string): Set<string> {
  const names = new Set<string>();
  for (const [, list] of code.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of list.split(",")) {
      const name = part.trim().split(/\s+as\s+/).pop()?.replace(/^type\s+/, "").trim();
      if (name) names.add(name);
    }
  }
  for (
    const [, name] of code.matchAll(
      /^(?:export\s+)?(?:const|let|class|function|type|interface|using|await using)\s+(\w+)/gm,
    )
  ) {
    names.add(name);
  }
  for (const [, list] of code.matchAll(/^(?:const|let)\s+\[([^\]]*)\]/gm)) {
    for (const name of list.split(",")) names.add(name.trim());
  }
  return names;
}

async function preludeNames(): Promise<string[]> {
  const module = await import(prelude.href);
  const values = Object.keys(module);
  // Type-only exports of the prelude that snippets use.
  return [...values, "User"];
}

async function deno(args: string[]): Promise<{ ok: boolean; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return { ok: code === 0, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

Deno.test("every README snippet type-checks, and runs unless marked no-run", async (t) => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const found = snippets(readme);
  assert.ok(found.length > 0, "the README has snippets");
  const available = await preludeNames();
  const dir = await Deno.makeTempDir({ prefix: "eventfold_readme_" });
  try {
    const files = await Promise.all(found.map(async (snippet) => {
      const own = ownNames(snippet.code);
      const used = available.filter((name) =>
        !own.has(name) && new RegExp(`\\b${name}\\b`).test(snippet.code)
      );
      const values = used.filter((name) => name !== "User");
      const header = [
        values.length > 0 ? `import { ${values.join(", ")} } from "${prelude.href}";` : "",
        used.includes("User") ? `import type { User } from "${prelude.href}";` : "",
      ].join("\n");
      const file = `${dir}/readme_line_${snippet.line}.ts`;
      await Deno.writeTextFile(file, `${header}\n${snippet.code}\nexport {};\n`);
      return { snippet, file };
    }));
    const config = new URL("deno.json", root).pathname;
    const checked = await deno(["check", "--quiet", "--config", config, ...files.map((f) => f.file)]);
    assert.ok(checked.ok, `README snippets fail to type-check:\n${checked.output.replaceAll(dir, "README")}`);
    for (const { snippet, file } of files.filter((f) => f.snippet.run)) {
      await t.step(`README.md line ${snippet.line} runs`, async () => {
        const ran = await deno(["run", "-A", "--no-check", "--config", config, file]);
        assert.ok(ran.ok, `README.md line ${snippet.line} fails:\n${ran.output}`);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
