/**
 * What the bad-input cases share: a store that must stay unchanged, a check that an
 * error message names what was wrong, and a small reducer.
 *
 * @module
 */

import assert from "node:assert/strict";
import { makeReducer, type Reducer } from "../../reducers/make_reducer.ts";
import { added, type CaseContext, contents, type Events, type TestStore, tick } from "../_fixture.ts";

/** Runs `check` on a store holding a few events and a relation, then asserts it is unchanged. */
export async function unchanged(ctx: CaseContext, check: (store: TestStore) => Promise<void>): Promise<void> {
  await using store = await ctx.store();
  await store.pushManyEvents([added(store, "s", 1), tick(store, "t")]);
  await store.relations.insert("k", "s");
  const before = await contents(store);
  await check(store);
  assert.deepEqual(await contents(store), before, "the store is unchanged");
  assert.deepEqual(await store.relations.getByKey("k"), ["s"]);
}

/** A check that an error's message mentions each of `words`. */
export function mentions(...words: string[]): (error: Error) => void {
  return (error: Error): void => {
    for (const word of words) {
      assert.ok(error.message.includes(word), `"${error.message}" should mention ${word}`);
    }
  };
}

/** Counts the records it folds. */
export const count: Reducer<Events, number> = makeReducer<Events, number>((n) => n + 1, 0);
