/**
 * The events as today's code defines them. `user:registered` was renamed `user:created`,
 * and its payload changed twice: version 2 split `name` into `given` and `family`,
 * version 3 added `email` (`null` for users stored before it existed).
 *
 * @module
 */

import { z } from "zod";
import { event, EventFactory } from "../../mod.ts";

/** The payload of version 1. */
export const nameV1 = z.object({ name: z.string() });
/** The payload of version 2. */
export const nameV2 = z.object({ given: z.string(), family: z.string() });
/** The payload of version 3, the current one. */
export const userV3 = z.object({ given: z.string(), family: z.string(), email: z.email().nullable() });

/** Version 3 of the user events. */
export const eventsV3 = new EventFactory([
  event.type("user:created").version(3).data(userV3)
    .upcast(1, ({ data, meta }) => {
      const [given, ...rest] = data.name.trim().split(/\s+/);
      return { data: { given, family: rest.join(" ") }, meta };
    }, { data: nameV1 })
    .upcast(2, ({ data, meta }) => ({ data: { ...data, email: null }, meta }), { data: nameV2 })
    .renamedFrom("user:registered"),
  event.type("user:deactivated"),
]);
