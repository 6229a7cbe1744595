/**
 * Folding a stream or a relation into state, starting from the latest usable snapshot
 * and saving a new one when the policy says so.
 *
 * @module
 */

import type { EventRecord } from "../events/record.ts";
import type { RelationStorage } from "../contract/relation_storage.ts";
import type { SnapshotStorage } from "../contract/snapshot_storage.ts";
import type { StreamLifecycle } from "../contract/stream_lifecycle.ts";
import { TruncatedStreamError } from "../errors.ts";
import { PERSONAL_RECORDS } from "../events/personal.ts";
import type { SnapshotPolicy } from "./make_reducer.ts";
import { SPAN_NAMES, type Telemetry } from "../contract/telemetry.ts";

/** What a fold spans: one stream, or the streams linked to a relation key. */
export type FoldScope =
  | { readonly stream: string; readonly relation?: undefined }
  | { readonly relation: string; readonly stream?: undefined };

/**
 * The same as {@linkcode FoldScope}.
 *
 * @deprecated use `FoldScope` ("source" is the word for nothing now).
 */
export type FoldSource = FoldScope;

/** The generic parts of a fold: a state maker, a fold step and a snapshot policy. */
export interface FoldSpec<TState> {
  /** Snapshot name (the reducer or aggregate name). */
  readonly name: string;
  /** A fresh initial state. */
  readonly initial: () => TState;
  /** Folds one record. */
  readonly step: (state: TState, record: EventRecord) => TState;
  /** Snapshot version. */
  readonly version: number;
  /** Snapshot policy; `"never"` neither reads snapshots nor writes them unless the fold is forced (`putSnapshot`). */
  readonly snapshot: SnapshotPolicy | "never";
  /** Turns a state into what a snapshot keeps (default: the state itself). */
  readonly save?: (state: TState) => unknown;
  /** Rebuilds a state from a snapshot (default: the saved value itself). */
  readonly restore?: (saved: unknown) => TState;
  /** Only these event types. */
  readonly types?: readonly string[];
}

/** How the store reads for a fold. */
export interface FoldReader {
  /** Pages of a stream from a revision on, in revision order. */
  stream(stream: string, fromRevision: number, types?: readonly string[]): AsyncIterable<EventRecord[]>;
  /** Pages of these streams after a position, in position order. */
  log(
    streams: readonly string[],
    after: string | undefined,
    types?: readonly string[],
  ): AsyncIterable<EventRecord[]>;
  /**
   * Throws (`TruncatedStreamError`) when a stream fold that covered revisions up to `from`
   * would miss later events the stream no longer shows (truncated, or hidden by its
   * retention rules). Asked only when the first event read (`first`) is not the next
   * revision, or none was read: folds of whole streams pay nothing. Without it, a gap in
   * what a whole-stream fold reads is refused as such.
   */
  checkFold?(stream: string, snapshot: string, from: number, first: number | undefined): Promise<void>;
  /** Where folds are reported (an `eventfold.fold` span each); `undefined`: nowhere. */
  readonly telemetry?: Telemetry;
}

/** The outcome of a fold. */
export interface FoldResult<TState> {
  /** The state, `undefined` when there was neither snapshot nor event. */
  readonly state: TState | undefined;
  /** Last revision covered (stream folds), 0 when none. */
  readonly revision: number;
  /** Last position covered, `null` when none is known. */
  readonly position: string | null;
  /** Events folded in this call (after the snapshot). */
  readonly folded: number;
}

interface RelationSnapshotState {
  readonly streams: readonly string[];
  readonly state: unknown;
}

/**
 * The check of a reader that has none of its own (`FoldReader.checkFold`): the events a
 * whole-stream fold reads follow the revision it covered (or the stream's delete); a gap
 * means they were removed or hidden. A filtered fold has gaps of its own, so only a
 * truncation past what it covered counts.
 */
async function refuseGap(
  adapter: Partial<StreamLifecycle>,
  stream: string,
  spec: Pick<FoldSpec<unknown>, "name" | "types">,
  from: number,
  first: number | undefined,
): Promise<void> {
  const status = (await adapter.streamStatus?.([stream]))?.get(stream);
  if (status === undefined) return;
  const covered = Math.max(from, status.deletedAt);
  let shownFrom = status.truncatedBefore;
  if (spec.types === undefined) shownFrom = Math.max(shownFrom, first ?? status.revision + 1);
  if (shownFrom - 1 > covered) {
    throw new TruncatedStreamError(stream, spec.name, shownFrom, shownFrom > status.truncatedBefore);
  }
}

/**
 * Folds a stream or relation, using and refreshing snapshots by the spec's policy.
 *
 * @param adapter where snapshots live
 * @param reader how events are read
 * @param scope the stream or relation key
 * @param spec the fold
 * @param force save a snapshot whatever the policy (manual snapshots)
 * @returns the state and what it covers
 */
export function fold<TState>(
  adapter: SnapshotStorage & Pick<RelationStorage, "getStreamsByKeys"> & Partial<StreamLifecycle>,
  reader: FoldReader,
  scope: FoldScope,
  spec: FoldSpec<TState>,
  force = false,
): Promise<FoldResult<TState>> {
  const telemetry = reader.telemetry;
  if (telemetry === undefined) return foldOnce(adapter, reader, scope, spec, force);
  return telemetry.span(SPAN_NAMES.fold, {
    "eventfold.fold.name": spec.name,
    "eventfold.stream": scope.stream,
    "eventfold.relation": scope.relation,
  }, async (span) => {
    const result = await foldOnce(adapter, reader, scope, spec, force);
    span.set({ "eventfold.event.count": result.folded, "eventfold.revision": result.revision });
    return result;
  });
}

async function foldOnce<TState>(
  adapter: SnapshotStorage & Pick<RelationStorage, "getStreamsByKeys"> & Partial<StreamLifecycle>,
  reader: FoldReader,
  scope: FoldScope,
  spec: FoldSpec<TState>,
  force: boolean,
): Promise<FoldResult<TState>> {
  const key = scope.stream ?? scope.relation;
  const restore = spec.restore ?? ((saved: unknown) => saved as TState);
  const useSnapshots = spec.snapshot !== "never";
  const snapshot = useSnapshots ? await adapter.getSnapshot(spec.name, key) : undefined;
  const usable = snapshot !== undefined && snapshot.version === spec.version ? snapshot : undefined;

  let state: TState | undefined;
  let revision = 0;
  let position: string | null = null;
  let pages: AsyncIterable<EventRecord[]>;
  let streams: readonly string[] = [];
  if (scope.stream !== undefined) {
    if (usable) {
      state = restore(usable.state);
      revision = usable.revision ?? 0;
      position = usable.position;
    }
    pages = reader.stream(scope.stream, revision + 1, spec.types);
  } else {
    streams = (await adapter.getStreamsByKeys([scope.relation])).sort();
    const saved = usable?.state as RelationSnapshotState | undefined;
    // A relation snapshot only holds while the relation links the same streams.
    if (usable && saved && saved.streams.join("\u0000") === streams.join("\u0000")) {
      state = restore(saved.state);
      position = usable.position;
    }
    pages = streams.length > 0
      ? reader.log(streams, position ?? undefined, spec.types)
      : (async function* () {})();
  }

  const checkFold = reader.checkFold?.bind(reader) ??
    ((stream: string, _name: string, from: number, first: number | undefined) =>
      refuseGap(adapter, stream, spec, from, first));
  let folded = 0;
  // One await per page, not per record: folding is the hot path of loading state.
  let checked = scope.stream === undefined;
  let personal = false;
  for await (const page of pages) {
    if (!checked) {
      checked = true;
      if (page[0].revision > revision + 1) {
        await checkFold(scope.stream!, spec.name, revision, page[0].revision);
      }
    }
    if (state === undefined) state = spec.initial();
    for (const record of page) {
      state = spec.step(state, record);
      personal ||= PERSONAL_RECORDS.has(record);
    }
    const last = page[page.length - 1];
    if (scope.stream !== undefined) revision = last.revision;
    position = last.position;
    folded += page.length;
  }
  if (!checked) await checkFold(scope.stream!, spec.name, revision, undefined);
  if (state === undefined) return { state, revision, position, folded };

  const policy = spec.snapshot;
  const due = policy !== "never" && policy !== "manual" && folded >= policy.every;
  if (personal && force) {
    throw new TypeError(
      `Snapshot "${spec.name}" of ${key} is not saved: the fold read personal fields, and a snapshot would keep ` +
        "them beyond the reach of forget",
    );
  }
  if ((force || due) && !personal) {
    const kept = spec.save ? spec.save(state) : state;
    await adapter.putSnapshot({
      name: spec.name,
      stream: key,
      state: scope.stream !== undefined ? kept : { streams, state: kept } satisfies RelationSnapshotState,
      revision: scope.stream !== undefined ? revision : null,
      position,
      version: spec.version,
    });
  }
  return { state, revision, position, folded };
}
