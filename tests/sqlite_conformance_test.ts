/**
 * The store conformance suite on SQLite: a fresh file per case (removed when the case
 * closes its store, reopened on a second connection for the two-adapter cases) and
 * `:memory:`, with no skips; and a file with the JSON codec.
 */
import { SqliteAdapter, type SqliteAdapterOptions } from "../stores/sqlite/mod.ts";
import { runConformance } from "../testing/mod.ts";

/** A SQLite file in its own temporary directory, removed when the adapter closes. */
class TemporaryFileAdapter extends SqliteAdapter {
  readonly #directory: string;
  #removed: Promise<void> | undefined;

  constructor(directory: string, options?: SqliteAdapterOptions) {
    super(`${directory}/events.db`, options);
    this.#directory = directory;
  }

  override async close(): Promise<void> {
    await super.close();
    this.#removed ??= Deno.remove(this.#directory, { recursive: true });
    await this.#removed;
  }
}

/** A second adapter on the same file (another connection, as another process would open it). */
const sameFile = (adapter: { location: string }, options?: SqliteAdapterOptions) =>
  new SqliteAdapter(adapter.location, options);

runConformance({
  name: "sqlite file",
  open: async () => new TemporaryFileAdapter(await Deno.makeTempDir({ prefix: "eventfold_conformance_" })),
  reopen: (adapter) => sameFile(adapter),
});
// A :memory: database is private to its connection: the cases that need a second
// adapter over the same storage are ignored here (they run on the file above).
runConformance({ name: "sqlite :memory:", open: () => new SqliteAdapter(":memory:") });
runConformance({
  name: "sqlite file (json codec)",
  open: async () =>
    new TemporaryFileAdapter(await Deno.makeTempDir({ prefix: "eventfold_conformance_" }), { codec: "json" }),
  reopen: (adapter) => sameFile(adapter, { codec: "json" }),
  scale: 0.1,
});
