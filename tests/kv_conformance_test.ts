/**
 * The store conformance suite on Deno KV: a fresh local KV file per case (removed when
 * the case closes its store, opened again by a second adapter for the two-adapter
 * cases), with no skips; and a file with the JSON codec.
 */
import { KvAdapter, type KvAdapterOptions } from "../stores/kv/mod.ts";
import { runConformance } from "../testing/mod.ts";

/** A KV file in its own temporary directory, removed when the adapter closes. */
class TemporaryKvAdapter extends KvAdapter {
  readonly #directory: string;
  #removed: Promise<void> | undefined;

  constructor(directory: string, options?: KvAdapterOptions) {
    super(`${directory}/events.kv`, options);
    this.#directory = directory;
  }

  override async close(): Promise<void> {
    await super.close();
    this.#removed ??= Deno.remove(this.#directory, { recursive: true });
    await this.#removed;
  }
}

runConformance({
  name: "kv file",
  open: async () => new TemporaryKvAdapter(await Deno.makeTempDir({ prefix: "eventfold_kv_conformance_" })),
  reopen: (adapter) => new KvAdapter(adapter.location),
});
runConformance({
  name: "kv file (json codec)",
  open: async () =>
    new TemporaryKvAdapter(await Deno.makeTempDir({ prefix: "eventfold_kv_conformance_" }), {
      codec: "json",
    }),
  reopen: (adapter) => new KvAdapter(adapter.location, { codec: "json" }),
  scale: 0.1,
});
