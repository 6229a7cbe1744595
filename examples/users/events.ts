/**
 * The events of the users example: what can happen to a user and their posts. Each
 * definition is the single source of truth for its payload types and validation.
 *
 * @module
 */

import { z } from "zod";
import { event, EventFactory } from "../../mod.ts";

/** Who made a change, kept beside the payload so audits never need the payload's shape. */
const audit = z.object({ auditor: z.string().min(1) });

const name = z.object({ given: z.string().min(1), family: z.string() });

/** Every event a user stream can hold. */
export const events = new EventFactory([
  event.type("user:created").data(z.object({ name, email: z.email() })).meta(audit),
  event.type("user:name:given-set").data(z.string().min(1)).meta(audit),
  event.type("user:name:family-set").data(z.string()).meta(audit),
  event.type("user:email-set").data(z.email()).meta(audit),
  event.type("user:activated").meta(audit),
  event.type("user:deactivated").meta(audit),
  event.type("post:created").data(z.object({ id: z.string(), title: z.string().min(1).max(120) })),
  event.type("post:removed").data(z.object({ id: z.string() })),
]);

/** The event set's type: `EventStore`, `Projector`, reducers and aggregates are typed with it. */
export type Events = typeof events;

/** Any record of this example, e.g. what a reducer or `with()` receives. */
export type UserRecord = Events["$record"];
