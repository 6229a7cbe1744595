/**
 * What {@linkcode PostgresAdapter} takes and gives of the driver, in the store's own
 * types: the few parts of a postgres.js client it relies on. A client made with
 * `postgres(...)` fits them as it is, so it can be handed in, and `adapter.sql` and a
 * transaction's `handle` can be used like postgres.js's (a cast to postgres.js's own types
 * gives the rest of its API).
 *
 * @module
 */

/**
 * A piece of SQL to interpolate in a statement: an identifier made with `sql(name)`, or a
 * statement made with the tag and not awaited.
 */
export type PostgresFragment = object;

/** A row of a result, by column name. */
export type PostgresRow = Record<string, unknown>;

/**
 * Runs statements: a tagged template whose values travel as parameters, and `sql(name)`
 * for an identifier.
 *
 * @example
 * ```ts ignore
 * import type { PostgresSql } from "@eventfold/eventfold/postgres";
 *
 * async function count(sql: PostgresSql, schema: string): Promise<number> {
 *   const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${sql(schema)}.events`;
 *   return row.n;
 * }
 * ```
 */
export interface PostgresSql {
  /**
   * Runs a statement.
   *
   * @param template the statement's text
   * @param values the values, sent as parameters (a fragment is spliced in)
   * @returns the rows
   */
  <T extends readonly object[] = PostgresRow[]>(
    template: TemplateStringsArray,
    // `any`, as postgres.js's own values: whatever its custom types accept goes through.
    // deno-lint-ignore no-explicit-any
    ...values: readonly any[]
  ): Promise<T>;
  /**
   * Quotes an identifier (or a list of them) to interpolate in a statement.
   *
   * @param identifier a schema, table or column name
   * @returns the fragment
   */
  (identifier: string | readonly string[]): PostgresFragment;
  /**
   * Runs a statement given as text, with `$1`-style parameters.
   *
   * @param query the statement
   * @param parameters its parameters
   * @returns the rows
   */
  unsafe<T extends object[] = PostgresRow[]>(query: string, parameters?: readonly unknown[]): Promise<T>;
}

/** A transaction's connection: runs statements in it, and nests savepoints. */
export interface PostgresTransactionSql extends PostgresSql {
  /**
   * Runs `work` in a savepoint: rolled back to it when `work` throws, released otherwise.
   *
   * @param work what to do in the savepoint
   * @returns what `work` returned
   */
  savepoint<T>(work: (sql: PostgresTransactionSql) => T | Promise<T>): Promise<T>;
}

/** The connection settings of a client, as the client has parsed them. */
export interface PostgresClientOptions {
  /** The hosts it connects to. */
  readonly host: readonly string[];
  /** Their ports. */
  readonly port: readonly number[];
  /** The user name. */
  readonly user: string;
  /** The database. */
  readonly database: string;
  /** The password, when one was given as text (hidden from every message). */
  readonly pass?: string | null;
  /** The most connections the pool opens. */
  readonly max: number;
}

/**
 * A postgres.js client (`postgres(...)`), as far as the adapter uses it: it runs
 * statements, transactions and reserved connections, and ends.
 */
export interface PostgresClient extends PostgresSql {
  /** Its connection settings. */
  readonly options: PostgresClientOptions;
  /**
   * Runs `work` in a transaction.
   *
   * @param work the transaction's body
   * @returns what `work` returned, after the commit
   */
  begin<T>(work: (sql: PostgresTransactionSql) => T | Promise<T>): Promise<T>;
  /**
   * Takes a connection of the pool for the caller alone.
   *
   * @returns the connection; `release()` gives it back
   */
  reserve(): Promise<PostgresSql & { release(): void }>;
  /**
   * Closes the pool's connections.
   *
   * @param options how long to wait for running statements, in seconds
   * @returns when closed
   */
  end(options?: { readonly timeout?: number }): Promise<void>;
}

/**
 * Connection options, as postgres.js takes them (its other options pass through as they
 * are).
 */
export interface PostgresOptions {
  /** The server's host name or address (default `localhost`). */
  readonly host?: string;
  /** Alias of `host`. */
  readonly hostname?: string;
  /** The server's port (default 5432). */
  readonly port?: number;
  /** A Unix socket path, instead of a host. */
  readonly path?: string;
  /** The database. */
  readonly database?: string;
  /** Alias of `database`. */
  readonly db?: string;
  /** The user name. */
  readonly user?: string;
  /** Alias of `user`. */
  readonly username?: string;
  /** The password, or a function that returns it. Never shown in messages. */
  readonly password?: string | (() => string | Promise<string>);
  /** Alias of `password`. */
  readonly pass?: string | (() => string | Promise<string>);
  /** TLS: `"require"`, `"prefer"`, `"verify-full"`, `true`, or `tls.connect` options. */
  readonly ssl?: "require" | "allow" | "prefer" | "verify-full" | boolean | object;
  /** The most connections the pool opens (default 10). */
  readonly max?: number;
  /** Seconds before an idle connection is closed. */
  readonly idle_timeout?: number;
  /** Seconds to wait for a connection (default 10 here). */
  readonly connect_timeout?: number;
  /** Seconds a connection lives at most. */
  readonly max_lifetime?: number | null;
  /** Whether statements are prepared (default true). */
  readonly prepare?: boolean;
  /** Whether array types are looked up on connecting (default true). */
  readonly fetch_types?: boolean;
  /** Called with each notice of the server (default: ignored). */
  readonly onnotice?: (notice: Record<string, unknown>) => void;
  /** Seconds between reconnection attempts after `attempt` failed ones (default capped at one). */
  readonly backoff?: boolean | ((attempt: number) => number);
  /** Run-time parameters of each connection (`application_name`, `statement_timeout`, ...). */
  readonly connection?: Readonly<Record<string, string | number | boolean>>;
  /** Other postgres.js options. */
  readonly [option: string]: unknown;
}
