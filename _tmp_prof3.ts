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
function batch(call: number, sfx = "") {
  const stream = streams[call % 200] + sfx;
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
  console.log(name.padEnd(30), ms.toFixed(3), "ms/batch", Math.round(50 / ms * 1000), "ev/s");
}
const hex = (u: Uint8Array) => Array.from(u, (b) => b.toString(16).padStart(2, "0")).join("");
const jsonIns = (q: any, c: number, sfx: string) => { const rows = batch(c, sfx).map((r, n) => ({ ...r, n, data: hex(cborCodec.encode(r.data)) })); return q`INSERT INTO ${sql(schema)}.events (id, stream, type, revision, created, outdated, data, meta) SELECT id, stream, type, revision, created, outdated, decode(data, 'hex'), null FROM json_to_recordset(${JSON.stringify(rows)}::text::json) AS x(n int, id text, stream text, type text, revision int, created text, outdated bool, data text) ORDER BY n`; };
let k = 0;
const cases: [string, (c: number) => Promise<unknown>][] = [
  ["json autocommit", (c) => jsonIns(sql, c, "a")],
  ["begin + json", (c) => sql.begin((tx) => jsonIns(tx, c, "b"))],
  ["begin + json + notify", (c) => sql.begin((tx) => Promise.all([jsonIns(tx, c, "c"), tx`select pg_notify('x', '')`]))],
  ["adapter insert only", (c) => { const rows = batch(c, "d"); return a.transaction((tx) => tx.insert(rows)); }],
  ["adapter revisions + insert", (c) => { const rows = batch(c, "e"); return a.transaction(async (tx) => { await tx.revisions([rows[0].stream]); return await tx.insert(rows); }); }],
  ["adapter revisions only", (c) => { return a.transaction(async (tx) => { await tx.revisions([streams[c % 200] + "e"]); }); }],
];
for (let r = 0; r < 2; r++) for (const [n, f] of cases) await time(n, f);
await sql`DROP SCHEMA ${sql(schema)} CASCADE`;
await sql.end();
