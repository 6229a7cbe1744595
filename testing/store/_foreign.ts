/**
 * Events the hook, import and projector cases share: renames at a chosen time, and
 * records as another store would hand them over.
 *
 * @module
 */

import { uuidv7 } from "../../events/id.ts";
import type { EventRecord, PendingEvent } from "../../events/record.ts";
import { at, type TestStore } from "../_fixture.ts";

/** The ids of `records`, in order. */
export const idsOf = (records: readonly { id: string }[]): string[] => records.map((record) => record.id);

/** A `user:renamed` event made `seconds` after 2024-01-01. */
export function renamed(
  store: TestStore,
  stream: string,
  name: string,
  seconds: number,
): PendingEvent<"user:renamed"> {
  return store.event({ type: "user:renamed", stream, data: { name }, created: at(seconds) });
}

/** A record as another store would hand it over: with that store's revision and position. */
export function foreign(stream: string, n: number, seconds: number): EventRecord {
  return {
    id: uuidv7(),
    stream,
    type: "item:added",
    data: { n },
    meta: null,
    revision: 42,
    position: "elsewhere-0042",
    created: at(seconds),
    recorded: at(seconds + 1),
    outdated: false,
  };
}
