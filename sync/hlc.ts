/**
 * A hybrid logical clock for `created`, so events made on several nodes order sensibly and
 * an import decides `outdated` right across nodes.
 *
 * @module
 */

import { type Clock, isIsoTime } from "../events/clock.ts";

/** A {@linkcode Clock} that also learns from the times it sees. */
export interface HybridLogicalClock extends Clock {
  /** The node this clock stamps, the last part of each time it makes. */
  readonly node: string;
  /**
   * Moves the clock past a time made elsewhere (an HLC time or an ISO-8601 one), so the
   * next local time sorts after it. The store calls it through `accepts` for every
   * `created` it is handed, imports included; a time more than `maxDrift` ahead of the
   * wall clock is accepted without moving the clock that far.
   *
   * @param created a time
   */
  receive(created: string): void;
}

/** Options of {@linkcode hlc}. */
export interface HlcOptions {
  /** The node name (letters, digits, `_`, `.`, `:`, `-`); a random one when left out. */
  readonly node?: string;
  /** The wall clock in ms since the epoch (`Date.now` by default): a fake one in tests. */
  readonly now?: () => number;
  /** How far (ms) a received time may pull the clock ahead of the wall clock; 60,000 by default. */
  readonly maxDrift?: number;
}

const COUNTER_DIGITS = 4;
const MAX_COUNTER = 16 ** COUNTER_DIGITS - 1;
const NODE = /^[A-Za-z0-9_.:-]{1,64}$/;
const HLC = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)-([0-9a-f]{4})-([A-Za-z0-9_.:-]{1,64})$/;

/**
 * Parses an HLC time into its wall time (ms), counter and node; `undefined` for another form.
 *
 * @param created a `created` string
 * @returns its parts, or `undefined`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHlc } from "@eventfold/eventfold/sync";
 * assert.deepEqual(parseHlc("2026-01-01T00:00:00.000Z-000a-n1"), { ms: Date.UTC(2026, 0, 1), counter: 10, node: "n1" });
 * ```
 */
export function parseHlc(created: string): { ms: number; counter: number; node: string } | undefined {
  const match = HLC.exec(created);
  if (match === null || !isIsoTime(match[1])) return undefined;
  return { ms: Date.parse(match[1]), counter: parseInt(match[2], 16), node: match[3] };
}

/**
 * A hybrid logical clock, for the store's `clock` option: it stamps
 * `2026-01-01T00:00:00.000Z-0000-node` (the wall time in ms, a counter for events in the
 * same ms or behind a time seen from another node, and the node), strings that sort in
 * causal order across nodes: an event made after seeing another sorts after it, whatever
 * the two wall clocks say. It accepts its own form and plain ISO-8601 times (events of
 * stores on the system clock) and moves past every time it accepts, so importing events
 * (a sync) is what teaches it the other nodes' times. Retention by `maxAge` does not
 * apply to HLC times (they are not ISO-8601).
 *
 * @param options `node`, a wall clock `now` and `maxDrift`
 * @returns the clock
 * @throws {TypeError} for a node name outside `[A-Za-z0-9_.:-]{1,64}`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event, EventFactory, EventStore } from "@eventfold/eventfold";
 * import { MemoryAdapter } from "@eventfold/eventfold/memory";
 * import { hlc } from "@eventfold/eventfold/sync";
 * const clock = hlc({ node: "a", now: () => Date.UTC(2026, 0, 1) });
 * await using store = new EventStore({ adapter: new MemoryAdapter(), events: new EventFactory([event.type("tick")]), clock });
 * const first = await store.pushEvent(store.event({ type: "tick", stream: "s" }));
 * clock.receive("2026-01-01T00:00:05.000Z-0003-b"); // seen from node b, 5 s ahead
 * const second = await store.pushEvent(store.event({ type: "tick", stream: "s" }));
 * assert.equal(first.created, "2026-01-01T00:00:00.000Z-0000-a");
 * assert.equal(second.created, "2026-01-01T00:00:05.000Z-0004-a");
 * ```
 */
export function hlc(options: HlcOptions = {}): HybridLogicalClock {
  const node = options.node ?? crypto.randomUUID().slice(0, 8);
  if (typeof node !== "string" || !NODE.test(node)) {
    throw new TypeError(`hlc node must match [A-Za-z0-9_.:-]{1,64}, got ${JSON.stringify(node)}`);
  }
  const wall = options.now ?? Date.now;
  const maxDrift = options.maxDrift ?? 60_000;
  if (!(maxDrift >= 0)) throw new RangeError(`maxDrift must be a number of ms >= 0, got ${maxDrift}`);
  let ms = 0;
  let counter = 0;
  const advance = (otherMs: number, otherCounter: number): void => {
    if (otherMs > ms || (otherMs === ms && otherCounter > counter)) {
      ms = otherMs;
      counter = otherCounter;
    }
  };
  const receive = (created: string): void => {
    const parsed = parseHlc(created);
    const otherMs = parsed?.ms ?? (isIsoTime(created) ? Date.parse(created) : NaN);
    if (Number.isNaN(otherMs) || otherMs > wall() + maxDrift) return;
    advance(otherMs, parsed?.counter ?? 0);
  };
  return {
    node,
    receive,
    now(): string {
      const physical = wall();
      if (physical > ms) {
        ms = physical;
        counter = 0;
      } else if (counter < MAX_COUNTER) {
        counter++;
      } else {
        ms++;
        counter = 0;
      }
      return `${new Date(ms).toISOString()}-${counter.toString(16).padStart(COUNTER_DIGITS, "0")}-${node}`;
    },
    accepts(created: string): boolean {
      const ok = parseHlc(created) !== undefined || isIsoTime(created);
      if (ok) receive(created);
      return ok;
    },
  };
}
