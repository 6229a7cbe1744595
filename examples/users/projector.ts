/**
 * The projector: `on` handlers keep the read model in step with every event, fresh or
 * replayed; a `once` handler sends the welcome mail, only for fresh events, so replaying
 * history never mails anyone twice.
 *
 * @module
 */

import { Projector } from "../../mod.ts";
import type { Events } from "./events.ts";
import type { UserDirectory } from "./read_model.ts";

/** An outgoing email. */
export interface Mail {
  /** The address. */
  readonly to: string;
  /** The subject line. */
  readonly subject: string;
}

/** Sends a mail (the demo prints it, the tests collect it). */
export type SendMail = (mail: Mail) => void | Promise<void>;

/**
 * Makes the projector of the users example.
 *
 * @param directory the read model to maintain
 * @param send where welcome mails go
 * @returns the projector; push stored records into it
 */
export function userProjector(directory: UserDirectory, send: SendMail): Projector<Events> {
  const projector = new Projector<Events>();

  projector.on("user:created", ({ stream, revision, data }) => {
    const name = { ...data.name };
    directory.add({ id: stream, name, email: data.email, active: false, posts: 0, published: 0, revision });
  });
  projector.on("user:name:given-set", ({ stream, revision, data }) => {
    directory.update(stream, revision, (user) => user.name.given = data);
  });
  projector.on("user:name:family-set", ({ stream, revision, data }) => {
    directory.update(stream, revision, (user) => user.name.family = data);
  });
  projector.on("user:email-set", ({ stream, revision, data }) => {
    directory.update(stream, revision, (user) => user.email = data);
  });
  projector.on("user:activated", ({ stream, revision }) => {
    directory.update(stream, revision, (user) => user.active = true);
  });
  projector.on("user:deactivated", ({ stream, revision }) => {
    directory.update(stream, revision, (user) => user.active = false);
  });
  projector.on("post:created", ({ stream, revision }) => {
    directory.update(stream, revision, (user) => {
      user.posts++;
      user.published++;
    });
  });
  projector.on("post:removed", ({ stream, revision }) => {
    directory.update(stream, revision, (user) => user.posts--);
  });

  // A side effect: `once` never runs for hydrated (replayed, imported) events.
  projector.once(
    "user:created",
    ({ data }) => send({ to: data.email, subject: `Welcome, ${data.name.given}!` }),
    { onError: ({ error, record }) => console.error(`welcome mail to ${record.data.email} failed:`, error) },
  );

  return projector;
}
