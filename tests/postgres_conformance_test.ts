/**
 * The store conformance suite on PostgreSQL: every case on a fresh schema of the real
 * server, dropped when the case closes its store. No case is skipped.
 */
import { PostgresAdapter } from "../stores/postgres/mod.ts";
import { runConformance } from "../testing/mod.ts";
import { dropSchema, freshSchema, PG_URL, pgAvailable } from "./_postgres_env.ts";

/** A PostgresAdapter on its own schema, which it drops when closed. */
class ThrowawayPostgresAdapter extends PostgresAdapter {
  override async close(): Promise<void> {
    await super.close();
    await dropSchema(this.schema);
  }
}

runConformance({
  name: "postgres",
  open: () => new ThrowawayPostgresAdapter(PG_URL, { schema: freshSchema() }),
  // Another client on the same schema, as another process would open it.
  reopen: (adapter) => new PostgresAdapter(PG_URL, { schema: (adapter as PostgresAdapter).schema }),
  ignore: (await pgAvailable()) ? false : "PostgreSQL is unreachable",
});

runConformance({
  name: "postgres (json codec)",
  open: () => new ThrowawayPostgresAdapter(PG_URL, { schema: freshSchema(), codec: "json" }),
  reopen: (adapter) =>
    new PostgresAdapter(PG_URL, { schema: (adapter as PostgresAdapter).schema, codec: "json" }),
  ignore: (await pgAvailable()) ? false : "PostgreSQL is unreachable",
  scale: 0.1,
});
