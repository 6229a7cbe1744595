/**
 * The store conformance suite on SQLite: a fresh file per case (removed when the case
 * closes its store) and `:memory:`, with no skips; and a file with the JSON codec.
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

runConformance({
  name: "sqlite file",
  open: async () => new TemporaryFileAdapter(await Deno.makeTempDir({ prefix: "eventfold_conformance_" })),
});
runConformance({ name: "sqlite :memory:", open: () => new SqliteAdapter(":memory:") });
runConformance({
  name: "sqlite file (json codec)",
  open: async () =>
    new TemporaryFileAdapter(await Deno.makeTempDir({ prefix: "eventfold_conformance_" }), { codec: "json" }),
  scale: 0.1,
});
