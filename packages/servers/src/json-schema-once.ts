/**
 * A zod schema whose JSON Schema is converted once per isolate instead of on every ask.
 *
 * The SDK converts a tool's zod schema to JSON Schema through `~standard.jsonSchema` once per
 * server object: for `tools/list`, and on the 2026-07-28 lane before every `tools/call` (its
 * `Mcp-Param-*` header check reads the tool's input schema before dispatch). The stateless lane
 * builds a server per request, and zod converts from scratch each time: about 0.11 ms of a
 * stateless `add_note` (bench/profile.mjs). The built-in servers' schemas are module constants,
 * so each conversion happens once. The result is frozen: every server shares it, and a reader
 * that tried to change it would throw instead of changing it for the next request.
 */
import type { z } from "zod";

type JsonSchemaOptions = { target?: string; libraryOptions?: Record<string, unknown> };
type Convert = (options?: JsonSchemaOptions) => Record<string, unknown>;

export function convertedOnce<T extends z.ZodType>(schema: T): T {
  const standard = schema["~standard"] as T["~standard"] & { jsonSchema?: { input: Convert; output: Convert } };
  const jsonSchema = standard.jsonSchema;
  if (!jsonSchema) return schema;
  const once = (convert: Convert): Convert => {
    const byTarget = new Map<string, Record<string, unknown>>();
    return (options) => {
      // Options beyond the target change the output; those calls are not shared.
      if (options?.libraryOptions !== undefined) return convert(options);
      const key = options?.target ?? "";
      let converted = byTarget.get(key);
      if (converted === undefined) {
        converted = deepFreeze(convert(options));
        byTarget.set(key, converted);
      }
      return converted;
    };
  };
  // zod stores an assigned `~standard` as the schema's own property (its setter), read by every later ask.
  (schema as { "~standard": unknown })["~standard"] = { ...standard, jsonSchema: { input: once(jsonSchema.input), output: once(jsonSchema.output) } };
  return schema;
}

function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** `convertedOnce` for every schema of a record of them. */
export function convertedEach<R extends Record<string, z.ZodType>>(schemas: R): R {
  for (const schema of Object.values(schemas)) convertedOnce(schema);
  return schemas;
}
