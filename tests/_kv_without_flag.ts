/**
 * Opens a `KvAdapter` where `Deno.openKv` is missing (run without `--unstable-kv` and
 * without the project's config), for tests/kv_bad_input_test.ts: prints the error.
 *
 * @module
 */

import { KvAdapter } from "../stores/kv/mod.ts";

try {
  new KvAdapter(Deno.args[0]);
  console.log("opened");
} catch (error) {
  console.log(`${(error as Error).name}: ${(error as Error).message}`);
}
