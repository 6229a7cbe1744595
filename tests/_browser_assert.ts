/**
 * The part of `node:assert/strict` the conformance suite uses, for its browser bundle
 * (a browser has no `node:` modules; the bundle maps `node:assert/strict` here). Equality
 * follows Node's strict mode: `Object.is` for primitives, and for objects the same
 * prototype, the same own enumerable keys (symbols too) with deep-equal values, `Map` and
 * `Set` entries, `Date` times, `RegExp` sources and flags, typed array and buffer bytes,
 * error names and messages.
 *
 * @module
 */

/** The error every failed assertion throws, like Node's. */
export class AssertionError extends Error {
  /** The value checked. */
  readonly actual: unknown;
  /** The value it was checked against. */
  readonly expected: unknown;
  /** The check (`"deepStrictEqual"`, ...). */
  readonly operator: string;
  /** Node's error code. */
  readonly code = "ERR_ASSERTION";
  /** Whether the message was made here rather than given. */
  readonly generatedMessage: boolean;

  /**
   * Creates it.
   *
   * @param options the message and what was compared
   */
  constructor(options: { message?: string; actual?: unknown; expected?: unknown; operator?: string }) {
    super(options.message ?? `Failed ${options.operator ?? "assertion"}`);
    this.name = "AssertionError";
    this.actual = options.actual;
    this.expected = options.expected;
    this.operator = options.operator ?? "fail";
    this.generatedMessage = options.message === undefined;
  }
}

/** A short rendering of a value for messages. */
function show(value: unknown, depth = 0): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol" || typeof value === "function") return String(value);
  if (Object.is(value, -0)) return "-0";
  if (value === null || typeof value !== "object") return String(value);
  if (depth > 3) return "[…]";
  if (value instanceof Date) {
    return `Date(${Number.isNaN(value.getTime()) ? "Invalid" : value.toISOString()})`;
  }
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Map) {
    return `Map { ${
      [...value].map(([k, v]) => `${show(k, depth + 1)} => ${show(v, depth + 1)}`).join(", ")
    } }`;
  }
  if (value instanceof Set) return `Set { ${[...value].map((v) => show(v, depth + 1)).join(", ")} }`;
  if (Array.isArray(value)) return `[${value.map((v) => show(v, depth + 1)).join(", ")}]`;
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  }
  const entries = Object.entries(value).map(([k, v]) => `${k}: ${show(v, depth + 1)}`);
  return `{ ${entries.join(", ")} }`;
}

function raise(message: string | Error | undefined, generated: string, extra: object = {}): never {
  if (message instanceof Error) throw message;
  throw new AssertionError({ message: message ?? generated, ...extra });
}

const tagOf = (value: object): string => Object.prototype.toString.call(value);

function ownKeys(value: object): (string | symbol)[] {
  return Reflect.ownKeys(value).filter((key) => Object.prototype.propertyIsEnumerable.call(value, key));
}

/** Node's strict deep equality. */
export function isDeepStrictEqual(a: unknown, b: unknown, seen: Map<object, object> = new Map()): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || tagOf(a) !== tagOf(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (a instanceof Date) {
    if (!Object.is((a as Date).getTime(), (b as Date).getTime())) return false;
  } else if (a instanceof RegExp) {
    const r = b as RegExp;
    if (a.source !== r.source || a.flags !== r.flags || a.lastIndex !== r.lastIndex) return false;
  } else if (a instanceof Error) {
    const e = b as Error;
    if (a.name !== e.name || a.message !== e.message) return false;
  } else if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
    const bytes = (v: object) =>
      v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(
        (v as ArrayBufferView).buffer,
        (v as ArrayBufferView).byteOffset,
        (v as ArrayBufferView).byteLength,
      );
    const [x, y] = [bytes(a), bytes(b)];
    if (x.length !== y.length) return false;
    if (a instanceof Float32Array || a instanceof Float64Array) {
      const [p, q] = [a, b as Float64Array];
      for (let i = 0; i < p.length; i++) if (!Object.is(p[i], q[i])) return false;
    } else {
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    }
  } else if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    outer: for (const [key, value] of a) {
      if (m.has(key)) {
        if (!isDeepStrictEqual(value, m.get(key), seen)) return false;
        continue;
      }
      if (typeof key !== "object" || key === null) return false;
      for (const [other, otherValue] of m) {
        if (isDeepStrictEqual(key, other, seen) && isDeepStrictEqual(value, otherValue, seen)) continue outer;
      }
      return false;
    }
  } else if (a instanceof Set) {
    const s = b as Set<unknown>;
    if (a.size !== s.size) return false;
    outer: for (const value of a) {
      if (s.has(value)) continue;
      if (typeof value !== "object" || value === null) return false;
      for (const other of s) if (isDeepStrictEqual(value, other, seen)) continue outer;
      return false;
    }
  } else if (Array.isArray(a)) {
    if (a.length !== (b as unknown[]).length) return false;
  } else if (
    a instanceof Number || a instanceof String || a instanceof Boolean || a instanceof BigInt ||
    a instanceof Symbol
  ) {
    if (!Object.is(a.valueOf(), (b as { valueOf(): unknown }).valueOf())) return false;
  }
  const keys = ownKeys(a);
  const other = ownKeys(b);
  if (keys.length !== other.length) return false;
  for (const key of keys) {
    if (!Object.prototype.propertyIsEnumerable.call(b, key)) return false;
    if (
      !isDeepStrictEqual(
        (a as Record<PropertyKey, unknown>)[key],
        (b as Record<PropertyKey, unknown>)[key],
        seen,
      )
    ) {
      return false;
    }
  }
  return true;
}

type Expected = RegExp | (new (...args: never[]) => unknown) | ((error: unknown) => boolean) | object;

/** Whether `error` meets `expected` (a class, a RegExp, a validating function or an object of properties). */
function matches(error: unknown, expected: Expected): boolean {
  if (expected instanceof RegExp) return expected.test(String(error));
  if (typeof expected === "function") {
    if (expected.prototype !== undefined && error instanceof (expected as new () => unknown)) return true;
    if (Object.prototype.isPrototypeOf.call(Error, expected) || expected === Error) return false;
    const verdict = (expected as (error: unknown) => unknown)(error);
    if (verdict !== true) {
      raise(undefined, `The validation function is expected to return "true". Received ${show(verdict)}`);
    }
    return true;
  }
  for (const key of Reflect.ownKeys(expected)) {
    const want = (expected as Record<PropertyKey, unknown>)[key];
    const got = (error as Record<PropertyKey, unknown> | null)?.[key];
    if (want instanceof RegExp && typeof got === "string" ? !want.test(got) : !isDeepStrictEqual(got, want)) {
      return false;
    }
  }
  return true;
}

function checkThrown(
  error: unknown,
  expected: Expected | string | undefined,
  message: string | undefined,
): void {
  if (expected === undefined || typeof expected === "string") return;
  if (!matches(error, expected)) {
    if (message !== undefined) raise(message, message);
    throw error;
  }
}

/** Throws unless `value` is truthy. */
function ok(value: unknown, message?: string | Error): asserts value {
  if (!value) {
    raise(message, `The expression evaluated to a falsy value: ${show(value)}`, {
      actual: value,
      expected: true,
    });
  }
}

/** The default export: `assert(value)` plus the methods of `node:assert/strict`. */
const assert = Object.assign(
  (value: unknown, message?: string | Error): asserts value => ok(value, message),
  {
    ok,
    AssertionError,
    equal(actual: unknown, expected: unknown, message?: string | Error): void {
      if (!Object.is(actual, expected)) {
        raise(message, `Expected values to be strictly equal:\n${show(actual)} !== ${show(expected)}`, {
          actual,
          expected,
          operator: "strictEqual",
        });
      }
    },
    notEqual(actual: unknown, expected: unknown, message?: string | Error): void {
      if (Object.is(actual, expected)) {
        raise(message, `Expected "actual" to be not strictly equal to: ${show(expected)}`);
      }
    },
    deepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
      if (!isDeepStrictEqual(actual, expected)) {
        raise(
          message,
          `Expected values to be strictly deep-equal:\n  actual: ${show(actual)}\nexpected: ${
            show(expected)
          }`,
          {
            actual,
            expected,
            operator: "deepStrictEqual",
          },
        );
      }
    },
    notDeepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
      if (isDeepStrictEqual(actual, expected)) {
        raise(message, `Expected "actual" not to be deep-equal to: ${show(expected)}`);
      }
    },
    strictEqual(actual: unknown, expected: unknown, message?: string | Error): void {
      assert.equal(actual, expected, message);
    },
    notStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void {
      assert.notEqual(actual, expected, message);
    },
    deepStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void {
      assert.deepEqual(actual, expected, message);
    },
    notDeepStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void {
      assert.notDeepEqual(actual, expected, message);
    },
    match(value: string, pattern: RegExp, message?: string | Error): void {
      if (typeof value !== "string" || !pattern.test(value)) {
        raise(message, `The input did not match the regular expression ${pattern}. Input: ${show(value)}`);
      }
    },
    doesNotMatch(value: string, pattern: RegExp, message?: string | Error): void {
      if (typeof value !== "string" || pattern.test(value)) {
        raise(message, `The input was expected to not match ${pattern}. Input: ${show(value)}`);
      }
    },
    throws(fn: () => unknown, expected?: Expected | string, message?: string): void {
      try {
        fn();
      } catch (error) {
        checkThrown(error, expected, typeof expected === "string" ? expected : message);
        return;
      }
      raise(undefined, `Missing expected exception${message ? `: ${message}` : "."}`);
    },
    doesNotThrow(fn: () => unknown, message?: string): void {
      try {
        fn();
      } catch (error) {
        raise(undefined, `Got unwanted exception${message ? `: ${message}` : ""}: ${show(error)}`);
      }
    },
    async rejects(
      action: Promise<unknown> | (() => Promise<unknown>),
      expected?: Expected | string,
      message?: string,
    ): Promise<void> {
      try {
        await (typeof action === "function" ? action() : action);
      } catch (error) {
        checkThrown(error, expected, typeof expected === "string" ? expected : message);
        return;
      }
      raise(undefined, `Missing expected rejection${message ? `: ${message}` : "."}`);
    },
    async doesNotReject(
      action: Promise<unknown> | (() => Promise<unknown>),
      message?: string,
    ): Promise<void> {
      try {
        await (typeof action === "function" ? action() : action);
      } catch (error) {
        raise(undefined, `Got unwanted rejection${message ? `: ${message}` : ""}: ${show(error)}`);
      }
    },
    fail(message?: string | Error): never {
      return raise(message, "Failed");
    },
  },
);

export const { equal, notEqual, deepEqual, notDeepEqual, match, throws, rejects, fail } = assert;
export const { strictEqual, notStrictEqual, deepStrictEqual, notDeepStrictEqual } = assert;
/** The same assert, as `strict`. */
export const strict: typeof assert = assert;
export { ok };
export default assert;
