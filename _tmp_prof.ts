import postgres from "postgres";
import { PostgresAdapter } from "./stores/postgres/mod.ts";
import { uuidv7 } from "./events/id.ts";
import { cborCodec } from "./stores/codec.ts";
const URL = "postgres://root@127.0.0.1:5432/test";
const sql = postgres(URL, { max: 4, onnotice: () => {} });
const schema = "prof_" + crypto.randomUUID().slice(0, 8);
const a = new PostgresAdapter(sql, { schema });
await a.open();
const payload = (i: number) => ({ name: `user ${i}`, email: `u${i}@example.com`, age: i % 90, tags: ["a", "b"] });
const streams = Array.from({ length: 200 }, () => uuidv7());
const revs = new Map<string, number>();
function batch(call: number) {
  const stream = streams[call % 200];
  let r = revs.get(stream) ?? 0;
  const rows = Array.from({ length: 50 }, (_, i) => ({ id: uuidv7(), stream, type: "user:updated", data: payload(i), meta: null, revision: ++r, created: new Date().toISOString(), outdated: false }));
  revs.set(stream, r);
  return rows;
}
async function time(name: string, fn: (call: number) => Promise<unknown>, calls = 400) {
  for (let i = 0; i < 20; i++) await fn(i);
  const t = performance.now();
  for (let i = 0; i < calls; i++) await fn(i);
  const ms = (performance.now() - t) / calls;
  console.log(name, ms.toFixed(3), "ms/batch", Math.round(50 / ms * 1000), "ev/s");
}
await time("adapter tx full", (c) => { const rows = batch(c); return a.transaction(async (tx) => { await tx.revisions([rows[0].stream]); return await tx.insert(rows); }); });
await time("adapter tx insert only", (c) => { const rows = batch(c); return a.transaction(async (tx) => await tx.insert(rows)); });
await time("begin+select1", () => sql.begin(async (tx) => await tx`select 1`));
await time("select1", () => sql`select 1`);
await time("encode only", async (c) => { const rows = batch(c); return rows.map((r) => cborCodec.encode(r.data)); });
const COLS = ["id", "stream", "type", "revision", "created", "outdated", "data", "meta"] as const;
await time("raw multirow", async (c) => { const rows = batch(c).map((r) => ({ ...r, id: uuidv7(), data: cborCodec.encode(r.data), stream: r.stream + "x" })); await sql`INSERT INTO ${sql(schema)}.events ${sql(rows, ...COLS)}`; });
await sql`DROP SCHEMA ${sql(schema)} CASCADE`;
await sql.end();
