/**
 * The shape of the core's import graph, read from `deno info --json`: the core and the
 * memory store load no `node:` or `npm:` module (they run in a browser and on Deno
 * Deploy), and the repository's top folders import each other without a cycle.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

interface Resolved {
  readonly specifier: string;
}

interface InfoModule {
  readonly specifier: string;
  readonly error?: string;
  readonly dependencies?: readonly {
    readonly specifier: string;
    readonly code?: Resolved;
    readonly type?: Resolved;
  }[];
}

/** An import of one module by another (type-only imports included: they are dependencies too). */
interface Import {
  readonly from: string;
  readonly to: string;
}

/** Every module of the graph of `entry` and every import between them. */
async function graphOf(entry: string): Promise<{ modules: string[]; imports: Import[]; errors: string[] }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, `deno info ${entry} failed: ${new TextDecoder().decode(output.stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: InfoModule[] };
  const imports: Import[] = [];
  for (const module of info.modules) {
    for (const dependency of module.dependencies ?? []) {
      for (const resolved of [dependency.code, dependency.type]) {
        if (resolved !== undefined) imports.push({ from: module.specifier, to: resolved.specifier });
      }
    }
  }
  const errors = info.modules.flatMap((module) => module.error === undefined ? [] : [module.error]);
  return { modules: info.modules.map((module) => module.specifier), imports, errors };
}

/** The top folder (or root file) a module of the repository lives in; `undefined` outside it. */
function unitOf(specifier: string): string | undefined {
  if (!specifier.startsWith(ROOT.href)) return undefined;
  return specifier.slice(ROOT.href.length).split("/")[0];
}

const relative = (specifier: string): string =>
  specifier.startsWith(ROOT.href) ? specifier.slice(ROOT.href.length) : specifier;

/** The strongly connected groups of more than one unit (Tarjan's algorithm). */
function cycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (unit: string): void => {
    index.set(unit, index.size);
    low.set(unit, index.get(unit)!);
    stack.push(unit);
    onStack.add(unit);
    for (const next of edges.get(unit) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(unit, Math.min(low.get(unit)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(unit, Math.min(low.get(unit)!, index.get(next)!));
      }
    }
    if (low.get(unit) === index.get(unit)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== unit);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const unit of [...edges.keys()].sort()) if (!index.has(unit)) visit(unit);
  return groups;
}

for (const entry of ["mod.ts", "stores/memory/mod.ts", "stores/browser/mod.ts", "sync/mod.ts"]) {
  Deno.test(`${entry} and everything it imports load no node: or npm: module`, async () => {
    const { modules, imports, errors } = await graphOf(entry);
    assert.deepEqual(errors, [], "every module resolves");
    const foreign = modules.filter((specifier) =>
      specifier.startsWith("node:") || specifier.startsWith("npm:")
    );
    const by = imports.filter((i) => foreign.includes(i.to)).map((i) => `${relative(i.from)} -> ${i.to}`);
    assert.deepEqual(by, [], `imports of node: or npm: modules:\n${by.join("\n")}`);
    assert.deepEqual(foreign, []);
  });
}

/** The OpenTelemetry packages a graph loads (by npm specifier or node_modules path). */
function openTelemetryOf(modules: readonly string[], imports: readonly Import[]): string[] {
  const packages = new Set<string>();
  const named = (specifier: string) => /@opentelemetry\/[\w.-]+/.exec(specifier)?.[0];
  for (const specifier of [...modules, ...imports.map((i) => i.to)]) {
    const name = named(specifier);
    if (name !== undefined) packages.add(name);
  }
  return [...packages].sort();
}

// Telemetry is a port in the core; only ./otel loads OpenTelemetry.
for (const entry of ["mod.ts", "stores/memory/mod.ts", "stores/sqlite/mod.ts", "stores/postgres/mod.ts"]) {
  Deno.test(`${entry} and everything it imports load no @opentelemetry package`, async () => {
    const { modules, imports, errors } = await graphOf(entry);
    assert.deepEqual(errors, [], "every module resolves");
    const by = imports.filter((i) => /@opentelemetry\//.test(i.to)).map((i) =>
      `${relative(i.from)} -> ${i.to}`
    );
    assert.deepEqual(by, [], `imports of OpenTelemetry:\n${by.join("\n")}`);
    assert.deepEqual(openTelemetryOf(modules, imports), []);
  });
}

Deno.test("otel/mod.ts loads @opentelemetry/api and no SDK", async () => {
  const { modules, imports, errors } = await graphOf("otel/mod.ts");
  assert.deepEqual(errors, [], "every module resolves");
  assert.deepEqual(openTelemetryOf(modules, imports), ["@opentelemetry/api"]);
});

Deno.test("the top folders of mod.ts's graph import each other without a cycle", async () => {
  const { imports, errors } = await graphOf("mod.ts");
  assert.deepEqual(errors, [], "every module resolves");
  const edges = new Map<string, Set<string>>();
  const examples = new Map<string, string[]>();
  for (const { from, to } of imports) {
    const [a, b] = [unitOf(from), unitOf(to)];
    // mod.ts is the front door: it imports every folder and nothing imports it.
    if (a === undefined || b === undefined || a === b || a === "mod.ts") continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a)!.add(b);
    const key = `${a} -> ${b}`;
    examples.set(key, [...examples.get(key) ?? [], `${relative(from)} -> ${relative(to)}`]);
  }
  const offending = cycles(edges).flatMap((group) =>
    [...examples.keys()]
      .filter((key) => group.includes(key.split(" -> ")[0]) && group.includes(key.split(" -> ")[1]))
      .sort()
      .map((key) => `${key}: ${[...new Set(examples.get(key))].sort().join(", ")}`)
  );
  assert.deepEqual(offending, [], `folder import cycles, by edge:\n${offending.join("\n")}`);
});

Deno.test("the cycle finder reports the folders of a cycle and none for layers", () => {
  const graph = (pairs: [string, string][]) => {
    const edges = new Map<string, Set<string>>();
    for (const [a, b] of pairs) edges.set(a, new Set([...edges.get(a) ?? [], b]));
    return edges;
  };
  assert.deepEqual(
    cycles(graph([["stores", "aggregates"], ["aggregates", "contract"], ["contract", "events"]])),
    [],
  );
  assert.deepEqual(
    cycles(
      graph([["stores", "aggregates"], ["aggregates", "stores"], ["aggregates", "contract"], [
        "events",
        "x",
      ]]),
    ),
    [["aggregates", "stores"]],
  );
});
