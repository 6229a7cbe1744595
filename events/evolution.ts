/**
 * How a definition reaches its older shapes: its current version, the upcasters from each
 * older version to the next, and the names it was stored under before a rename.
 *
 * @module
 */

/** A stored payload at some version, as an upcaster receives it and returns the next one. */
export interface VersionedPayload<TData = unknown, TMeta = unknown> {
  /** The payload. */
  readonly data: TData;
  /** The metadata. */
  readonly meta: TMeta;
}

/**
 * Maps a payload of version `n` to version `n + 1`. Returning no `meta` keeps the old one.
 *
 * @typeParam TData the payload at version `n`
 * @typeParam TMeta the metadata at version `n`
 */
export type Upcaster<TData = unknown, TMeta = unknown> = (
  stored: VersionedPayload<TData, TMeta>,
) => { readonly data: unknown; readonly meta?: unknown };

/** The evolution part of a definition. */
export interface Evolution {
  /** The version new events are written at (from 1). */
  readonly currentVersion: number;
  /** Upcaster from each older version to the next, by the version it starts from. */
  readonly upcasters: ReadonlyMap<number, Upcaster>;
  /** Names records of this type were stored under before a rename. */
  readonly aliases: readonly string[];
}

/** A definition with no history: version 1, no upcasters, no old names. */
export const FIRST_VERSION: Evolution = { currentVersion: 1, upcasters: new Map(), aliases: [] };

/**
 * Checks a version number given to `version()` or `upcast()`.
 *
 * @param n the number
 * @param what how to name it in the error
 * @throws {TypeError} unless it is a whole number from 1
 */
export function checkVersion(n: unknown, what: string): number {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
    throw new TypeError(`${what} must be a whole number from 1, got ${JSON.stringify(n)}`);
  }
  return n;
}

/**
 * Checks that a definition's upcasters lead from version 1 to its current version.
 *
 * @param type the event type, for the error
 * @param evolution its evolution
 * @throws {TypeError} naming a missing step or a step past the current version
 */
export function checkSteps(type: string, evolution: Evolution): void {
  for (const from of evolution.upcasters.keys()) {
    if (from >= evolution.currentVersion) {
      throw new TypeError(
        `Event "${type}" has an upcaster from version ${from}, but its current version is ${evolution.currentVersion}`,
      );
    }
  }
  for (let from = 1; from < evolution.currentVersion; from++) {
    if (!evolution.upcasters.has(from)) {
      throw new TypeError(
        `Event "${type}" is at version ${evolution.currentVersion} but has no upcaster from version ${from} ` +
          `(add .upcast(${from}, ({ data, meta }) => ({ data, meta })))`,
      );
    }
  }
}
