/**
 * Opening the store a URL names. Drivers load only when their URL is used. A command
 * that reads never creates a store: a missing SQLite file or PostgreSQL schema is
 * reported, not made. Failures become one line naming the store without its password.
 *
 * @module
 */

import { type Adapter, type AnyEventFactory, type Codec, EventStore, isEventStoreError } from "../mod.ts";
import { CliFailure, scrubSecrets, UsageError } from "./_errors.ts";
import { PermissiveEvents } from "./_permissive_events.ts";
import { sqliteAccessProblem } from "./_sqlite_access.ts";
import type { StoreUrl } from "./_store_url.ts";

/** A payload the store could not decode, left in place of it so a scan can go on. */
export class Undecodable {
  /** Why the codec refused it. */
  readonly reason: string;

  /** @param reason the codec's message */
  constructor(reason: string) {
    this.reason = reason;
  }
}

/** How to open a store. */
export interface OpenOptions {
  /** Create the store when missing (for writing commands). */
  readonly create: boolean;
  /** Put an {@linkcode Undecodable} where a payload does not decode, instead of failing the read. */
  readonly lenient?: boolean;
  /** Event definitions for the store (default: any type, any payload). */
  readonly events?: AnyEventFactory;
}

/** An open store and what the command line needs around it. */
export interface OpenedStore {
  /** The URL it was opened from. */
  readonly url: StoreUrl;
  /** The storage adapter. */
  readonly adapter: Adapter;
  /** An event store over the adapter. */
  readonly store: EventStore<AnyEventFactory>;
  /** Bytes the store takes on disk, when that can be known. */
  size(): Promise<number | undefined>;
  /** Closes the store. */
  close(): Promise<void>;
}

function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return scrubSecrets(text.replaceAll(/\s+/g, " ").trim());
}

function failure(url: StoreUrl, error: unknown): CliFailure | UsageError {
  if (error instanceof CliFailure || error instanceof UsageError) return error;
  const text = reason(error);
  // The store's own open errors name the store already.
  return new CliFailure(isEventStoreError(error) ? text : `cannot open ${url.label}: ${text}`, {
    cause: error,
  });
}

function lenientCodec(codec: Codec): Codec {
  return {
    name: codec.name,
    encode: (value) => codec.encode(value),
    decode: (bytes) => {
      try {
        return codec.decode(bytes);
      } catch (error) {
        return new Undecodable(error instanceof Error ? error.message : String(error));
      }
    },
  };
}

async function sqliteSize(path: string): Promise<number> {
  let total = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      total += (await Deno.stat(file)).size;
    } catch {
      // No WAL file is fine.
    }
  }
  return total;
}

async function checkSqliteFile(path: string, label: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliFailure(`no SQLite store at ${path} (${label}): no such file`);
    }
    throw new CliFailure(`cannot read ${path}: ${reason(error)}`, { cause: error });
  }
  if (!info.isFile) throw new CliFailure(`${path} is not a file`);
  const { DatabaseSync } = await import("node:sqlite");
  let db: InstanceType<typeof DatabaseSync> | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const found = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'eventfold_meta'")
      .get();
    if (found === undefined) {
      throw new CliFailure(`${path} is not an Eventfold store (it has no eventfold_meta table)`);
    }
  } catch (error) {
    if (error instanceof CliFailure) throw error;
    throw await sqliteOpenFailure(path, error);
  } finally {
    db?.close();
  }
}

/** The truthful reason an open failed: permissions first, then what SQLite said. */
async function sqliteOpenFailure(path: string, error: unknown): Promise<CliFailure> {
  const problem = await sqliteAccessProblem(path);
  if (problem !== undefined) return new CliFailure(`cannot open ${path}: ${problem}`, { cause: error });
  const text = reason(error);
  // SQLITE_NOTADB: the bytes are not a database; anything else is named as SQLite said it.
  if (/file is not a database|file is encrypted/i.test(text)) {
    return new CliFailure(`${path} is not a SQLite database (${text})`, { cause: error });
  }
  return new CliFailure(isEventStoreError(error) ? text : `cannot open ${path}: ${text}`, { cause: error });
}

async function openSqlite(url: StoreUrl & { kind: "sqlite" }, options: OpenOptions): Promise<Adapter> {
  if (!options.create) await checkSqliteFile(url.path, url.label);
  const { SqliteAdapter } = await import("../stores/sqlite/mod.ts");
  let adapter: InstanceType<typeof SqliteAdapter>;
  try {
    adapter = new SqliteAdapter(url.path);
    if (options.lenient) {
      const codec = adapter.codec;
      await adapter.close();
      adapter = new SqliteAdapter(url.path, { codec: lenientCodec(codec) });
    }
  } catch (error) {
    throw await sqliteOpenFailure(url.path, error);
  }
  if (options.create) {
    // SQLite opens a store it may only read without complaint (a read-only WAL file, say)
    // and refuses only the first write; a writing command says so before it starts.
    const problem = await sqliteAccessProblem(url.path);
    if (problem !== undefined) {
      await adapter.close();
      throw new CliFailure(`cannot open ${url.path} for writing: ${problem}`);
    }
  }
  return adapter;
}

async function openPostgres(url: StoreUrl & { kind: "postgres" }, options: OpenOptions): Promise<Adapter> {
  const { PostgresAdapter } = await import("../stores/postgres/mod.ts");
  let adapter: InstanceType<typeof PostgresAdapter>;
  try {
    adapter = new PostgresAdapter(url.url, { schema: url.schema });
  } catch (error) {
    // A bad schema name is a malformed URL, not a failure of the server.
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new UsageError(`${url.label}: ${reason(error)}`);
    }
    throw error;
  }
  try {
    if (!options.create) {
      const rows = await adapter.sql`SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = ${adapter.schema}`;
      if (rows.length === 0) {
        throw new CliFailure(`no Eventfold store in ${url.label}: schema "${adapter.schema}" does not exist`);
      }
    }
    await adapter.open();
    if (options.lenient) {
      const codec = await adapter.codec();
      await adapter.close();
      adapter = new PostgresAdapter(url.url, { schema: url.schema, codec: lenientCodec(codec) });
      await adapter.open();
    }
    return adapter;
  } catch (error) {
    await adapter.close().catch(() => {});
    throw error;
  }
}

async function postgresSize(adapter: Adapter): Promise<number | undefined> {
  const pg = adapter as unknown as {
    sql: (strings: TemplateStringsArray, ...values: unknown[]) => Promise<{ size: number }[]>;
    schema: string;
  };
  const [row] = await pg.sql`
    SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 AS size
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${pg.schema} AND c.relkind = 'r'`;
  return row?.size;
}

/**
 * Opens the store a URL names.
 *
 * @param url the parsed URL
 * @param options create or not, lenient decoding, event definitions
 * @returns the open store
 * @throws {CliFailure} when it cannot be opened (missing file, unreachable server, not a store...)
 */
export async function openStore(url: StoreUrl, options: OpenOptions): Promise<OpenedStore> {
  let adapter: Adapter;
  try {
    if (url.kind === "memory") {
      const { MemoryAdapter } = await import("../stores/memory/mod.ts");
      adapter = new MemoryAdapter();
    } else if (url.kind === "sqlite") {
      adapter = await openSqlite(url, options);
    } else {
      adapter = await openPostgres(url, options);
    }
  } catch (error) {
    throw failure(url, error);
  }
  const store = new EventStore({
    adapter,
    events: options.events ?? new PermissiveEvents(),
    unknownEvents: "pass",
  });
  return {
    url,
    adapter,
    store,
    size: () =>
      url.kind === "sqlite"
        ? sqliteSize(url.path)
        : url.kind === "postgres"
        ? postgresSize(adapter)
        : Promise.resolve(undefined),
    close: () => store.close(),
  };
}
