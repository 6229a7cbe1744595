/**
 * A read model kept in the store's own database and written through a subscription's
 * transaction handle (`subscription.tx()`), for the conformance cases and the
 * multi-process tests: a table of counters, one per key. It knows the three built-in
 * stores by their `kind`; it needs no driver import (the handles are used by shape).
 *
 * @module
 */

import type { Adapter } from "../contract/mod.ts";

/** Counters in the store's database, written inside a subscription's transaction. */
export interface TxTable {
  /** Adds `n` to `key`, through the transaction whose handle is given. */
  add(handle: unknown, key: string, n: number): Promise<void>;
  /** Empties the table, through the transaction whose handle is given. */
  clear(handle: unknown): Promise<void>;
  /** Every counter, read committed. */
  read(): Promise<Map<string, number>>;
  /** How many counters there are, read committed. */
  size(): Promise<number>;
}

interface SqliteHandle {
  exec(sql: string): unknown;
  prepare(sql: string): { run(...params: unknown[]): unknown; all(...params: unknown[]): unknown[] };
}

type PgHandle = ((strings: TemplateStringsArray, ...values: unknown[]) => Promise<unknown[]>) & {
  (identifier: string): unknown;
};

interface KvHandle {
  get(key: readonly unknown[]): Promise<{ value: unknown }>;
  set(key: readonly unknown[], value: unknown): void;
  delete(key: readonly unknown[]): void;
  readonly kv: {
    list(
      selector: { prefix: readonly unknown[] },
    ): AsyncIterable<{ key: readonly unknown[]; value: unknown }>;
  };
}

interface MemoryHandle {
  onCommit(apply: () => void): void;
}

const memoryTables = new WeakMap<Adapter, Map<string, Map<string, number>>>();

function memoryTable(adapter: Adapter, name: string): TxTable {
  let tables = memoryTables.get(adapter);
  if (tables === undefined) memoryTables.set(adapter, tables = new Map());
  let rows = tables.get(name);
  if (rows === undefined) tables.set(name, rows = new Map());
  const table = rows;
  return {
    add: (handle, key, n) => {
      (handle as MemoryHandle).onCommit(() => table.set(key, (table.get(key) ?? 0) + n));
      return Promise.resolve();
    },
    clear: (handle) => {
      (handle as MemoryHandle).onCommit(() => table.clear());
      return Promise.resolve();
    },
    read: () => Promise.resolve(new Map(table)),
    size: () => Promise.resolve(table.size),
  };
}

async function sqliteTable(adapter: Adapter, name: string): Promise<TxTable> {
  const table = `"${name.replaceAll('"', '""')}"`;
  await adapter.transaction((tx) => {
    (tx.handle as SqliteHandle).exec(
      `CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL)`,
    );
    return Promise.resolve();
  });
  return {
    add: (handle, key, n) => {
      (handle as SqliteHandle).prepare(
        `INSERT INTO ${table} (key, n) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET n = n + excluded.n`,
      ).run(key, n);
      return Promise.resolve();
    },
    clear: (handle) => {
      (handle as SqliteHandle).exec(`DELETE FROM ${table}`);
      return Promise.resolve();
    },
    read: () =>
      adapter.transaction((tx) => {
        const rows = (tx.handle as SqliteHandle).prepare(`SELECT key, n FROM ${table}`).all() as {
          key: string;
          n: number;
        }[];
        return Promise.resolve(new Map(rows.map((row) => [row.key, Number(row.n)])));
      }),
    size: () =>
      adapter.transaction((tx) => {
        const [row] = (tx.handle as SqliteHandle).prepare(`SELECT count(*) AS n FROM ${table}`).all() as {
          n: number;
        }[];
        return Promise.resolve(Number(row.n));
      }),
  };
}

function kvTable(adapter: Adapter, name: string): TxTable {
  const prefix = ["eventfold-conformance", name];
  const list = async (kv: KvHandle["kv"]) => {
    const out = new Map<string, number>();
    for await (const entry of kv.list({ prefix })) out.set(String(entry.key.at(-1)), Number(entry.value));
    return out;
  };
  const kv = () => adapter.transaction((tx) => Promise.resolve((tx.handle as KvHandle).kv));
  return {
    add: async (handle, key, n) => {
      const kv = handle as KvHandle;
      const current = await kv.get([...prefix, key]);
      kv.set([...prefix, key], Number(current.value ?? 0) + n);
    },
    clear: async (handle) => {
      const kv = handle as KvHandle;
      for (const key of (await list(kv.kv)).keys()) kv.delete([...prefix, key]);
    },
    read: async () => await list(await kv()),
    size: async () => (await list(await kv())).size,
  };
}

async function postgresTable(adapter: Adapter, name: string): Promise<TxTable> {
  const schema = (adapter as unknown as { schema: string }).schema;
  await adapter.transaction(async (tx) => {
    const q = tx.handle as PgHandle;
    await q`CREATE TABLE IF NOT EXISTS ${q(schema)}.${q(name)} (key text PRIMARY KEY, n integer NOT NULL)`;
  });
  return {
    add: async (handle, key, n) => {
      const q = handle as PgHandle;
      await q`
        INSERT INTO ${q(schema)}.${q(name)} AS t (key, n) VALUES (${key}, ${n}::integer)
        ON CONFLICT (key) DO UPDATE SET n = t.n + excluded.n`;
    },
    clear: async (handle) => {
      const q = handle as PgHandle;
      await q`DELETE FROM ${q(schema)}.${q(name)}`;
    },
    read: () =>
      adapter.transaction(async (tx) => {
        const q = tx.handle as PgHandle;
        const rows = await q`SELECT key, n FROM ${q(schema)}.${q(name)}` as { key: string; n: number }[];
        return new Map(rows.map((row) => [row.key, Number(row.n)]));
      }),
    size: () =>
      adapter.transaction(async (tx) => {
        const q = tx.handle as PgHandle;
        const [row] = await q`SELECT count(*)::integer AS n FROM ${q(schema)}.${q(name)}` as { n: number }[];
        return Number(row.n);
      }),
  };
}

/**
 * Opens (creating it when missing) the counter table `name` in the adapter's database.
 *
 * @param adapter a memory, SQLite or PostgreSQL adapter
 * @param name the table name
 * @returns the table
 * @throws {TypeError} for an adapter of another kind
 */
export async function txTable(adapter: Adapter, name: string): Promise<TxTable> {
  switch (adapter.kind) {
    case "memory":
    // IndexedDB's handle stages work with onCommit as memory's does (applied after the commit).
    case "indexeddb":
      return memoryTable(adapter, name);
    case "sqlite":
      return await sqliteTable(adapter, name);
    case "postgres":
      return await postgresTable(adapter, name);
    case "kv":
      return kvTable(adapter, name);
    default:
      throw new TypeError(
        `The transactional subscription cases know the memory, sqlite, postgres, kv and indexeddb stores, not "${adapter.kind}"; ` +
          "skip them by name for this store",
      );
  }
}
