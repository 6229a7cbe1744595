import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

interface Report {
  node: string;
  pushed: number;
  pulled: number;
  notified: number;
  todos: string[];
}

async function client(db: string, name: string, url: string, ...todos: string[]): Promise<Report> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "examples/sync/client.ts", db, name, url, ...todos],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `client ${name} failed:\n${out}\n${new TextDecoder().decode(stderr)}`);
  return JSON.parse(out);
}

Deno.test("the sync example: two clients write offline, sync through the server, once fires only at the origin", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventfold-sync-example-" });
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "examples/sync/server.ts", join(dir, "server.db")],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let first = "";
    while (!first.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`the server stopped: ${first}`);
      first += value;
    }
    const url = /listening on (\S+)/.exec(first)?.[1];
    assert(url, first);
    const a = join(dir, "a.db");
    const b = join(dir, "b.kv"); // the second client keeps its events in Deno KV

    assert.deepEqual(await client(a, "a", url, "buy milk", "call bob"), {
      node: "a",
      pushed: 2,
      pulled: 0,
      notified: 2,
      todos: ["buy milk", "call bob"],
    });
    assert.deepEqual(await client(b, "b", url, "water plants"), {
      node: "b",
      pushed: 1,
      pulled: 2,
      notified: 1,
      todos: ["buy milk", "call bob", "water plants"],
    });
    // a again, with nothing new of its own: it gets b's to-do, sends nothing back, notifies nobody.
    assert.deepEqual(await client(a, "a", url), {
      node: "a",
      pushed: 0,
      pulled: 1,
      notified: 0,
      todos: ["buy milk", "call bob", "water plants"],
    });
    // A wrong token is refused.
    const refused = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "examples/sync/client.ts", a, "a", url],
      cwd: ROOT,
      env: { SYNC_TOKEN: "wrong" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(refused.code, 0);
    assert.match(new TextDecoder().decode(refused.stderr), /403/);
  } finally {
    server.kill("SIGTERM");
    let rest = "";
    for (;;) {
      const { value, done } = await lines.read();
      if (done) break;
      rest += value;
    }
    const status = await server.status;
    await server.stderr.cancel();
    await Deno.remove(dir, { recursive: true });
    assert.match(rest, /server holds 3 events/);
    assert.equal(status.code, 0);
  }
});

Deno.test("the sync example refuses to run without its arguments", async () => {
  for (const script of ["server.ts", "client.ts"]) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `examples/sync/${script}`],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 2, script);
    assert.match(new TextDecoder().decode(stderr), /usage: /);
  }
});
