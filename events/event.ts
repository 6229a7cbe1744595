/**
 * Event definitions: `event.type(name).data(schema).meta(schema)`.
 *
 * @module
 */

import { checkPersonal, type PersonalFields } from "./personal.ts";
import { checkVersion, type Evolution, FIRST_VERSION, type Upcaster } from "./evolution.ts";
import type { EventInput, EventRecord } from "./record.ts";
import type { StandardSchemaV1 } from "./standard_schema.ts";

/** The schemas of an event definition. */
export interface EventSchemas {
  /** Validates `data`; absent when the event has no payload. */
  readonly data?: StandardSchemaV1;
  /** Validates `meta`; absent when the event has no metadata. */
  readonly meta?: StandardSchemaV1;
}

/**
 * One event type with its optional schemas. Made with {@linkcode event}; its type
 * parameters carry the payload types into records, handlers and reducers.
 *
 * @typeParam TType the event type name
 * @typeParam TData the stored payload type (the schema's output)
 * @typeParam TMeta the stored metadata type
 * @typeParam TDataIn the payload a producer passes (the schema's input)
 * @typeParam TMetaIn the metadata a producer passes
 */
export class EventDefinition<
  TType extends string = string,
  TData = null,
  TMeta = null,
  TDataIn = TData,
  TMetaIn = TMeta,
> {
  /** The event type name. */
  readonly type: TType;
  /** The schemas, if any. */
  readonly schemas: EventSchemas;
  /** The version new events are written at (1 unless `version(n)` said otherwise). */
  readonly currentVersion: number;
  /** Upcaster from each older version to the next, by the version it starts from. */
  readonly upcasters: ReadonlyMap<number, Upcaster>;
  /** Names records of this type were stored under before a rename. */
  readonly aliases: readonly string[];
  /** Its personal fields, stored encrypted under the subject's key (see {@linkcode EventDefinition.personal}). */
  readonly personalFields?: PersonalFields & { readonly paths: readonly (readonly string[])[] };
  /** Type only: the record this definition produces. */
  declare readonly $record: EventRecord<TType, TData, TMeta>;
  /** Type only: what a producer passes to make one. */
  declare readonly $input: EventInput<TType, TDataIn, TMetaIn>;

  /**
   * Creates it.
   *
   * @param type the event type name
   * @param schemas the schemas (use {@linkcode event} rather than this constructor)
   * @param evolution its version, upcasters and old names
   * @param personal its personal fields
   */
  constructor(
    type: TType,
    schemas: EventSchemas = {},
    evolution: Evolution = FIRST_VERSION,
    personal?: PersonalFields & { readonly paths: readonly (readonly string[])[] },
  ) {
    if (typeof type !== "string" || type.length === 0) {
      throw new TypeError(`An event type must be a non-empty string, got ${JSON.stringify(type)}`);
    }
    // Stores keep types in plain columns: U+0000 is cut or refused there, UTF-8 holds no lone surrogate.
    if (type.includes("\0") || !type.isWellFormed()) {
      throw new TypeError(
        `An event type must hold no U+0000 and no lone surrogate, got ${JSON.stringify(type)}`,
      );
    }
    this.type = type;
    this.schemas = schemas;
    this.currentVersion = evolution.currentVersion;
    this.upcasters = evolution.upcasters;
    this.aliases = evolution.aliases;
    if (personal !== undefined) this.personalFields = personal;
  }

  get #evolution(): Evolution {
    return { currentVersion: this.currentVersion, upcasters: this.upcasters, aliases: this.aliases };
  }

  /**
   * Gives the event a payload validated by a Standard Schema (zod, valibot, arktype...).
   *
   * @param schema the payload schema
   * @returns a new definition whose records carry the schema's output type
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event } from "@eventfold/eventfold";
   * import { z } from "zod";
   * const emailSet = event.type("user:email-set").data(z.string().email());
   * assert(emailSet.schemas.data !== undefined);
   * ```
   */
  data<S extends StandardSchemaV1>(
    schema: S,
  ): EventDefinition<TType, StandardSchemaV1.InferOutput<S>, TMeta, StandardSchemaV1.InferInput<S>, TMetaIn> {
    return new EventDefinition(
      this.type,
      { ...this.schemas, data: schema },
      this.#evolution,
      this.personalFields,
    );
  }

  /**
   * Gives the event metadata validated by a Standard Schema.
   *
   * @param schema the metadata schema
   * @returns a new definition whose records carry the schema's output type as `meta`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event } from "@eventfold/eventfold";
   * import * as v from "valibot";
   * const created = event.type("user:created").meta(v.object({ auditor: v.string() }));
   * assert(created.schemas.meta !== undefined);
   * ```
   */
  meta<S extends StandardSchemaV1>(
    schema: S,
  ): EventDefinition<TType, TData, StandardSchemaV1.InferOutput<S>, TDataIn, StandardSchemaV1.InferInput<S>> {
    return new EventDefinition(
      this.type,
      { ...this.schemas, meta: schema },
      this.#evolution,
      this.personalFields,
    );
  }

  /**
   * Sets the version new events of this type are written at. Records stored at an older
   * version are upcast on read by the steps given to {@linkcode EventDefinition.upcast}.
   *
   * @param n the current version, from 1
   * @returns a new definition at that version
   * @throws {TypeError} unless `n` is a whole number from 1
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event } from "@eventfold/eventfold";
   * const renamed = event.type("user:named").version(2).upcast(1, ({ data, meta }) => ({ data: { name: data }, meta }));
   * assert(renamed.currentVersion === 2 && renamed.upcasters.has(1));
   * ```
   */
  version(n: number): EventDefinition<TType, TData, TMeta, TDataIn, TMetaIn> {
    return new EventDefinition(this.type, this.schemas, {
      ...this.#evolution,
      currentVersion: checkVersion(n, `version of event "${this.type}"`),
    }, this.personalFields);
  }

  /**
   * Adds the step from version `from` to `from + 1`. Give `schemas` (the older version's
   * schemas) to type the step's input; they are not checked at run time.
   *
   * @param from the version the step starts from
   * @param upcaster maps `{ data, meta }` of version `from` to version `from + 1`
   * @param schemas optional schemas of version `from`, for the input type
   * @returns a new definition with the step
   * @throws {TypeError} for a bad version or a second step from the same version
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event } from "@eventfold/eventfold";
   * import { z } from "zod";
   * const v1 = z.object({ name: z.string() });
   * const named = event.type("user:named").version(2).data(z.object({ given: z.string(), family: z.string() }))
   *   .upcast(1, ({ data, meta }) => {
   *     const [given, ...rest] = data.name.split(" ");
   *     return { data: { given, family: rest.join(" ") }, meta };
   *   }, { data: v1 });
   * assert(named.upcasters.get(1)?.({ data: { name: "Ada King" }, meta: null }).data !== undefined);
   * ```
   */
  upcast<TFromData = unknown, TFromMeta = unknown>(
    from: number,
    upcaster: Upcaster<TFromData, TFromMeta>,
    schemas?: {
      readonly data?: StandardSchemaV1<unknown, TFromData>;
      readonly meta?: StandardSchemaV1<unknown, TFromMeta>;
    },
  ): EventDefinition<TType, TData, TMeta, TDataIn, TMetaIn> {
    void schemas;
    checkVersion(from, `upcast of event "${this.type}": the version it starts from`);
    if (typeof upcaster !== "function") {
      throw new TypeError(`upcast(${from}, ...) of event "${this.type}" needs a function`);
    }
    if (this.upcasters.has(from)) {
      throw new TypeError(`Event "${this.type}" has two upcasters from version ${from}`);
    }
    const upcasters = new Map(this.upcasters);
    upcasters.set(from, upcaster as Upcaster);
    return new EventDefinition(
      this.type,
      this.schemas,
      { ...this.#evolution, upcasters },
      this.personalFields,
    );
  }

  /**
   * Marks fields of `data` as personal data of a subject. They are stored encrypted
   * (AES-256-GCM, a random IV per value) under a key per subject; `store.forget(subject)`
   * destroys the key, after which every read returns those fields as `null` and the
   * record says `forgotten: true`. The rest of the record stays readable. Personal fields
   * hold JSON values (strings, numbers, booleans, null, arrays, plain objects).
   *
   * @param spec `subject` picks the subject from the data; `fields` are paths into data
   * @returns a new definition with personal fields
   * @throws {TypeError} for a missing subject function or a bad path
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event } from "@eventfold/eventfold";
   * import { z } from "zod";
   * const created = event.type("user:created")
   *   .data(z.object({ userId: z.string(), email: z.string(), address: z.object({ street: z.string() }) }))
   *   .personal({ subject: (data) => data.userId, fields: ["email", "address.street"] });
   * assert.deepEqual(created.personalFields?.fields, ["email", "address.street"]);
   * ```
   */
  personal(spec: PersonalFields<TData>): EventDefinition<TType, TData, TMeta, TDataIn, TMetaIn> {
    return new EventDefinition(
      this.type,
      this.schemas,
      this.#evolution,
      checkPersonal(this.type, spec as PersonalFields),
    );
  }

  /**
   * Reads records stored under older names as this type (after a rename); filters by
   * either name find them.
   *
   * @param names the names the type had before
   * @returns a new definition with those names
   * @throws {TypeError} for an empty name or the type's own name
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { event } from "@eventfold/eventfold";
   * const registered = event.type("user:registered").renamedFrom("user:created");
   * assert.deepEqual(registered.aliases, ["user:created"]);
   * ```
   */
  renamedFrom(...names: string[]): EventDefinition<TType, TData, TMeta, TDataIn, TMetaIn> {
    for (const name of names) {
      if (typeof name !== "string" || name.length === 0 || name === this.type) {
        throw new TypeError(
          `renamedFrom of event "${this.type}" needs the old names (non-empty, not its own), got ${
            JSON.stringify(name)
          }`,
        );
      }
    }
    return new EventDefinition(this.type, this.schemas, {
      ...this.#evolution,
      aliases: [...new Set([...this.aliases, ...names])],
    }, this.personalFields);
  }
}

/** Any event definition, whatever its payload types. */
// deno-lint-ignore no-explicit-any
export type AnyEventDefinition = EventDefinition<string, any, any, any, any>;

/**
 * Starts an event definition.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { event } from "@eventfold/eventfold";
 * const activated = event.type("user:activated");
 * assert(activated.type === "user:activated");
 * ```
 */
export const event: {
  /**
   * @param type the event type name, unique within an {@linkcode EventFactory}
   * @returns a definition with no payload and no metadata
   */
  type<TType extends string>(type: TType): EventDefinition<TType>;
} = {
  type: (type) => new EventDefinition(type),
};
