/**
 * Store URLs: `memory:`, `sqlite:./events.db` (or `sqlite:/abs/path`, `sqlite:///abs/path`)
 * and `postgres://user[:password]@host[:port]/database[?schema=name]`. A URL that does
 * not parse is a usage error whose message never repeats a password.
 *
 * @module
 */

import { hideSecret, UsageError } from "./_errors.ts";

/** A parsed store URL. */
export type StoreUrl =
  | { readonly kind: "memory"; readonly label: string }
  | { readonly kind: "sqlite"; readonly path: string; readonly label: string }
  | {
    readonly kind: "postgres";
    /** The URL handed to the driver (without `schema`). */
    readonly url: string;
    /** The schema named by `?schema=`, if any. */
    readonly schema?: string;
    /** The URL without its password, for messages. */
    readonly label: string;
  };

const POSTGRES_FORM = "postgres://user[:password]@host[:port]/database[?schema=name]";
const FORMS = `memory:, sqlite:./events.db or ${POSTGRES_FORM}`;

function sqliteUrl(text: string, flag: string): StoreUrl {
  let path = text.slice("sqlite:".length);
  if (path.startsWith("//")) {
    if (!path.startsWith("///")) {
      throw new UsageError(
        `${flag}: "sqlite://" needs a third slash for an absolute path (sqlite:///abs/path) or use sqlite:./relative`,
      );
    }
    path = path.slice(2);
  }
  if (path === "") {
    throw new UsageError(`${flag}: "sqlite:" needs a file path, for example sqlite:./events.db`);
  }
  return { kind: "sqlite", path, label: `sqlite:${path}` };
}

function postgresUrl(text: string, flag: string): StoreUrl {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new UsageError(`${flag}: malformed PostgreSQL URL (expected ${POSTGRES_FORM})`);
  }
  if (parsed.password) {
    hideSecret(parsed.password);
    try {
      hideSecret(decodeURIComponent(parsed.password));
    } catch {
      // An undecodable password is hidden in its raw form above.
    }
  }
  if (parsed.hostname === "") {
    throw new UsageError(`${flag}: the PostgreSQL URL has no host (expected ${POSTGRES_FORM})`);
  }
  const schemas = parsed.searchParams.getAll("schema");
  if (schemas.length > 1 || schemas[0] === "") {
    throw new UsageError(`${flag}: give one non-empty ?schema=name in the PostgreSQL URL`);
  }
  parsed.searchParams.delete("schema");
  const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : "";
  const port = parsed.port ? `:${parsed.port}` : "";
  const query = schemas.length === 1 ? `?schema=${schemas[0]}` : "";
  return {
    kind: "postgres",
    url: parsed.href,
    schema: schemas[0],
    label: `postgres://${user}${parsed.hostname}${port}${parsed.pathname}${query}`,
  };
}

/**
 * Parses a store URL.
 *
 * @param text what the user wrote
 * @param flag the flag it came from, for messages
 * @returns the parsed URL
 * @throws {UsageError} for an unknown scheme or a malformed URL
 */
export function parseStoreUrl(text: string, flag = "--store"): StoreUrl {
  if (text === "memory:") return { kind: "memory", label: "memory:" };
  if (text.startsWith("sqlite:")) return sqliteUrl(text, flag);
  if (text.startsWith("postgres://") || text.startsWith("postgresql://")) return postgresUrl(text, flag);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
  if (scheme !== undefined && scheme.length > 1) {
    throw new UsageError(`${flag}: unknown store scheme "${scheme}:" (expected ${FORMS})`);
  }
  const hint = /[/\\.]/.test(text) ? ` (did you mean sqlite:${text}?)` : "";
  throw new UsageError(`${flag}: not a store URL: ${JSON.stringify(text)}${hint}; expected ${FORMS}`);
}
