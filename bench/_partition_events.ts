/**
 * The events of the partitions bench.
 *
 * @module
 */

import { z } from "zod";
import { event } from "../events/event.ts";
import { EventFactory } from "../events/factory.ts";

/** One type, a number. */
export const events = new EventFactory([event.type("item:added").data(z.object({ n: z.number().int() }))]);
