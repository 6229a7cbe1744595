/**
 * The events as version-1 code defined them: a user registered with one `name` field.
 *
 * @module
 */

import { z } from "zod";
import { event, EventFactory } from "../../mod.ts";

/** Version 1 of the user events. */
export const eventsV1 = new EventFactory([
  event.type("user:registered").data(z.object({ name: z.string() })),
  event.type("user:deactivated"),
]);
