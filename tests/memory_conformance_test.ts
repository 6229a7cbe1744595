/**
 * The store conformance suite on the in-memory adapter, the reference semantics every
 * other store is held to.
 */
import { MemoryAdapter } from "../stores/memory/mod.ts";
import { runConformance } from "../testing/mod.ts";

runConformance({ name: "memory", open: () => new MemoryAdapter() });
