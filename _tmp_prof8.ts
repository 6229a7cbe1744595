import postgres from "postgres";
const URL = "postgres://root@127.0.0.1:5432/test";
const sql = postgres(URL, { max: 4, onnotice: () => {} });
async function time(name: string, fn: () => Promise<unknown>, n = 2000) {
  for (let i = 0; i < 100; i++) await fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  console.log(name.padEnd(30), ((performance.now() - t) / n * 1000).toFixed(1), "us");
}
for (let r = 0; r < 2; r++) {
  await time("select 1", () => sql`select 1`);
  await time("begin(select1)", () => sql.begin((tx) => tx`select 1`));
  await time("begin(select1; select1)", () => sql.begin(async (tx) => { await tx`select 1`; await tx`select 1`; }));
  await time("reserve pipelined", async () => {
    const r = await sql.reserve();
    try {
      const b = r`begin`.execute();
      await Promise.all([b, r`select 1`]);
      await r`select 1`;
      await r`commit`;
    } finally { r.release(); }
  });
}
await sql.end();
