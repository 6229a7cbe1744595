/**
 * `Workflow`: a process manager (a saga). Each instance, named by a key taken from its
 * inputs, folds the events it is given (`evolve`) and decides what to do next (`react`):
 * append events, set and cancel durable timers, register compensations, complete or
 * fail. `store.runWorkflow(workflow)` runs it (see `workflow_run.ts`).
 *
 * @module
 */

import type { AnyEventFactory, EventInputOf, EventTypeOf, RecordOfType } from "../events/factory.ts";
import type { ExpectedRevision } from "../events/expected_revision.ts";

/** Where an instance is: running, done, or failed and (when it had compensations) compensated. */
export type WorkflowStatus = "running" | "completed" | "failed" | "compensating" | "compensated";

/** The statuses an instance never leaves: its later inputs are ignored. */
export const FINAL_STATUSES: ReadonlySet<WorkflowStatus> = new Set(["completed", "failed", "compensated"]);

/** A timer for `ctx.schedule`: its event is appended once, when it is due. */
export interface TimerSpec<TEvents extends AnyEventFactory> {
  /** Names the timer within its instance (`ctx.cancel(id)`); setting it again replaces it. */
  readonly id: string;
  /** Due this many ms from now (by the run's clock); give `after` or `at`. */
  readonly after?: number;
  /** Due at this time (an ISO-8601 string or a `Date`); in the past, it fires at once. */
  readonly at?: string | Date;
  /** The event appended when it fires: usually one of the workflow's own `types`. */
  readonly event: EventInputOf<TEvents>;
}

/** What `react` can do; everything it asks for commits together, once per input. */
export interface WorkflowContext<TEvents extends AnyEventFactory> {
  /** The instance's key. */
  readonly key: string;
  /** The run's time now (ISO-8601), as its clock tells it. */
  readonly now: string;
  /** Appends an event (to any stream), guarded by `expectedRevision` when given. */
  append(event: EventInputOf<TEvents>, options?: { readonly expectedRevision?: ExpectedRevision }): void;
  /** Sets a durable timer. */
  schedule(timer: TimerSpec<TEvents>): void;
  /** Cancels a timer of this instance (nothing happens when it is not set). */
  cancel(id: string): void;
  /** Registers an event to append if the instance fails later (`fail`), newest first. */
  compensateWith(event: EventInputOf<TEvents>): void;
  /** Ends the instance: status `completed`; its timers are cancelled. */
  complete(): void;
  /** Ends the instance as failed: its compensations are appended, newest first; its timers are cancelled. */
  fail(reason: string): void;
}

/** The definition of a workflow. */
export interface WorkflowSpec<TEvents extends AnyEventFactory, TState, TType extends EventTypeOf<TEvents>> {
  /** Names the workflow: its instances, timers and subscription live under it. A new name is a new workflow. */
  readonly name: string;
  /** The event types it takes as inputs. */
  readonly types: readonly TType[];
  /** The instance an input belongs to; `undefined`: it is none of this workflow's. */
  readonly key: (record: RecordOfType<TEvents, TType>) => string | undefined;
  /** A new instance's state. */
  readonly initial: () => TState;
  /** Folds an input into the state (before `react` sees it). */
  readonly evolve: (state: TState, record: RecordOfType<TEvents, TType>) => TState;
  /** Decides what to do about an input; may be async. A throw retries the input, then parks it. */
  readonly react: (
    state: TState,
    record: RecordOfType<TEvents, TType>,
    ctx: WorkflowContext<TEvents>,
  ) => void | Promise<void>;
}

/** A character a workflow name may not hold: ":" (it separates stream names) or a control character. */
function unfit(char: string): boolean {
  const code = char.codePointAt(0)!;
  return char === ":" || code < 0x20 || code === 0x7f;
}

function checkFunction(value: unknown, what: string): void {
  if (typeof value !== "function") throw new TypeError(`Workflow ${what} must be a function`);
}

/**
 * A workflow definition, checked.
 *
 * @typeParam TEvents the store's event factory
 * @typeParam TState an instance's state
 * @typeParam TType the input types
 * @example
 * ```ts
 * import { event, EventFactory, Workflow } from "@eventfold/eventfold";
 * import { z } from "zod";
 * const events = new EventFactory([
 *   event.type("order:placed").data(z.object({ orderId: z.string() })),
 *   event.type("order:shipped").data(z.object({ orderId: z.string() })),
 * ]);
 * const shipping = new Workflow<typeof events, { placed: boolean }, "order:placed">({
 *   name: "shipping",
 *   types: ["order:placed"],
 *   key: (record) => record.data.orderId,
 *   initial: () => ({ placed: false }),
 *   evolve: () => ({ placed: true }),
 *   react: (_state, record, ctx) => {
 *     ctx.append({ type: "order:shipped", stream: `order-${record.data.orderId}`, data: record.data });
 *     ctx.complete();
 *   },
 * });
 * ```
 */
export class Workflow<
  TEvents extends AnyEventFactory,
  TState,
  TType extends EventTypeOf<TEvents> = EventTypeOf<TEvents>,
> {
  /** The definition. */
  readonly spec: WorkflowSpec<TEvents, TState, TType>;

  /**
   * Checks and keeps a definition.
   *
   * @param spec name, types, key, initial, evolve, react
   * @throws {TypeError} for a missing name or types, or a part that is not a function
   */
  constructor(spec: WorkflowSpec<TEvents, TState, TType>) {
    if (typeof spec !== "object" || spec === null) throw new TypeError("Workflow needs a definition object");
    if (typeof spec.name !== "string" || spec.name === "" || [...spec.name].some(unfit)) {
      throw new TypeError(
        `Workflow name must be a non-empty string without ":" or control characters, got ${
          JSON.stringify(spec.name)
        }`,
      );
    }
    if (
      !Array.isArray(spec.types) || spec.types.length === 0 ||
      spec.types.some((type) => typeof type !== "string" || type === "")
    ) {
      throw new TypeError(`Workflow "${spec.name}" needs its input types: a non-empty array of type names`);
    }
    checkFunction(spec.key, `"${spec.name}" key`);
    checkFunction(spec.initial, `"${spec.name}" initial`);
    checkFunction(spec.evolve, `"${spec.name}" evolve`);
    checkFunction(spec.react, `"${spec.name}" react`);
    this.spec = { ...spec, types: [...spec.types] };
  }

  /** The workflow's name. */
  get name(): string {
    return this.spec.name;
  }
}
