/**
 * The types of store hooks: after-commit listeners (`onEventsInserted`), error listeners
 * (`onError`) and the registrations that undo them.
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";

/** What a hook learns about a committed batch. */
export interface InsertedContext {
  /** The batch key given to `pushManyEvents`, if any. */
  readonly batch?: string;
  /** True when the records were imported from elsewhere (replays skip `once` handlers). */
  readonly hydrated: boolean;
}

/** A listener called after events were committed. */
export type InsertedListener<TRecord> = (
  records: TRecord[],
  context: InsertedContext,
) => void | Promise<void>;

/** A listener told about failures of after-commit hooks. */
export type ErrorListener = (error: unknown, context: { records: EventRecord[] }) => void | Promise<void>;

/** A listener registration that can be undone. */
export interface ListenerRegistration {
  /** Removes the registration. */
  unsubscribe(): void;
}
