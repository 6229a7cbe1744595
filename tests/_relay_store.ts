/**
 * The stores the relay's process test runs on, named by the URL the command line takes:
 * `sqlite:<path>` or `postgres://...?schema=<name>`.
 *
 * @module
 */

import type { Adapter } from "../contract/mod.ts";
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { SqliteAdapter } from "../stores/sqlite/mod.ts";

/**
 * Opens the adapter a store URL names.
 *
 * @param url `sqlite:<path>` or `postgres://...?schema=<name>`
 * @returns the adapter (the caller closes it)
 */
export function relayStoreAdapter(url: string): Adapter & AsyncDisposable {
  if (url.startsWith("sqlite:")) return new SqliteAdapter(url.slice("sqlite:".length));
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema") ?? undefined;
  parsed.search = "";
  return new PostgresAdapter(parsed.href, { schema });
}
