/**
 * The users of the evolution example, folded from version-3 records.
 *
 * @module
 */

import type { EventRecordOf } from "../../mod.ts";
import type { eventsV3 } from "./events_v3.ts";

/** One user as read today. */
export interface User {
  /** The stream. */
  readonly id: string;
  /** The given name. */
  readonly given: string;
  /** The family name. */
  readonly family: string;
  /** The email address, `null` when none was recorded. */
  readonly email: string | null;
  /** `false` once deactivated. */
  readonly active: boolean;
  /** The version its `user:created` record was read at. */
  readonly version?: number;
  /** The version that record was stored at. */
  readonly storedVersion?: number;
}

/**
 * Folds records into users, in the order they were created.
 *
 * @param records version-3 records, oldest first
 * @returns the users
 */
export function usersOf(records: readonly EventRecordOf<typeof eventsV3>[]): User[] {
  const users = new Map<string, User>();
  for (const record of records) {
    if (record.type === "user:created") {
      const { version, storedVersion } = record;
      users.set(record.stream, { id: record.stream, ...record.data, active: true, version, storedVersion });
    } else {
      const user = users.get(record.stream);
      if (user !== undefined) users.set(record.stream, { ...user, active: false });
    }
  }
  return [...users.values()];
}
