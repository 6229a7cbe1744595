import assert from "node:assert/strict";
import { scrubSecrets, UsageError } from "./_errors.ts";
import { parseStoreUrl } from "./_store_url.ts";

Deno.test("parseStoreUrl reads memory, sqlite and postgres URLs", () => {
  assert.deepEqual(parseStoreUrl("memory:"), { kind: "memory", label: "memory:" });
  assert.deepEqual(parseStoreUrl("sqlite:./events.db"), {
    kind: "sqlite",
    path: "./events.db",
    label: "sqlite:./events.db",
  });
  assert.equal((parseStoreUrl("sqlite:/abs/e.db") as { path: string }).path, "/abs/e.db");
  assert.equal((parseStoreUrl("sqlite:///abs/e.db") as { path: string }).path, "/abs/e.db");
  const pg = parseStoreUrl("postgres://app:s3cret@db.internal:6543/app?schema=billing&sslmode=disable");
  assert.equal(pg.kind, "postgres");
  assert.equal(pg.label, "postgres://app@db.internal:6543/app?schema=billing");
  assert.equal((pg as { schema?: string }).schema, "billing");
  assert.doesNotMatch((pg as { url: string }).url, /schema=/);
  assert.match((pg as { url: string }).url, /sslmode=disable/);
  assert.equal(scrubSecrets("failed for s3cret"), "failed for ***");
});

Deno.test("parseStoreUrl rejects malformed URLs without repeating a password", async (t) => {
  const cases: [string, RegExp][] = [
    ["", /not a store URL/],
    ["./events.db", /did you mean sqlite:\.\/events\.db/],
    ["mysql://root@db/x", /unknown store scheme "mysql:"/],
    ["sqlite:", /needs a file path/],
    ["sqlite://relative.db", /third slash/],
    ["postgres://user:hunter2@/db", /malformed PostgreSQL URL|no host/],
    ["postgres:///db", /no host/],
    ["postgres://user:hunter2@host:notaport/db", /malformed PostgreSQL URL/],
    ["postgres://host/db?schema=", /non-empty \?schema=name/],
  ];
  for (const [text, message] of cases) {
    await t.step(text || "(empty)", () => {
      assert.throws(() => parseStoreUrl(text), (e: unknown) => {
        return e instanceof UsageError && message.test(e.message) && !e.message.includes("hunter2");
      });
    });
  }
});
