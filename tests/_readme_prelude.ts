/**
 * The set-up the README's short snippets take for granted: the event definitions, a store
 * holding a few events, and the small helpers the snippets call. tests/readme_test.ts
 * imports from here every name a snippet uses but does not define itself, then type-checks
 * and runs the snippet.
 *
 * @module
 */

import { event, EventFactory, EventStore, makeReducer, Projector, reject } from "@eventfold/eventfold";
import { MemoryAdapter } from "@eventfold/eventfold/memory";
import { z } from "zod";

export * from "@eventfold/eventfold";
export { MemoryAdapter } from "@eventfold/eventfold/memory";
export { given, runConformance } from "@eventfold/eventfold/testing";
export { z } from "zod";

/** The README's events. */
export const events = new EventFactory([
  event.type("user:created").data(z.object({ name: z.string(), email: z.string().email() })),
  event.type("user:email-set").data(z.string().email()),
  event.type("user:activated"),
  event.type("counter:added").data(z.number()),
]);

/** A user as the README's reducer folds it. */
export type User = { name: string; email: string };

/** The initial user. */
export const initial: User = { name: "", email: "" };

/** The README's user fold. */
export const fold = (state: User, record: typeof events.$record): User => {
  switch (record.type) {
    case "user:created":
      return { ...record.data };
    case "user:email-set":
      return { ...state, email: record.data };
    default:
      return state;
  }
};

/** A store on memory holding stream "u1" at revision 3. */
export const store: EventStore<typeof events> = new EventStore({ adapter: new MemoryAdapter(), events });
await store.pushManyEvents([
  store.event({ type: "user:created", stream: "u1", data: { name: "Ada", email: "ada@example.com" } }),
  store.event({ type: "user:email-set", stream: "u1", data: "ada@lovelace.dev" }),
  store.event({ type: "user:email-set", stream: "u1", data: "ada@example.com" }),
]);

/** Payload of a new user. */
export const data = { name: "Grace", email: "grace@example.com" };

/** Three events that the README appends in one call. */
export const [a, b, c] = [
  store.event({ type: "user:email-set", stream: "u1", data: "a@example.com" }),
  store.event({ type: "user:created", stream: "email:ada@example.com", data }),
  store.event({ type: "user:activated", stream: "u1" }),
];

/** A log position to read after (none yet: from the start). */
export const checkpoint: string | undefined = undefined;

/** The README's side effect. */
export const sendWelcomeMail = async (_email: string): Promise<void> => {};

/** A read model kept in memory. */
export const readModel = {
  emails: new Map<string, string>(),
  setEmail(stream: string, email: string): void {
    this.emails.set(stream, email);
  },
};

/** An audit trail. */
export const audit: unknown[] = [];

/** Empties the user directory read model (a no-op here). */
export const clearDirectory = (_tx: unknown): void => {};

/** A projector over the README's events. */
export const projector: Projector<typeof events> = new Projector<typeof events>();

/** A counter reducer for the testing snippets. */
export const counter = makeReducer<typeof events, number>(
  (total, record) => record.type === "counter:added" ? total + record.data : total,
  () => 0,
);

/** A command that adds to the counter, refusing totals over 10. */
export const add = (n: number) => (total: number | undefined) =>
  (total ?? 0) + n > 10 ? reject("too big") : [{ type: "counter:added" as const, data: n }];

/** A third-party adapter, as the README's conformance snippet names it. */
export class MyAdapter extends MemoryAdapter {}

/** A batch of events to append. */
export const batch: typeof a[] = [a];

/** Retries a call later (here: at once). */
export const retryLater = <T>(call: () => Promise<T>): Promise<T> => call();
