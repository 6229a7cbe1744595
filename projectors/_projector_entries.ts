/**
 * A projector's registered handlers: which records each kind (`once`, `on`, `all`) runs
 * for, how a `once` handler's callbacks are checked and called, and the argument checks
 * of every registration.
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";
import type { ProjectorHandler } from "./projector_handlers.ts";

/** The kind of a handler. */
export type Mode = "once" | "on" | "all";

/** The checked callbacks of a `once` handler. */
export interface Callbacks {
  readonly positional: boolean;
  readonly onSuccess?: (...args: unknown[]) => unknown;
  readonly onError?: (...args: unknown[]) => unknown;
}

/** One registered handler. */
export interface Entry {
  readonly mode: Mode;
  readonly handler: ProjectorHandler<EventRecord>;
  readonly callbacks?: Callbacks;
}

/** Whether a handler of kind `mode` runs for a record with these flags. */
export function runs(mode: Mode, hydrated: boolean, outdated: boolean): boolean {
  if (mode === "all") return true;
  if (mode === "on") return !outdated;
  return !hydrated && !outdated;
}

/** Runs one handler on `record`, then its `once` callbacks; rejects with an error it does not hand to `onError`. */
export async function deliver(entry: Entry, record: EventRecord): Promise<void> {
  const callbacks = entry.callbacks;
  if (entry.mode !== "once" || callbacks === undefined) {
    await entry.handler(record);
    return;
  }
  const { positional, onSuccess, onError } = callbacks;
  let data: unknown;
  try {
    data = await entry.handler(record);
  } catch (error) {
    if (onError === undefined) throw error;
    await (positional ? onError(error, record) : onError({ error, record }));
    return;
  }
  if (onSuccess !== undefined) await (positional ? onSuccess(record, data) : onSuccess({ data, record }));
}

function refuseTwoArguments(name: string, callback: unknown, shape: string): void {
  if (typeof callback === "function" && callback.length > 1) {
    throw new TypeError(
      `once options: ${name} takes one object (${shape}); for positional arguments pass style: "positional"`,
    );
  }
}

/**
 * Checks the options of a `once` registration.
 *
 * @throws {TypeError} for a bad style or callback
 */
export function onceCallbacks(options: unknown): Callbacks | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`once options must be an object ({ onSuccess?, onError? }), got ${options}`);
  }
  const { style, onSuccess, onError } = options as Record<string, unknown>;
  if (style !== undefined && style !== "effects" && style !== "positional") {
    throw new TypeError(
      `once options: style must be "effects" or "positional", got ${JSON.stringify(style)}`,
    );
  }
  if (onSuccess !== undefined) checkFunction(onSuccess, "onSuccess");
  if (onError !== undefined) checkFunction(onError, "onError");
  if (style !== "positional") {
    // A callback written for the positional form would get one object: refuse it rather
    // than reinterpret its arguments.
    refuseTwoArguments("onSuccess", onSuccess, "{ data, record }");
    refuseTwoArguments("onError", onError, "{ error, record }");
  }
  if (onSuccess === undefined && onError === undefined) return undefined;
  return {
    positional: style === "positional",
    onSuccess: onSuccess as Callbacks["onSuccess"],
    onError: onError as Callbacks["onError"],
  };
}

/** Refuses an empty event type or batch key. */
export function checkType(type: unknown, what: string): asserts type is string {
  if (typeof type !== "string" || type.length === 0) {
    throw new TypeError(`${what} must be a non-empty string, got ${JSON.stringify(type)}`);
  }
}

/** Refuses a handler or callback that is not a function. */
export function checkFunction(value: unknown, what: string): void {
  if (typeof value !== "function") throw new TypeError(`${what} must be a function, got ${typeof value}`);
}
