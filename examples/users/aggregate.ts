/**
 * The user as an aggregate: the same fold as the reducer, plus actions that push
 * validated events and helpers that answer questions about the user.
 *
 * @module
 */

import { AggregateRoot, uuidv7 } from "../../mod.ts";
import type { Events, UserRecord } from "./events.ts";
import type { Post } from "./reducer.ts";

/**
 * A user. Load it with `store.aggregate.getByStream(User, id)`, call actions, then
 * `save()`: the save expects the stream to be at the revision it was loaded at.
 */
export class User extends AggregateRoot<Events> {
  /** Names the aggregate (its snapshots are stored under this name). */
  static override readonly name = "user";

  /** Whether the stream holds a `user:created` event. */
  registered = false;
  /** Given and family name. */
  name: { given: string; family: string } = { given: "", family: "" };
  /** Current email address. */
  email = "";
  /** Whether the user may publish. */
  active = false;
  /** Live posts, oldest first. */
  posts: Post[] = [];

  /**
   * Folds one record into the aggregate.
   *
   * @param record a record of this user's stream
   */
  with(record: UserRecord): void {
    switch (record.type) {
      case "user:created":
        this.registered = true;
        this.name = { ...record.data.name };
        this.email = record.data.email;
        break;
      case "user:name:given-set":
        this.name.given = record.data;
        break;
      case "user:name:family-set":
        this.name.family = record.data;
        break;
      case "user:email-set":
        this.email = record.data;
        break;
      case "user:activated":
        this.active = true;
        break;
      case "user:deactivated":
        this.active = false;
        break;
      case "post:created":
        this.posts.push({ id: record.data.id, title: record.data.title });
        break;
      case "post:removed":
        this.posts = this.posts.filter((post) => post.id !== record.data.id);
        break;
    }
  }

  /**
   * @param given the new given name
   * @param auditor who made the change
   * @returns this, for chaining
   */
  setGivenName(given: string, auditor: string): this {
    return this.push({ type: "user:name:given-set", data: given, meta: { auditor } });
  }

  /**
   * @param family the new family name
   * @param auditor who made the change
   * @returns this, for chaining
   */
  setFamilyName(family: string, auditor: string): this {
    return this.push({ type: "user:name:family-set", data: family, meta: { auditor } });
  }

  /**
   * @param email the new address
   * @param auditor who made the change
   * @returns this, for chaining
   */
  setEmail(email: string, auditor: string): this {
    return this.push({ type: "user:email-set", data: email, meta: { auditor } });
  }

  /**
   * @param auditor who activated the user
   * @returns this, for chaining
   */
  activate(auditor: string): this {
    return this.push({ type: "user:activated", meta: { auditor } });
  }

  /**
   * @param auditor who deactivated the user
   * @returns this, for chaining
   */
  deactivate(auditor: string): this {
    return this.push({ type: "user:deactivated", meta: { auditor } });
  }

  /**
   * @param title the post's title
   * @param id the post's id (a new UUIDv7 by default)
   * @returns this, for chaining
   */
  publish(title: string, id: string = uuidv7()): this {
    return this.push({ type: "post:created", data: { id, title } });
  }

  /**
   * @param id the post to remove
   * @returns this, for chaining
   */
  removePost(id: string): this {
    return this.push({ type: "post:removed", data: { id } });
  }

  /** @returns "Given Family" */
  fullName(): string {
    return `${this.name.given} ${this.name.family}`.trim();
  }

  /**
   * @param id a post id
   * @returns the live post with that id, if any
   */
  post(id: string): Post | undefined {
    return this.posts.find((post) => post.id === id);
  }
}
