/**
 * The user state as a plain object, folded from a user's stream by a functional reducer.
 *
 * @module
 */

import { makeReducer, type Reducer } from "../../mod.ts";
import type { Events } from "./events.ts";

/** A post as the user state keeps it. */
export interface Post {
  /** The post id (unique within the user's stream). */
  readonly id: string;
  /** Its title. */
  readonly title: string;
}

/** What the reducer folds a user stream into. */
export interface UserState {
  /** Given and family name. */
  name: { given: string; family: string };
  /** Current email address. */
  email: string;
  /** Whether the user may publish. New users start inactive. */
  active: boolean;
  /** Live posts, oldest first. */
  posts: Post[];
}

/**
 * Folds a user stream. Snapshots are saved whenever a fold covered 3 or more new events,
 * so a later fold only reads what came after the snapshot; bump `version` when the shape
 * of `UserState` changes, and old snapshots are ignored.
 */
export const userReducer: Reducer<Events, UserState> = makeReducer<Events, UserState>(
  (state, record) => {
    switch (record.type) {
      case "user:created":
        state.name = { ...record.data.name };
        state.email = record.data.email;
        break;
      case "user:name:given-set":
        state.name.given = record.data;
        break;
      case "user:name:family-set":
        state.name.family = record.data;
        break;
      case "user:email-set":
        state.email = record.data;
        break;
      case "user:activated":
        state.active = true;
        break;
      case "user:deactivated":
        state.active = false;
        break;
      case "post:created":
        state.posts.push({ id: record.data.id, title: record.data.title });
        break;
      case "post:removed":
        state.posts = state.posts.filter((post) => post.id !== record.data.id);
        break;
    }
    return state;
  },
  () => ({ name: { given: "", family: "" }, email: "", active: false, posts: [] }),
  { version: 1, snapshot: { every: 3 } },
);
