import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

async function run(script: string, dbPath: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `examples/evolution/${script}`, dbPath],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `${script} failed:\n${out}\n${new TextDecoder().decode(stderr)}`);
  return out;
}

Deno.test("the evolution example reads users written at version 1 in their version-3 shape", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventfold-evolution-" });
  try {
    const dbPath = join(dir, "users.db");
    assert.match(await run("write_v1.ts", dbPath), /wrote 3 users at version 1/);
    const users = JSON.parse(await run("read_v3.ts", dbPath));
    const old = { email: null, version: 3, storedVersion: 1 };
    assert.deepEqual(users, [
      { id: "user-1", given: "Ada", family: "Lovelace", active: true, ...old },
      { id: "user-2", given: "Alan", family: "Mathison Turing", active: false, ...old },
      { id: "user-3", given: "Grace", family: "Hopper", active: true, ...old },
    ]);
    // Reading changes nothing stored: a second read prints the same.
    assert.deepEqual(JSON.parse(await run("read_v3.ts", dbPath)), users);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the evolution example refuses to run without a path", async () => {
  for (const script of ["write_v1.ts", "read_v3.ts"]) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `examples/evolution/${script}`],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 2, script);
    assert.match(new TextDecoder().decode(stderr), /usage: /);
  }
});
