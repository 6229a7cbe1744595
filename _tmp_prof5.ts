import postgres from "postgres";
import { PostgresAdapter } from "./stores/postgres/mod.ts";
import { uuidv7 } from "./events/id.ts";
const URL = "postgres://root@127.0.0.1:5432/test";
const sql = postgres(URL, { max: 4, onnotice: () => {} });
const schema = "prof_" + crypto.randomUUID().slice(0, 8);
const a = new PostgresAdapter(sql, { schema });
await a.open();
const payload = (i: number) => ({ name: `user ${i}`, email: `u${i}@example.com`, age: i % 90, tags: ["a", "b"] });
const streams = Array.from({ length: 200 }, () => uuidv7());
const revs = new Map<string, number>();
function batch(call: number, sfx = "") {
  const stream = streams[call % 200] + sfx;
  let r = revs.get(stream) ?? 0;
  const rows = Array.from({ length: 50 }, (_, i) => ({ id: uuidv7(), stream, type: "user:updated", data: payload(i), meta: null, revision: ++r, created: new Date().toISOString(), outdated: false }));
  revs.set(stream, r);
  return rows;
}
const parts = { begin: [] as number[], rev: [] as number[], ins: [] as number[], commit: [] as number[], total: [] as number[] };
for (let c = 0; c < 600; c++) {
  const rows = batch(c);
  const t0 = performance.now(); let t1 = 0, t2 = 0, t3 = 0;
  await a.transaction(async (tx) => { t1 = performance.now(); await tx.revisions([rows[0].stream]); t2 = performance.now(); const r = await tx.insert(rows); t3 = performance.now(); return r; });
  const t4 = performance.now();
  if (c >= 100) { parts.begin.push(t1 - t0); parts.rev.push(t2 - t1); parts.ins.push(t3 - t2); parts.commit.push(t4 - t3); parts.total.push(t4 - t0); }
}
const med = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1].toFixed(3);
console.log(Object.entries(parts).map(([k, v]) => `${k}=${med(v)}`).join(" "));
await sql`DROP SCHEMA ${sql(schema)} CASCADE`;
await sql.end();
