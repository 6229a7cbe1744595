/**
 * The read side: users by id, an email index and post counts, kept in memory and fed by
 * the projector. Queries never touch the event store.
 *
 * @module
 */

/** One user as the read side shows it. */
export interface UserView {
  /** The user's stream id. */
  readonly id: string;
  /** Given and family name. */
  name: { given: string; family: string };
  /** Current email address. */
  email: string;
  /** Whether the user may publish. */
  active: boolean;
  /** Live posts. */
  posts: number;
  /** Posts ever published (removed ones included). */
  published: number;
  /** Revision of the last event applied, for "how fresh is this row". */
  revision: number;
}

/** The in-memory read model the projector maintains. */
export class UserDirectory {
  readonly #users = new Map<string, UserView>();
  readonly #byEmail = new Map<string, string>();

  /** Number of users. */
  get size(): number {
    return this.#users.size;
  }

  /**
   * @param id a user id
   * @returns that user, if known
   */
  get(id: string): UserView | undefined {
    return this.#users.get(id);
  }

  /** @returns every user, in registration order */
  list(): UserView[] {
    return [...this.#users.values()];
  }

  /**
   * @param email an address
   * @returns the id of the user holding it, if any
   */
  ownerOf(email: string): string | undefined {
    return this.#byEmail.get(email.toLowerCase());
  }

  /** @returns live and ever-published post counts over all users */
  totals(): { posts: number; published: number } {
    let posts = 0;
    let published = 0;
    for (const user of this.#users.values()) {
      posts += user.posts;
      published += user.published;
    }
    return { posts, published };
  }

  /**
   * Adds a user (the projector calls this for `user:created`).
   *
   * @param user the new row
   */
  add(user: UserView): void {
    this.#users.set(user.id, user);
    this.#byEmail.set(user.email.toLowerCase(), user.id);
  }

  /**
   * Changes a user, keeping the email index in step.
   *
   * @param id the user
   * @param revision the revision of the event being applied
   * @param change mutates the row
   */
  update(id: string, revision: number, change: (user: UserView) => void): void {
    const user = this.#users.get(id);
    if (user === undefined) return;
    const before = user.email.toLowerCase();
    change(user);
    user.revision = revision;
    const after = user.email.toLowerCase();
    if (after !== before) {
      this.#byEmail.delete(before);
      this.#byEmail.set(after, id);
    }
  }
}
