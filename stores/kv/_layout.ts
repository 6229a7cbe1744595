/**
 * Where everything lives in the KV database, under the adapter's prefix. Positions are
 * numbers in keys (KV orders them numerically); a value bigger than one KV value is
 * split over keys that end in the chunk index.
 *
 * @module
 */

/** What the head key holds: the position counter and the counts. */
export interface Head {
  /** The last position given out (0: none). */
  readonly position: number;
  /** Events stored. */
  readonly events: number;
  /** Streams with at least one stored event. */
  readonly streams: number;
  /** A commit too big for one atomic holds the log while it writes (see `_commit.ts`). */
  readonly claim?: { readonly token: string; readonly until: number };
}

/** What a stream key holds. */
export interface StreamMeta {
  /** The highest revision the stream ever had. */
  readonly revision: number;
  /** Events stored now. */
  readonly stored: number;
  /** The revision it had when last deleted (0: never). */
  readonly deletedAt: number;
  /** Deleted with a tombstone. */
  readonly tombstoned: boolean;
  /** The first revision truncation kept (1: never truncated). */
  readonly truncatedBefore: number;
  /** Retention rules, when set. */
  readonly metadata?: { readonly maxAge?: number; readonly maxCount?: number };
}

/** The empty head. */
export const EMPTY_HEAD: Head = { position: 0, events: 0, streams: 0 };

/** The key builders of one prefix. */
export class Layout {
  readonly #p: readonly Deno.KvKeyPart[];

  /**
   * Creates it.
   *
   * @param prefix the key parts every key starts with
   */
  constructor(prefix: readonly Deno.KvKeyPart[]) {
    this.#p = prefix;
  }

  /** The key parts every key starts with. */
  get prefix(): Deno.KvKey {
    return [...this.#p];
  }
  /** The codec name recorded at creation. */
  codec(): Deno.KvKey {
    return [...this.#p, "codec"];
  }
  /** The head: position counter and counts. Every commit that writes events checks it. */
  head(): Deno.KvKey {
    return [...this.#p, "head"];
  }
  /** The log, by position. */
  log(position?: number, chunk?: number): Deno.KvKey {
    return [
      ...this.#p,
      "log",
      ...(position === undefined ? [] : [position]),
      ...(chunk === undefined ? [] : [chunk]),
    ];
  }
  /** A stream's records, by revision (copies of the log's). */
  revision(stream: string, revision?: number, chunk?: number): Deno.KvKey {
    return [
      ...this.#p,
      "rev",
      stream,
      ...(revision === undefined ? [] : [revision]),
      ...(chunk === undefined ? [] : [chunk]),
    ];
  }
  /** An event id, to its position. */
  id(id: string): Deno.KvKey {
    return [...this.#p, "id", id];
  }
  /** A stream's revision, counts and lifecycle. */
  stream(stream: string): Deno.KvKey {
    return [...this.#p, "stream", stream];
  }
  /** The streams with metadata, by name. */
  withMetadata(stream?: string): Deno.KvKey {
    return [...this.#p, "withmeta", ...(stream === undefined ? [] : [stream])];
  }
  /** A relation pair. */
  relation(key: string, stream?: string): Deno.KvKey {
    return [...this.#p, "rel", key, ...(stream === undefined ? [] : [stream])];
  }
  /** A relation pair, from its stream (to remove a deleted stream's relations). */
  relationOf(stream: string, key?: string): Deno.KvKey {
    return [...this.#p, "relby", stream, ...(key === undefined ? [] : [key])];
  }
  /** A snapshot's chunks. */
  snapshot(name: string, stream: string, chunk?: number): Deno.KvKey {
    return [...this.#p, "snap", name, stream, ...(chunk === undefined ? [] : [chunk])];
  }
  /** A snapshot, from its stream. */
  snapshotOf(stream: string, name?: string): Deno.KvKey {
    return [...this.#p, "snapby", stream, ...(name === undefined ? [] : [name])];
  }
  /** A checkpoint's chunks (all checkpoints without a name). */
  checkpoint(name?: string, chunk?: number): Deno.KvKey {
    return [...this.#p, "cp", ...(name === undefined ? [] : [name]), ...(chunk === undefined ? [] : [chunk])];
  }
  /** A parked event's chunks (all of a subscription, or all, when left out). */
  parked(name?: string, id?: string, chunk?: number): Deno.KvKey {
    return [
      ...this.#p,
      "park",
      ...(name === undefined ? [] : [name]),
      ...(id === undefined ? [] : [id]),
      ...(chunk === undefined ? [] : [chunk]),
    ];
  }
  /** A lease. */
  lease(name: string): Deno.KvKey {
    return [...this.#p, "lease", name];
  }
  /** A subject's data key. */
  dataKey(subject: string): Deno.KvKey {
    return [...this.#p, "key", subject];
  }
}
