import assert from "node:assert/strict";
import { VERSION } from "./_version.ts";

Deno.test("the CLI's version is the one deno.json publishes", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(VERSION, manifest.version);
});
