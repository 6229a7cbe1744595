/**
 * The order `listParked` answers in: by subscription name, then position.
 *
 * @module
 */

import type { ParkedEvent } from "./subscription_storage.ts";

/** Compares two parked events by subscription name, then position (for `Array.prototype.sort`). */
export function parkedOrder(a: ParkedEvent, b: ParkedEvent): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.position < b.position ? -1 : a.position > b.position ? 1 : 0;
}
