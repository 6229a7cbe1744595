/**
 * The `"$subject:forgotten"` record: `store.forget(subject)` appends it after the key is
 * gone, so the log says when a subject was forgotten, projectors can erase what their read
 * models hold of it, and an `import()` of the record (which sync does) forgets the subject
 * at the importing store too.
 *
 * @module
 */

import type { Clock } from "../events/clock.ts";
import { uuidv7 } from "../events/id.ts";
import type { EventRecord, PendingEvent } from "../events/record.ts";
import { SUBJECT_FORGOTTEN, SYSTEM_STREAM } from "../events/system.ts";
import { checkCreated, checkName } from "./_input.ts";

/**
 * The record a forget appends.
 *
 * @param subject the subject forgotten
 * @param destroyed whether a key was destroyed
 * @param created when (the store's clock)
 */
export function forgetRecord(subject: string, destroyed: boolean, created: string): PendingEvent {
  return {
    id: uuidv7(),
    stream: SYSTEM_STREAM,
    type: SUBJECT_FORGOTTEN,
    data: { subject, destroyed },
    meta: null,
    created,
    version: 1,
  };
}

/**
 * Whether `import()` was handed a `"$subject:forgotten"` record.
 *
 * @param value one of the records handed in
 */
export function isForgetRecord(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    (value as { type?: unknown }).type === SUBJECT_FORGOTTEN;
}

/**
 * Checks a `"$subject:forgotten"` record handed to `import()`.
 *
 * @param value the record
 * @param index its place in the call, for messages
 * @param clock the store's clock, whose form `created` must have
 * @returns it as a pending event
 * @throws {TypeError} for a record not in the form `forget` appends
 */
export function checkForgetRecord(value: unknown, index: number, clock: Clock): PendingEvent {
  const e = value as Record<string, unknown>;
  const label = `event #${index} ("${SUBJECT_FORGOTTEN}")`;
  checkName(e.id, `"id" of ${label}`);
  checkCreated(e.created, label, clock);
  if (e.stream !== SYSTEM_STREAM) {
    throw new TypeError(`"stream" of ${label} must be "${SYSTEM_STREAM}", got ${JSON.stringify(e.stream)}`);
  }
  const data = e.data as Record<string, unknown> | null;
  if (
    typeof data !== "object" || data === null || typeof data.destroyed !== "boolean" ||
    Object.keys(data).some((key) => key !== "subject" && key !== "destroyed")
  ) {
    throw new TypeError(`"data" of ${label} must be { subject, destroyed }`);
  }
  const subject = checkName(data.subject, `"data.subject" of ${label}`);
  if ((e.meta ?? null) !== null) throw new TypeError(`"meta" of ${label} must be null`);
  return {
    id: e.id as string,
    stream: SYSTEM_STREAM,
    type: SUBJECT_FORGOTTEN,
    data: { subject, destroyed: data.destroyed },
    meta: null,
    created: e.created as string,
    version: 1,
  };
}

/** What an import holding forget records uses of its store. */
export interface ForgetImport<TRecord extends EventRecord> {
  /** Imports events in one write. */
  write(pending: PendingEvent[]): Promise<{ inserted: TRecord[]; skipped: string[] }>;
  /** Checks events as a write would, writing nothing. */
  check(pending: PendingEvent[]): Promise<void>;
  /** Takes the subject's erasure lock; returns its release. */
  erasing(subject: string): Promise<() => void>;
  /** Which of these ids the store holds. */
  exists(ids: readonly string[]): Promise<Set<string>>;
  /** Destroys a subject's key; `undefined` when the store keeps no keys. */
  forget?: (subject: string) => Promise<unknown>;
}

/**
 * Imports records among which are forget records, in order: the events before each such
 * record are imported first (so a subject's earlier events are forgotten with it), then,
 * when the store does not hold the record yet, the subject's key is destroyed and the
 * record stored. A record held already changes nothing: the subject may have a newer key
 * by now, for events written after the forget. Every event is checked before the first
 * part is written, so input the schemas refuse stores nothing; a part refused only when
 * written (an append to a tombstoned stream) leaves the parts before it.
 *
 * @param pending the checked records
 * @param store the store's writes
 * @returns what was imported and skipped, as one import reports it
 */
export async function importWithForgets<TRecord extends EventRecord>(
  pending: readonly PendingEvent[],
  store: ForgetImport<TRecord>,
): Promise<{ imported: TRecord[]; skipped: string[] }> {
  await store.check(pending.filter((event) => event.type !== SUBJECT_FORGOTTEN));
  const imported: TRecord[] = [];
  const skipped: string[] = [];
  const flush = async (part: PendingEvent[]) => {
    if (part.length === 0) return;
    const result = await store.write(part);
    imported.push(...result.inserted);
    skipped.push(...result.skipped);
  };
  let part: PendingEvent[] = [];
  for (const event of pending) {
    if (event.type !== SUBJECT_FORGOTTEN) {
      part.push(event);
      continue;
    }
    await flush(part);
    part = [];
    const subject = (event.data as { subject: string }).subject;
    const release = await store.erasing(subject);
    try {
      if ((await store.exists([event.id])).has(event.id)) {
        skipped.push(event.id);
        continue;
      }
      await store.forget?.(subject);
      await flush([event]);
    } finally {
      release();
    }
  }
  await flush(part);
  return { imported, skipped };
}
