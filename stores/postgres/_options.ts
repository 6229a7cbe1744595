/**
 * Reading what a user passes to `PostgresAdapter`: a URL, postgres.js options or a
 * client, and a schema name. Everything that could reach a message is stripped of its
 * password here, once.
 *
 * @module
 */

import postgres from "postgres";
import type { PostgresClient, PostgresOptions } from "./client.ts";

/** The driver's client, whatever custom types it was made with (the adapter's own view of it). */
// deno-lint-ignore no-explicit-any
export type Driver = postgres.Sql<any>;

/** Either a client or a transaction: anything that runs a tagged template. */
// deno-lint-ignore no-explicit-any
export type Query = postgres.ISql<any>;

/** The client an adapter uses, whether it made it, and how to name it in messages. */
export interface Connection {
  /** The client. */
  readonly sql: Driver;
  /** True when the adapter made the client (and so must end it). */
  readonly owned: boolean;
  /** The server as `postgres://user@host:port/database`, never with a password. */
  readonly location: string;
  /** Secrets to scrub from driver messages (the password, when known). */
  readonly secrets: readonly string[];
}

const URL_HINT = "expected postgres://user[:password]@host[:port]/database";

// Fail fast on an unreachable host instead of postgres.js's 30 s; callers can override.
const CONNECT_TIMEOUT_SECONDS = 10;

/**
 * Seconds between reconnection attempts after `retries` failed ones: postgres.js's default
 * grows to 20 s after a dozen quick failures (a busy service hitting a restarting server
 * gets there in milliseconds), so calls would wait that long after the server is back.
 * Capped at one second instead; callers can override.
 */
function backoff(retries: number): number {
  return Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2);
}

function ignoreNotice(): void {
  // CREATE ... IF NOT EXISTS and similar statements send notices nobody needs to see.
}

function isClient(value: unknown): value is Driver {
  return typeof value === "function" && typeof (value as Driver).begin === "function" &&
    typeof (value as Driver).end === "function";
}

function locationOf(
  user: string | undefined,
  host: string | undefined,
  port: unknown,
  database: string | undefined,
) {
  const who = user ? `${user}@` : "";
  const where = host ?? "localhost";
  const at = port === undefined || port === null || port === "" ? "" : `:${port}`;
  return `postgres://${who}${where}${at}/${database ?? ""}`;
}

function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL's own text may hold a password: never repeat it.
    throw new TypeError(`Invalid PostgreSQL URL: it cannot be parsed (${URL_HINT})`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new TypeError(`Invalid PostgreSQL URL: scheme "${parsed.protocol}" is not supported (${URL_HINT})`);
  }
  return parsed;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Opens (lazily: postgres.js connects on the first query) or adopts a client.
 *
 * @param target a URL, postgres.js options, or a client to use as it is
 * @returns the client and how to name it
 * @throws {TypeError} for a URL that cannot be parsed or has another scheme, or a target of another kind
 */
export function connect(target: string | URL | PostgresOptions | PostgresClient): Connection {
  if (isClient(target)) {
    const options = target.options;
    return {
      sql: target,
      owned: false,
      location: locationOf(options?.user, options?.host?.[0], options?.port?.[0], options?.database),
      secrets: typeof options?.pass === "string" && options.pass !== "" ? [options.pass] : [],
    };
  }
  if (typeof target === "string" || target instanceof URL) {
    const parsed = parseUrl(String(target));
    const secrets = parsed.password ? [parsed.password, decoded(parsed.password)] : [];
    for (const [name, value] of parsed.searchParams) if (/pass/i.test(name) && value) secrets.push(value);
    const sql = postgres(parsed.href, {
      onnotice: ignoreNotice,
      connect_timeout: CONNECT_TIMEOUT_SECONDS,
      backoff,
    });
    return {
      sql,
      owned: true,
      location: locationOf(
        decoded(parsed.username),
        parsed.hostname || undefined,
        parsed.port,
        decoded(parsed.pathname.slice(1)),
      ),
      secrets,
    };
  }
  if (typeof target === "object" && target !== null && !Array.isArray(target)) {
    const options = target as PostgresOptions;
    const password = options.password ?? options.pass;
    const sql = postgres({
      onnotice: ignoreNotice,
      connect_timeout: CONNECT_TIMEOUT_SECONDS,
      backoff,
      ...options,
    } as postgres.Options<Record<string, postgres.PostgresType>>);
    return {
      sql,
      owned: true,
      location: locationOf(
        options.user ?? options.username,
        options.host ?? options.hostname ?? options.path,
        options.port,
        options.database ?? options.db,
      ),
      secrets: typeof password === "string" && password !== "" ? [password] : [],
    };
  }
  throw new TypeError(
    `PostgresAdapter needs a URL, postgres.js options or a postgres.js client, got ${
      target === null ? "null" : typeof target
    }`,
  );
}

/**
 * Removes every secret from a driver's message.
 *
 * @param text the message
 * @param secrets what must not appear
 * @returns the message with each secret replaced by `***`
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join("***");
  return out;
}

const utf8 = new TextEncoder();

/**
 * Checks a schema name. Any characters PostgreSQL accepts in a quoted identifier are fine
 * (quotes, semicolons, spaces, unicode), except a dot: postgres.js reads a dot in an
 * identifier as the schema/table separator.
 *
 * @param schema the name
 * @returns the name
 * @throws {TypeError} when it is not a non-empty string, holds a dot or NUL, or starts with `pg_`
 * @throws {RangeError} when it is longer than 63 bytes
 */
export function checkSchemaName(schema: unknown): string {
  if (typeof schema !== "string" || schema.length === 0) {
    throw new TypeError(`Invalid schema name ${JSON.stringify(schema)}: expected a non-empty string`);
  }
  if (schema.includes(".") || schema.includes("\0")) {
    throw new TypeError(
      `Invalid schema name ${JSON.stringify(schema)}: a dot or a NUL character is not allowed`,
    );
  }
  if (schema.startsWith("pg_")) {
    throw new TypeError(
      `Invalid schema name ${JSON.stringify(schema)}: names starting with "pg_" are PostgreSQL's`,
    );
  }
  const bytes = utf8.encode(schema).length;
  if (bytes > 63) {
    throw new RangeError(`Invalid schema name ${JSON.stringify(schema)}: ${bytes} bytes, at most 63 allowed`);
  }
  return schema;
}
