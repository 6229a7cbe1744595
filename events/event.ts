/**
 * Event definitions: `event.type(name).data(schema).meta(schema)`.
 *
 * @module
 */

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
  /** Type only: the record this definition produces. */
  declare readonly $record: EventRecord<TType, TData, TMeta>;
  /** Type only: what a producer passes to make one. */
  declare readonly $input: EventInput<TType, TDataIn, TMetaIn>;

  /**
   * Creates it.
   *
   * @param type the event type name
   * @param schemas the schemas (use {@linkcode event} rather than this constructor)
   */
  constructor(type: TType, schemas: EventSchemas = {}) {
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
    return new EventDefinition(this.type, { ...this.schemas, data: schema });
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
    return new EventDefinition(this.type, { ...this.schemas, meta: schema });
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
