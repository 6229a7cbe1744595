import postgres from "postgres";
import { z } from "zod";
import { PostgresAdapter } from "./stores/postgres/mod.ts";
import { uuidv7 } from "./events/id.ts";
import { event } from "./events/event.ts";
import { EventFactory } from "./events/factory.ts";
import { EventStore } from "./stores/event_store.ts";
const URL = "postgres://root@127.0.0.1:5432/test";
const sql = postgres(URL, { max: 4, onnotice: () => {} });
const schema = "prof_" + crypto.randomUUID().slice(0, 8);
let txTime = 0;
class Timed extends PostgresAdapter {
  override async transaction<T>(work: any): Promise<T> { const t = performance.now(); try { return await super.transaction(work) as T; } finally { txTime += performance.now() - t; } }
}
const a = new Timed(sql, { schema });
await a.open();
const events = new EventFactory([event.type("user:updated").data(z.object({ name: z.string(), email: z.string(), age: z.number(), tags: z.array(z.string()) }))]);
const store = new EventStore({ adapter: a, events });
const payload = (i: number) => ({ name: `user ${i}`, email: `u${i}@example.com`, age: i % 90, tags: ["a", "b"] });
const streams = Array.from({ length: 200 }, () => uuidv7());
for (let round = 0; round < 3; round++) {
  txTime = 0;
  const t = performance.now();
  for (let call = 0; call < 400; call++) {
    const stream = streams[call % 200];
    const batch = new Array(50);
    for (let i = 0; i < 50; i++) batch[i] = { type: "user:updated", stream, data: payload(i) };
    await store.pushManyEvents(batch);
  }
  const total = performance.now() - t;
  console.log(`total ${(total / 400).toFixed(3)} ms/batch, in transaction ${(txTime / 400).toFixed(3)}`);
}
await sql`DROP SCHEMA ${sql(schema)} CASCADE`;
await store.close();
await sql.end();
