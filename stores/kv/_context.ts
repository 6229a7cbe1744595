/**
 * What every part of the adapter works with: the open database, the key layout and the
 * payload codec.
 *
 * @module
 */

import type { Codec } from "../codec.ts";
import type { Layout } from "./_layout.ts";

/** The open database, its layout and codec. */
export interface KvContext {
  /** The database. */
  readonly kv: Deno.Kv;
  /** Where things live. */
  readonly layout: Layout;
  /** The payload codec. */
  readonly codec: Codec;
  /**
   * Commits that lost a stream to another writer in a row: each loser waits a little
   * longer (at random) before the store tries again, so two processes appending to one
   * stream take turns instead of colliding every time.
   */
  readonly contention: { streak: number };
}
