/**
 * Why a SQLite store cannot be opened, told truthfully. SQLite itself says "unable to
 * open database file" or "attempt to write a readonly database" for every kind of
 * refusal; this asks the file system what is actually in the way: the file's own
 * permissions, its WAL and shared-memory files, or a directory where SQLite cannot
 * create them (every open in WAL mode needs `<file>-wal` and `<file>-shm` beside it).
 * It runs only after an open failed.
 *
 * @module
 */

import { dirname } from "node:path";

function denied(error: unknown): boolean {
  return error instanceof Deno.errors.PermissionDenied ||
    (error instanceof Error &&
      /EACCES|EPERM|EROFS|permission denied|read-only file system/i.test(error.message));
}

async function tryOpen(path: string, options: Deno.OpenOptions): Promise<"ok" | "missing" | "denied"> {
  try {
    (await Deno.open(path, options)).close();
    return "ok";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "missing";
    if (denied(error)) return "denied";
    return "ok";
  }
}

async function directoryWritable(dir: string): Promise<boolean> {
  let probe: string | undefined;
  try {
    probe = await Deno.makeTempFile({ dir, prefix: ".eventfold-probe-" });
    return true;
  } catch (error) {
    return !denied(error);
  } finally {
    if (probe !== undefined) await Deno.remove(probe).catch(() => {});
  }
}

/**
 * Finds what keeps this process from opening a SQLite store for reading and writing (a
 * store that may only be read still opens for reading: callers that only read ask after a
 * failure).
 *
 * @param path the database file
 * @returns a phrase starting with "permission denied", or `undefined` when the file
 *   system shows no obstacle (the cause is then something else, such as a damaged file)
 */
export async function sqliteAccessProblem(path: string): Promise<string | undefined> {
  const dir = dirname(path);
  const file = await tryOpen(path, { read: true });
  if (file === "denied") {
    return `permission denied: ${path} cannot be read by this user (check its permissions)`;
  }
  if (file === "missing") {
    return (await directoryWritable(dir))
      ? undefined
      : `permission denied: cannot create ${path}: the directory ${dir} is not writable by this user`;
  }
  if ((await tryOpen(path, { read: true, write: true })) === "denied") {
    return `permission denied: ${path} is read-only for this user`;
  }
  let missingSide = false;
  for (const side of [`${path}-wal`, `${path}-shm`]) {
    const state = await tryOpen(side, { read: true, write: true });
    if (state === "denied") {
      return `permission denied: ${side} is not writable by this user (SQLite writes it on every commit)`;
    }
    if (state === "missing") missingSide = true;
  }
  if (missingSide && !(await directoryWritable(dir))) {
    return `permission denied: the directory ${dir} is not writable by this user, and SQLite must create ` +
      `${path}-wal and ${path}-shm there to open the store`;
  }
  return undefined;
}
