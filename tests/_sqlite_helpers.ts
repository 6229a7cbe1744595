/**
 * Helpers shared by the SQLite store's tests: temporary directories and records to insert.
 *
 * @module
 */

import type { InsertableRecord } from "../contract/mod.ts";
import { uuidv7 } from "../events/id.ts";

/**
 * A temporary directory removed when disposed.
 *
 * @returns the directory and a disposer
 */
export async function tempDir(): Promise<{ path: string; file(name: string): string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "eventfold_sqlite_" });
  return {
    path,
    file: (name) => `${path}/${name}`,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/**
 * A record ready to insert.
 *
 * @param stream its stream
 * @param revision its revision
 * @param extra fields to override
 * @returns the record
 */
export function row(
  stream: string,
  revision: number,
  extra: Partial<InsertableRecord> = {},
): InsertableRecord {
  return {
    id: uuidv7(),
    stream,
    type: "counted",
    data: { n: revision },
    meta: null,
    revision,
    created: new Date().toISOString(),
    outdated: false,
    ...extra,
  };
}
