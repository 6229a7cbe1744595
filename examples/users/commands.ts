/**
 * Commands: each loads a user's current state with `store.handle`, decides, and either
 * returns events (appended with the loaded revision as the expected revision, retried on
 * a lost race) or a typed rejection, a value the caller switches on.
 *
 * @module
 */

import { type EventStore, type HandleResult, reject, uuidv7 } from "../../mod.ts";
import { User } from "./aggregate.ts";
import type { Events } from "./events.ts";
import { userReducer } from "./reducer.ts";

/** Why a command was refused. */
export type UserRejection =
  | { readonly code: "already-registered"; readonly user: string }
  | { readonly code: "email-taken"; readonly email: string; readonly owner: string }
  | { readonly code: "unknown-user"; readonly user: string }
  | { readonly code: "already-active"; readonly user: string }
  | { readonly code: "inactive"; readonly user: string }
  | { readonly code: "unknown-post"; readonly user: string; readonly post: string };

/** The rejections with the given codes. */
export type Refusal<TCode extends UserRejection["code"]> = Extract<UserRejection, { code: TCode }>;

/**
 * Who holds an email address. The read model answers it, so it only knows commits that
 * came before: two registrations racing each other (or another process) can both pass.
 * Where that matters, also claim the address atomically, e.g. as a stream
 * `email:<address>` written with `expectedRevision: 0`.
 */
export interface EmailIndex {
  /** @returns the id of the user holding `email`, if any */
  ownerOf(email: string): string | undefined;
}

/** A store holding this example's events, whatever its adapter. */
export type UserStore = EventStore<Events>;

const normalize = (email: string): string => email.trim().toLowerCase();

/**
 * Registers a user, refusing an address someone else holds. Folds with the reducer: a
 * stream with no events folds to `undefined`.
 *
 * @param store the store
 * @param emails who holds which address
 * @param input the name, email, auditor and optionally the user id (a new UUIDv7)
 * @returns the stored `user:created` record, or why not
 */
export function registerUser(
  store: UserStore,
  emails: EmailIndex,
  input: { id?: string; given: string; family: string; email: string; auditor: string },
): Promise<HandleResult<Events, Refusal<"already-registered" | "email-taken">>> {
  const id = input.id ?? uuidv7();
  const email = normalize(input.email);
  return store.handle(id, userReducer, (state) => {
    if (state !== undefined) return reject({ code: "already-registered", user: id });
    const owner = emails.ownerOf(email);
    if (owner !== undefined) return reject({ code: "email-taken", email, owner });
    return {
      type: "user:created",
      data: { name: { given: input.given, family: input.family }, email },
      meta: { auditor: input.auditor },
    };
  });
}

/**
 * Changes a user's email address, refusing one held by someone else. Changing to the
 * current address appends nothing.
 *
 * @param store the store
 * @param emails who holds which address
 * @param id the user
 * @param newEmail the address
 * @param auditor who asks
 * @returns the stored `user:email-set` record (none for a no-op), or why not
 */
export function changeEmail(
  store: UserStore,
  emails: EmailIndex,
  id: string,
  newEmail: string,
  auditor: string,
): Promise<HandleResult<Events, Refusal<"unknown-user" | "email-taken">>> {
  const email = normalize(newEmail);
  return store.handle(id, User, (user) => {
    if (!user.registered) return reject({ code: "unknown-user", user: id });
    if (user.email === email) return;
    const owner = emails.ownerOf(email);
    if (owner !== undefined && owner !== id) return reject({ code: "email-taken", email, owner });
    // Actions stage events on the aggregate; returning nothing appends what was staged.
    user.setEmail(email, auditor);
  });
}

/**
 * Activates a user; activating an active user is refused rather than silently ignored.
 *
 * @param store the store
 * @param id the user
 * @param auditor who asks
 * @returns the stored `user:activated` record, or why not
 */
export function activateUser(
  store: UserStore,
  id: string,
  auditor: string,
): Promise<HandleResult<Events, Refusal<"unknown-user" | "already-active">>> {
  return store.handle(id, User, (user) => {
    if (!user.registered) return reject({ code: "unknown-user", user: id });
    if (user.active) return reject({ code: "already-active", user: id });
    user.activate(auditor);
  });
}

/**
 * Publishes a post on behalf of an active user.
 *
 * @param store the store
 * @param id the author
 * @param title the post's title
 * @returns the stored `post:created` record (its `data.id` is the post id), or why not
 */
export function publishPost(
  store: UserStore,
  id: string,
  title: string,
): Promise<HandleResult<Events, Refusal<"unknown-user" | "inactive">>> {
  return store.handle(id, User, (user) => {
    if (!user.registered) return reject({ code: "unknown-user", user: id });
    if (!user.active) return reject({ code: "inactive", user: id });
    user.publish(title);
  });
}

/**
 * Removes one of a user's live posts.
 *
 * @param store the store
 * @param id the author
 * @param post the post id
 * @returns the stored `post:removed` record, or why not
 */
export function removePost(
  store: UserStore,
  id: string,
  post: string,
): Promise<HandleResult<Events, Refusal<"unknown-user" | "unknown-post">>> {
  return store.handle(id, User, (user) => {
    if (!user.registered) return reject({ code: "unknown-user", user: id });
    if (user.post(post) === undefined) return reject({ code: "unknown-post", user: id, post });
    user.removePost(post);
  });
}

/**
 * @param rejection a refusal
 * @param nameOf how to name a user (default: by id)
 * @returns a one-line explanation for people
 */
export function explain(
  rejection: UserRejection,
  nameOf: (id: string) => string = (id) => `user ${id}`,
): string {
  switch (rejection.code) {
    case "already-registered":
      return `${nameOf(rejection.user)} is registered already`;
    case "email-taken":
      return `${rejection.email} belongs to ${nameOf(rejection.owner)}`;
    case "unknown-user":
      return `there is no user ${rejection.user}`;
    case "already-active":
      return `${nameOf(rejection.user)} is active already`;
    case "inactive":
      return `${nameOf(rejection.user)} is not active`;
    case "unknown-post":
      return `${nameOf(rejection.user)} has no post ${rejection.post}`;
  }
}
