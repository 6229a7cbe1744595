import { event, EventFactory, EventStore, makeReducer, Projector } from "@eventfold/eventfold";
import { SqliteAdapter } from "@eventfold/eventfold/sqlite";
import { z } from "zod";

const events = new EventFactory([
  event.type("user:created").data(z.object({ name: z.string(), email: z.string().email() })),
  event.type("user:email-set").data(z.string().email()),
]);

await using store = new EventStore({ adapter: new SqliteAdapter("./events.db"), events });

// A read model that a projector keeps up to date: every commit reaches it.
const emails = new Map<string, string>();
const projector = new Projector<typeof events>();
projector.on("user:created", (record) => void emails.set(record.stream, record.data.email));
projector.on("user:email-set", (record) => void emails.set(record.stream, record.data));
store.onEventsInserted(async (records, { hydrated }) => {
  for (const record of records) await projector.push(record, { hydrated, outdated: record.outdated });
});

const user = makeReducer<typeof events, { name: string; email: string }>((state, record) => {
  switch (record.type) {
    case "user:created":
      return { ...record.data };
    case "user:email-set":
      return { ...state, email: record.data };
  }
}, () => ({ name: "", email: "" }));

const stream = crypto.randomUUID(); // a new user on each run; the file keeps the earlier ones
await store.pushEvent(
  store.event({ type: "user:created", stream, data: { name: "Ada", email: "ada@example.com" } }),
  { expectedRevision: 0 },
);
await store.pushEvent(store.event({ type: "user:email-set", stream, data: "ada@lovelace.dev" }));

console.log(await store.reduce({ name: "user", stream, reducer: user }), emails.get(stream));
