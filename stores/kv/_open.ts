/**
 * Opening the KV database: a `Deno.Kv` handed in, a local file path, or a URL (KV
 * Connect: Deno Deploy, a self-hosted denokv). `Deno.openKv` exists only with
 * `--unstable-kv` (or `"unstable": ["kv"]` in `deno.json`); without it the adapter says so.
 *
 * @module
 */

import { StoreOpenError } from "../../errors.ts";

/** What a `KvAdapter` opens: an open `Deno.Kv`, a file path, or a KV Connect URL. */
export type KvSource = Deno.Kv | string | URL;

/** The opened database and whether the adapter closes it. */
export interface OpenedKv {
  /** Where the events live, for messages. */
  readonly location: string;
  /** The database, once open. */
  readonly kv: Promise<Deno.Kv>;
  /** True when the adapter opened it (and so closes it). */
  readonly owned: boolean;
}

/** Whether `value` looks like a `Deno.Kv`. */
function isKv(value: unknown): value is Deno.Kv {
  return typeof value === "object" && value !== null &&
    typeof (value as Deno.Kv).atomic === "function" && typeof (value as Deno.Kv).get === "function";
}

/** A URL without its password, for messages. */
function shown(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password !== "") copy.password = "***";
  return copy.href;
}

/**
 * Opens `source`.
 *
 * @param source a `Deno.Kv`, a path, `":memory:"`, or a URL
 * @returns the database (a promise: opening a file is asynchronous) and its location
 * @throws {StoreOpenError} when `Deno.openKv` is missing (no `--unstable-kv`)
 * @throws {TypeError} when `source` is none of those
 */
export function openKv(source: KvSource): OpenedKv {
  if (isKv(source)) return { location: "kv:", kv: Promise.resolve(source), owned: false };
  let target: string;
  let location: string;
  if (source instanceof URL) {
    target = source.href;
    location = shown(source);
  } else if (typeof source === "string" && source.length > 0) {
    target = source;
    location = /^https?:\/\//.test(source) && URL.canParse(source) ? shown(new URL(source)) : source;
  } else {
    throw new TypeError(
      `KvAdapter needs a Deno.Kv, a file path, ":memory:" or a URL, got ${
        source === "" ? "an empty string" : typeof source
      }`,
    );
  }
  const open = (globalThis as { Deno?: { openKv?: (path?: string) => Promise<Deno.Kv> } }).Deno?.openKv;
  if (typeof open !== "function") {
    throw new StoreOpenError(
      location,
      'Deno.openKv is not available: run Deno with --unstable-kv (or add "unstable": ["kv"] to deno.json)',
    );
  }
  const kv = open(target).catch((error: unknown) => {
    throw new StoreOpenError(
      location,
      `Deno.openKv failed: ${error instanceof Error ? error.message : error}`,
      {
        cause: error,
      },
    );
  });
  // A failure surfaces on the first call that needs the database; nobody may be waiting yet.
  kv.catch(() => {});
  return { location, kv, owned: true };
}
