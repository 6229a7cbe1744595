/**
 * Two copies of the package in one process (an npm and a JSR install, two versions): an
 * `EventStore` of copy A over an adapter of copy B still understands B's signals, since
 * they are recognised by brand, never by `instanceof`.
 */
import assert from "node:assert/strict";
import type { Adapter, AdapterTransaction } from "../contract/mod.ts";

type Core = typeof import("../mod.ts");
type Memory = typeof import("../stores/memory/mod.ts");

const ROOT = new URL("../", import.meta.url);
/** The source of the core and the memory store; `stores` holds the database stores too, never loaded here. */
const SOURCE = [
  "errors.ts",
  "async.ts",
  "mod.ts",
  "events",
  "contract",
  "reducers",
  "aggregates",
  "projectors",
  "stores",
  "workflows",
];

async function copyTree(from: URL, to: string): Promise<void> {
  const info = await Deno.stat(from);
  if (info.isFile) {
    if (from.pathname.endsWith(".ts") && !from.pathname.endsWith("_test.ts")) await Deno.copyFile(from, to);
    return;
  }
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const child = new URL(
      entry.name + (entry.isDirectory ? "/" : ""),
      from.href.endsWith("/") ? from : from + "/",
    );
    await copyTree(child, `${to}/${entry.name}`);
  }
}

/** A copy of the package source in a fresh temporary folder. */
async function copyOfPackage(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "eventfold-copy-" });
  for (const entry of SOURCE) await copyTree(new URL(entry, ROOT), `${dir}/${entry}`);
  return dir;
}

/**
 * Wraps an adapter so that the first insert fails with `RevisionConflict` (of the
 * adapter's own copy), as a writer of another process taking the revision would.
 */
function conflictOnce(
  adapter: Adapter,
  RevisionConflict: new (stream: string) => Error,
): { adapter: Adapter; thrown: Error[] } {
  const thrown: Error[] = [];
  const wrapped = new Proxy(adapter, {
    get(target, key) {
      if (key === "transaction") {
        return <T>(work: (tx: AdapterTransaction) => Promise<T>) =>
          target.transaction((tx) =>
            work({
              ...tx,
              insert: (records, options) => {
                if (thrown.length > 0) return tx.insert(records, options);
                const error = new RevisionConflict(records[0].stream);
                thrown.push(error);
                return Promise.reject(error);
              },
            })
          );
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { adapter: wrapped, thrown };
}

Deno.test("an EventStore of one copy understands the signals of another copy's adapter", async (t) => {
  const [dirA, dirB] = [await copyOfPackage(), await copyOfPackage()];
  try {
    const a: Core = await import(new URL(`file://${dirA}/mod.ts`).href);
    const b: Core = await import(new URL(`file://${dirB}/mod.ts`).href);
    const memoryB: Memory = await import(new URL(`file://${dirB}/stores/memory/mod.ts`).href);
    assert.notEqual(a.DuplicateIdError, b.DuplicateIdError, "two copies, two classes");
    const events = new a.EventFactory([a.event.type("tick")]);

    await t.step("a retried push of the same event id is a no-op", async () => {
      const adapter = new memoryB.MemoryAdapter();
      await using store = new a.EventStore({ adapter, events });
      const pending = store.event({ type: "tick", stream: "s" });
      const first = await store.pushEvent(pending);
      const again = await store.pushEvent(pending);
      assert.equal(again.id, first.id);
      assert.deepEqual((await store.getEvents()).map((record) => [record.id, record.revision]), [[
        first.id,
        1,
      ]]);
    });

    await t.step("B's DuplicateIdError passes A's guard and fails A's instanceof", async () => {
      const adapter = new memoryB.MemoryAdapter();
      const record = {
        id: "e1",
        stream: "s",
        type: "tick",
        data: null,
        meta: null,
        revision: 1,
        created: "2025-01-01T00:00:00.000Z",
        outdated: false,
      };
      await adapter.transaction((tx) => tx.insert([record]));
      const error = await adapter.transaction((tx) => tx.insert([{ ...record, revision: 2 }])).then(
        () => assert.fail("the id exists"),
        (error: unknown) => error,
      );
      assert.ok(error instanceof b.DuplicateIdError, "thrown by copy B");
      assert.equal(error instanceof a.DuplicateIdError, false);
      assert.equal(a.isDuplicateIdError(error), true);
      assert.equal(a.isRevisionConflictError(error), false);
      await adapter.close();
    });

    await t.step("a RevisionConflictError of B makes A's store retry", async () => {
      const { adapter, thrown } = conflictOnce(new memoryB.MemoryAdapter(), b.RevisionConflictError);
      await using store = new a.EventStore({ adapter, events });
      const record = await store.pushEvent(store.event({ type: "tick", stream: "s" }), {
        expectedRevision: 0,
      });
      assert.equal(thrown.length, 1, "the first attempt met a conflict");
      assert.equal(thrown[0] instanceof a.RevisionConflictError, false);
      assert.equal(a.isRevisionConflictError(thrown[0]), true);
      assert.equal(record.revision, 1);
      assert.equal((await store.stats()).events, 1);
    });
  } finally {
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
});
