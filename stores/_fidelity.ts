/**
 * The fidelity rule, checked in the core before any I/O so that it is the same on every
 * store: a payload comes back exactly as it went in, or the append is refused with
 * `EventValidationError` naming the type and the path, and nothing is stored.
 *
 * What a payload may hold depends on the codec's kind (see `Codec.fidelity`):
 * - `"structured"` (CBOR, and the memory store): `null`, booleans, every number (`-0`,
 *   `NaN`, `±Infinity` too), `bigint`, `undefined`, strings, arrays without holes, plain
 *   objects (an own `__proto__` key too), `Date`, `Map`, `Set` and typed arrays.
 * - `"json"`: `null`, booleans, finite numbers other than `-0`, strings without U+0000
 *   (PostgreSQL `jsonb` cannot hold it), arrays without holes and plain objects.
 * - `"any"` (a custom codec that does not say): only the refusals every codec shares.
 *
 * Refused everywhere: functions, symbols, circular references, nesting deeper than
 * {@linkcode MAX_PAYLOAD_DEPTH} containers, and strings or keys with a lone surrogate
 * (UTF-8 cannot hold one).
 *
 * @module
 */

import { EventValidationError } from "../errors.ts";
import type { PendingEvent } from "../events/record.ts";
import type { Adapter } from "../contract/mod.ts";
import type { Codec } from "./codec.ts";

/**
 * How many containers (arrays, objects, maps, sets) a payload may nest; deeper values are
 * refused before any encoder could exhaust the stack. The CLI's NDJSON export holds the same.
 */
export const MAX_PAYLOAD_DEPTH = 256;

/** The fidelity rule a store's payloads follow. */
export type PayloadRule = NonNullable<Codec["fidelity"]> | "any";

/** Thrown inside the walk; the walk's key stack still says where. */
class _Refusal {
  constructor(readonly message: string) {}
}

interface _Walk {
  readonly rule: PayloadRule;
  readonly keys: (string | number | { readonly entry: unknown })[];
  readonly ancestors: object[];
}

const TYPED_ARRAYS: ReadonlySet<object> = new Set([
  Uint8Array.prototype,
  Uint8ClampedArray.prototype,
  Uint16Array.prototype,
  Uint32Array.prototype,
  Int8Array.prototype,
  Int16Array.prototype,
  Int32Array.prototype,
  Float32Array.prototype,
  Float64Array.prototype,
  BigInt64Array.prototype,
  BigUint64Array.prototype,
]);

function refuse(message: string): never {
  throw new _Refusal(message);
}

function kindOf(proto: object | null): string {
  if (proto === null) return "an object without a prototype";
  const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name.length > 0 ? `a ${name}` : "an object of a class";
}

function text(value: string, walk: _Walk, what: string): void {
  if (!value.isWellFormed()) refuse(`${what} holds a lone surrogate, which UTF-8 cannot hold`);
  if (walk.rule === "json" && value.includes("\0")) {
    refuse(`${what} holds U+0000, which the JSON codec cannot hold (PostgreSQL jsonb refuses it)`);
  }
}

function visit(value: unknown, walk: _Walk, depth: number): void {
  switch (typeof value) {
    case "string":
      return text(value, walk, "the string");
    case "number":
      if (walk.rule === "json") {
        if (!Number.isFinite(value)) refuse(`${value} cannot be held by the JSON codec`);
        if (value === 0 && 1 / value < 0) refuse("-0 cannot be held by the JSON codec");
      }
      return;
    case "boolean":
      return;
    case "undefined":
      if (walk.rule === "json") refuse("undefined cannot be held by the JSON codec (use null)");
      return;
    case "bigint":
      if (walk.rule === "json") refuse("a bigint cannot be held by the JSON codec (use a string)");
      return;
    case "function":
      return refuse("a function is not data");
    case "symbol":
      return refuse("a symbol is not data");
    default:
      if (value !== null) container(value as object, walk, depth + 1);
  }
}

function container(value: object, walk: _Walk, depth: number): void {
  if (depth > MAX_PAYLOAD_DEPTH) refuse(`nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  const { ancestors, keys, rule } = walk;
  if (ancestors.includes(value)) refuse("a circular reference");
  const proto = Object.getPrototypeOf(value);
  ancestors.push(value);
  if (Array.isArray(value) && proto === Array.prototype) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      keys.push(i);
      if (item === undefined && !(i in value)) refuse("a hole in an array comes back as undefined");
      visit(item, walk, depth);
      keys.pop();
    }
  } else if (proto === Object.prototype) {
    if (Object.getOwnPropertySymbols(value).length > 0) refuse("an object with symbol keys");
    for (const key in value) {
      keys.push(key);
      text(key, walk, "the key");
      visit((value as Record<string, unknown>)[key], walk, depth);
      keys.pop();
    }
  } else if (rule !== "json" && proto === Date.prototype) {
    // Kept as it is.
  } else if (rule !== "json" && TYPED_ARRAYS.has(proto)) {
    // Kept as it is.
  } else if (rule !== "json" && proto === Map.prototype) {
    for (const [key, item] of value as Map<unknown, unknown>) {
      keys.push({ entry: key });
      visit(key, walk, depth);
      visit(item, walk, depth);
      keys.pop();
    }
  } else if (rule !== "json" && proto === Set.prototype) {
    let i = 0;
    for (const item of value as Set<unknown>) {
      keys.push({ entry: i++ });
      visit(item, walk, depth);
      keys.pop();
    }
  } else if (rule === "json") {
    const hint = proto === Date.prototype ? " (store date.toISOString())" : "";
    refuse(`${kindOf(proto)} cannot be held by the JSON codec${hint}`);
  } else if (rule === "structured") {
    refuse(
      `${
        kindOf(proto)
      } would come back as something else (kept: plain objects, arrays, Date, Map, Set, typed arrays)`,
    );
  }
  ancestors.pop();
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function pathOf(field: string, keys: _Walk["keys"]): string {
  let path = field;
  for (const key of keys) {
    if (typeof key === "number") path += `[${key}]`;
    else if (typeof key === "string") path += IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
    else path += `<entry ${typeof key.entry === "string" ? JSON.stringify(key.entry) : String(key.entry)}>`;
  }
  return path;
}

// The fast pass answers "kept?" without building paths; the explaining pass above runs
// only after a refusal, to name the path and the reason. Both follow the same rule.

function fits(value: unknown, rule: PayloadRule, seen: object[], depth: number): boolean {
  switch (typeof value) {
    case "string":
      return value.isWellFormed() && !(rule === "json" && value.includes("\0"));
    case "number":
      return rule !== "json" || (Number.isFinite(value) && (value !== 0 || 1 / value > 0));
    case "boolean":
      return true;
    case "undefined":
    case "bigint":
      return rule !== "json";
    case "object":
      return value === null || fitsContainer(value, rule, seen, depth + 1);
    default:
      return false;
  }
}

function fitsContainer(value: object, rule: PayloadRule, seen: object[], depth: number): boolean {
  if (depth > MAX_PAYLOAD_DEPTH) return false;
  for (let i = 0; i < depth - 1; i++) if (seen[i] === value) return false;
  seen[depth - 1] = value;
  const proto = Object.getPrototypeOf(value);
  if (proto === Array.prototype && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item === undefined && !(i in value)) return false;
      if (!fits(item, rule, seen, depth)) return false;
    }
    return true;
  }
  if (proto === Object.prototype) {
    if (Object.getOwnPropertySymbols(value).length > 0) return false;
    for (const key in value) {
      if (!key.isWellFormed() || (rule === "json" && key.includes("\0"))) return false;
      if (!fits((value as Record<string, unknown>)[key], rule, seen, depth)) return false;
    }
    return true;
  }
  if (rule === "json") return false;
  if (proto === Date.prototype || TYPED_ARRAYS.has(proto)) return true;
  if (proto === Map.prototype) {
    for (const [key, item] of value as Map<unknown, unknown>) {
      if (!fits(key, rule, seen, depth) || !fits(item, rule, seen, depth)) return false;
    }
    return true;
  }
  if (proto === Set.prototype) {
    for (const item of value as Set<unknown>) if (!fits(item, rule, seen, depth)) return false;
    return true;
  }
  return rule === "any";
}

/**
 * Checks one payload against a rule: one pass that allocates nothing per value, and a
 * second, explaining pass only when the value is refused.
 *
 * @param value the payload
 * @param rule the store's rule
 * @param field `data` or `meta`, the root of the path
 * @returns `undefined` when it is kept exactly, or the path and reason it is refused
 */
export function checkPayload(
  value: unknown,
  rule: PayloadRule,
  field: string,
): { path: string; message: string } | undefined {
  if (value === null || fits(value, rule, [], 0)) return undefined;
  const walk: _Walk = { rule, keys: [], ancestors: [] };
  try {
    visit(value, walk, 0);
  } catch (error) {
    if (error instanceof _Refusal) return { path: pathOf(field, walk.keys), message: error.message };
    throw error;
  }
  return { path: field, message: "would not come back exactly" };
}

/** The rule of a codec: its own statement, or the shared refusals only. */
export function ruleOfCodec(codec: Codec | undefined): PayloadRule {
  // An adapter without a codec keeps values itself (the memory store's structured clone).
  if (codec === undefined) return "structured";
  return codec.fidelity ?? "any";
}

const rules = new WeakMap<object, PayloadRule>();

async function resolveRule(adapter: Adapter): Promise<PayloadRule> {
  // SqliteAdapter has `codec` (a property), PostgresAdapter `codec()` (the schema's, once open).
  const member = (adapter as { codec?: Codec | (() => Promise<Codec>) }).codec;
  const codec = typeof member === "function" ? await member.call(adapter) : member;
  const rule = ruleOfCodec(codec);
  rules.set(adapter, rule);
  return rule;
}

function checkEvents(events: readonly PendingEvent[], rule: PayloadRule): void {
  for (const event of events) {
    const data = checkPayload(event.data, rule, "data");
    const meta = checkPayload(event.meta, rule, "meta");
    if (data !== undefined || meta !== undefined) {
      throw new EventValidationError(event.type, [data, meta].filter((issue) => issue !== undefined));
    }
  }
}

/**
 * Refuses an append whose payloads the adapter's codec would not give back exactly.
 * Synchronous once the adapter's rule is known (after its first append).
 *
 * @param adapter the store's adapter (its codec decides the rule)
 * @param events the validated events of the call
 * @returns nothing, or a promise while the rule is being learned
 * @throws {EventValidationError} naming the type, the path and the reason
 */
export function checkPayloads(adapter: Adapter, events: readonly PendingEvent[]): void | Promise<void> {
  const rule = rules.get(adapter);
  if (rule !== undefined) return checkEvents(events, rule);
  return resolveRule(adapter).then((learned) => checkEvents(events, learned));
}
