/**
 * Subject templates: where the relay publishes each event. `"events.{type}"` or
 * `"events.{stream}.{type}"` name fields of the record; each field's value becomes part
 * of one subject token, percent-encoded so that it never adds a token or a wildcard.
 *
 * @module
 */

/** The record fields a subject template may name. */
export const SUBJECT_FIELDS: readonly ["stream", "type"] = ["stream", "type"] as const;

/** A field a subject template may name. */
export type SubjectField = (typeof SUBJECT_FIELDS)[number];

/** A checked subject template (from {@linkcode subjectTemplate}). */
export interface SubjectTemplate {
  /** The template as given. */
  readonly template: string;
  /** The fields it names, in order of appearance (each once). */
  readonly fields: readonly SubjectField[];
  /** The subject filter every rendered subject matches: each token holding a field becomes `*`. */
  readonly filter: string;
  /**
   * The subject of one record.
   *
   * @param record the stream and type of an event
   * @returns the subject
   */
  render(record: { readonly stream: string; readonly type: string }): string;
}

// Kept as they are in a token; everything else (".", "*", ">", "%", spaces, controls,
// non-ASCII) is written as %XX of its UTF-8 bytes, as encodeURIComponent does.
const PLAIN = /^[A-Za-z0-9_:-]$/;
const utf8 = new TextEncoder();

/**
 * Encodes a value as (part of) one subject token: `A-Z a-z 0-9 _ : -` stay as they are,
 * every other character becomes `%XX` of its UTF-8 bytes. `decodeURIComponent` reverses it.
 *
 * @param value the field's value
 * @returns the token text
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { subjectToken } from "@eventfold/eventfold/nats";
 * assert.equal(subjectToken("user:created"), "user:created");
 * assert.equal(subjectToken("order.7 *"), "order%2E7%20%2A");
 * assert.equal(decodeURIComponent(subjectToken("order.7 *")), "order.7 *");
 * ```
 */
export function subjectToken(value: string): string {
  let out = "";
  for (const char of value) {
    if (PLAIN.test(char)) {
      out += char;
      continue;
    }
    for (const byte of utf8.encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

type Part = { readonly text: string } | { readonly field: SubjectField };

function parse(template: string): Part[][] {
  const tokens = template.split(".");
  return tokens.map((token, index) => {
    if (token.length === 0) {
      throw new TypeError(
        `subject template ${JSON.stringify(template)} has an empty token ` +
          `(at token ${index + 1}): subjects are dot-separated, non-empty tokens`,
      );
    }
    const parts: Part[] = [];
    let rest = token;
    while (rest.length > 0) {
      const open = rest.indexOf("{");
      const close = rest.indexOf("}");
      if (open === -1 && close === -1) {
        parts.push({ text: rest });
        break;
      }
      if (close !== -1 && (open === -1 || close < open)) {
        throw new TypeError(`subject template ${JSON.stringify(template)} has a "}" without its "{"`);
      }
      if (open > 0) parts.push({ text: rest.slice(0, open) });
      const end = rest.indexOf("}", open);
      if (end === -1) {
        throw new TypeError(`subject template ${JSON.stringify(template)} has a "{" without its "}"`);
      }
      const name = rest.slice(open + 1, end);
      if (!(SUBJECT_FIELDS as readonly string[]).includes(name)) {
        throw new TypeError(
          `subject template ${JSON.stringify(template)} names an unknown field {${name}}; ` +
            `known fields: ${SUBJECT_FIELDS.map((field) => `{${field}}`).join(", ")}`,
        );
      }
      parts.push({ field: name as SubjectField });
      rest = rest.slice(end + 1);
    }
    for (const part of parts) {
      if ("text" in part && /[\s*>]/.test(part.text)) {
        throw new TypeError(
          `subject template ${JSON.stringify(template)} has ${JSON.stringify(part.text)}: ` +
            "a subject to publish to holds no whitespace and no wildcard (* or >)",
        );
      }
    }
    return parts;
  });
}

/**
 * Checks a subject template and compiles it.
 *
 * @param template dot-separated tokens; `{stream}` and `{type}` stand for the record's fields
 * @returns the compiled template
 * @throws {TypeError} for a template that is not a string, names an unknown field, has an
 *   empty token, an unbalanced brace, whitespace or a wildcard
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { subjectTemplate } from "@eventfold/eventfold/nats";
 * const subject = subjectTemplate("events.{stream}.{type}");
 * assert.equal(subject.filter, "events.*.*");
 * assert.equal(subject.render({ stream: "order.7", type: "order:placed" }), "events.order%2E7.order:placed");
 * assert.throws(() => subjectTemplate("events.{kind}"), TypeError);
 * ```
 */
export function subjectTemplate(template: string): SubjectTemplate {
  if (typeof template !== "string" || template.length === 0) {
    throw new TypeError(
      `subject must be a non-empty template such as "events.{type}", got ${JSON.stringify(template)}`,
    );
  }
  const tokens = parse(template);
  const fields = [
    ...new Set(tokens.flat().flatMap((part) => "field" in part ? [part.field] : [])),
  ];
  const filter = tokens.map((parts) =>
    parts.some((part) => "field" in part) ? "*" : (parts[0] as { text: string }).text
  )
    .join(".");
  return {
    template,
    fields,
    filter,
    render: (record) =>
      tokens.map((parts) =>
        parts.map((part) => "text" in part ? part.text : subjectToken(record[part.field])).join("")
      ).join("."),
  };
}

/**
 * Whether every subject matching `filter` is taken by the stream subject `pattern`
 * (`*` one token, `>` the rest).
 *
 * @param pattern a subject of a JetStream stream's configuration
 * @param filter a template's filter
 * @returns true when `pattern` covers `filter`
 */
export function covers(pattern: string, filter: string): boolean {
  const want = pattern.split(".");
  const have = filter.split(".");
  for (let i = 0; i < want.length; i++) {
    if (want[i] === ">") return have.length > i;
    if (i >= have.length) return false;
    if (want[i] !== "*" && want[i] !== have[i]) return false;
  }
  return want.length === have.length;
}
