import postgres from "postgres";
import { PostgresAdapter } from "./stores/postgres/mod.ts";
import { uuidv7 } from "./events/id.ts";
import { cborCodec } from "./stores/codec.ts";
const URL = "postgres://root@127.0.0.1:5432/test";
const sql = postgres(URL, { max: 4, onnotice: () => {} });
const schema = "prof_" + crypto.randomUUID().slice(0, 8);
const a = new PostgresAdapter(sql, { schema });
await a.open();
const S = sql(schema);
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
const results = new Map<string, number[]>();
async function time(name: string, fn: (call: number) => Promise<unknown>, calls = 300) {
  for (let i = 0; i < 10; i++) await fn(i);
  const t = performance.now();
  for (let i = 0; i < calls; i++) await fn(i);
  const ms = (performance.now() - t) / calls;
  (results.get(name) ?? results.set(name, []).get(name)!).push(ms);
}
const hex = (u: Uint8Array) => Array.from(u, (b) => b.toString(16).padStart(2, "0")).join("");
const prep = (c: number, sfx: string) => JSON.stringify(batch(c, sfx).map((r, n) => ({ ...r, n, data: hex(cborCodec.encode(r.data)) })));
const plain = (q: any, j: string) => q`INSERT INTO ${S}.events (id, stream, type, revision, created, outdated, data, meta) SELECT id, stream, type, revision, created, outdated, decode(data, 'hex'), null FROM json_to_recordset(${j}::text::json) AS x(n int, id text, stream text, type text, revision int, created text, outdated bool, data text) ORDER BY n`;
const ret = (q: any, j: string) => q`INSERT INTO ${S}.events (id, stream, type, revision, created, outdated, data, meta) SELECT id, stream, type, revision, created, outdated, decode(data, 'hex'), null FROM json_to_recordset(${j}::text::json) AS x(n int, id text, stream text, type text, revision int, created text, outdated bool, data text) ORDER BY n ON CONFLICT (id) DO NOTHING RETURNING id, transaction_id::text AS ptx, seq::text AS pseq, to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded`;
const cte = (q: any, j: string) => q`WITH ins AS (INSERT INTO ${S}.events (id, stream, type, revision, created, outdated, data, meta) SELECT id, stream, type, revision, created, outdated, decode(data, 'hex'), null FROM json_to_recordset(${j}::text::json) AS x(n int, id text, stream text, type text, revision int, created text, outdated bool, data text) ORDER BY n ON CONFLICT (id) DO NOTHING RETURNING id, stream, revision, transaction_id::text AS ptx, seq::text AS pseq, to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded), up AS (INSERT INTO ${S}.streams AS t (stream, revision) SELECT stream, max(revision) FROM ins GROUP BY stream ON CONFLICT (stream) DO UPDATE SET revision = greatest(t.revision, excluded.revision)) SELECT id, ptx, pseq, recorded FROM ins`;
const lock = (q: any, st: string) => { const l = JSON.stringify([st]); return Promise.all([q`INSERT INTO ${S}.streams (stream) SELECT x.stream FROM json_array_elements_text(${l}::text::json) WITH ORDINALITY AS x(stream, n) ORDER BY x.n ON CONFLICT (stream) DO NOTHING`, q`SELECT t.stream, t.revision FROM ${S}.streams AS t JOIN json_array_elements_text(${l}::text::json) WITH ORDINALITY AS x(stream, n) ON t.stream = x.stream ORDER BY x.n FOR UPDATE OF t`]); };
const cases: [string, (c: number) => Promise<unknown>][] = [
  ["A autocommit plain", (c) => plain(sql, prep(c, "a"))],
  ["B tx plain", (c) => { const j = prep(c, "b"); return sql.begin((tx) => plain(tx, j)); }],
  ["C tx returning", (c) => { const j = prep(c, "c"); return sql.begin((tx) => ret(tx, j)); }],
  ["D tx cte", (c) => { const j = prep(c, "d"); return sql.begin((tx) => cte(tx, j)); }],
  ["E tx lock+cte", (c) => { const j = prep(c, "e"); return sql.begin(async (tx) => { await lock(tx, streams[c % 200] + "e"); return cte(tx, j); }); }],
  ["F tx lock+cte+notify", (c) => { const j = prep(c, "f"); return sql.begin(async (tx) => { await lock(tx, streams[c % 200] + "f"); return Promise.all([cte(tx, j), tx`select pg_notify('x','')`]); }); }],
  ["G adapter", (c) => { const rows = batch(c, "g"); return a.transaction(async (tx) => { await tx.revisions([rows[0].stream]); return await tx.insert(rows); }); }],
];
for (let r = 0; r < 4; r++) for (const [n, f] of cases) await time(n, f);
for (const [n, v] of results) console.log(n.padEnd(24), v.map((x) => x.toFixed(3)).join(" "), " median", [...v].sort()[2].toFixed(3));
await sql`DROP SCHEMA ${sql(schema)} CASCADE`;
await sql.end();
