/**
 * The `everything` fixture's data: the texts, content blocks, resources, elicitation
 * forms and schemas the conformance suite's server scenarios expect, by the suite's own
 * names. everything.ts registers them; nothing here runs a handler.
 */
import type { CallToolResult, ContentBlock, ElicitRequestFormParams } from "@modelcontextprotocol/server";

// Frozen: shared by every instance, so nothing may change it. JSON Schemas handed to
// `fromJsonSchema` are cloned (once per isolate: everything.ts shares the result), because
// the workerd validator (@cfworker/json-schema) annotates a schema in place when it compiles it.

/** 1x1 red PNG and a minimal WAV, as the suite expects them. */
export const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
export const WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

export const textBlock = (text: string) => ({ type: "text" as const, text });
export const imageBlock = { type: "image" as const, data: PNG, mimeType: "image/png" };
export const embedded = (uri: string, mimeType: string, text: string) => ({
  type: "resource" as const,
  resource: { uri, mimeType, text },
});
export const result = (text: string): CallToolResult => ({ content: [textBlock(text)] });

/** Tools that take no input and always answer the same content. */
export const STATIC_TOOLS: ReadonlyArray<{ name: string; description: string; content: ContentBlock[] }> = deepFreeze([
  {
    name: "test_simple_text",
    description: "Tests simple text content response",
    content: [textBlock("This is a simple text response for testing.")],
  },
  { name: "test_image_content", description: "Tests image content response", content: [imageBlock] },
  {
    name: "test_audio_content",
    description: "Tests audio content response",
    content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }],
  },
  {
    name: "test_embedded_resource",
    description: "Tests embedded resource content response",
    content: [embedded("test://embedded-resource", "text/plain", "This is an embedded resource content.")],
  },
  {
    name: "test_multiple_content_types",
    description: "Tests response with multiple content types (text, image, resource)",
    content: [
      textBlock("Multiple content types test:"),
      imageBlock,
      embedded("test://mixed-content-resource", "application/json", JSON.stringify({ test: "data", value: 123 })),
    ],
  },
  {
    // SEP-2575 diagnostic: a plain result, so the response stream carries no top-level requests.
    name: "test_streaming_elicitation",
    description: "Answers with result frames only (no server-to-client requests on the stream)",
    content: [textBlock("stream observed: result frames only")],
  },
]);

/** Static resources: text, binary, and one to subscribe to. */
export const STATIC_RESOURCES = deepFreeze([
  {
    name: "static-text",
    uri: "test://static-text",
    title: "Static Text Resource",
    mimeType: "text/plain",
    body: { text: "This is the content of the static text resource." },
  },
  {
    name: "static-binary",
    uri: "test://static-binary",
    title: "Static Binary Resource",
    mimeType: "image/png",
    body: { blob: PNG },
  },
  {
    name: "watched-resource",
    uri: "test://watched-resource",
    title: "Watched Resource",
    mimeType: "text/plain",
    body: { text: "Watched resource content" },
  },
]);

/** Elicitation forms the 2025 elicitation scenarios inspect field by field. */
export const FORMS = deepFreeze({
  /** SEP-1034: a default for every primitive type. */
  defaults: {
    type: "object",
    properties: {
      name: { type: "string", description: "User name", default: "John Doe" },
      age: { type: "integer", description: "User age", default: 30 },
      score: { type: "number", description: "User score", default: 95.5 },
      status: {
        type: "string",
        description: "User status",
        enum: ["active", "inactive", "pending"],
        default: "active",
      },
      verified: { type: "boolean", description: "Verification status", default: true },
    },
    required: [],
  },
  /** SEP-1330: the five enum shapes (untitled/titled/legacy single-select, untitled/titled multi-select). */
  enums: {
    type: "object",
    properties: {
      untitledSingle: { type: "string", description: "Select one option", enum: ["option1", "option2", "option3"] },
      titledSingle: {
        type: "string",
        description: "Select one option with titles",
        oneOf: [
          { const: "value1", title: "First Option" },
          { const: "value2", title: "Second Option" },
          { const: "value3", title: "Third Option" },
        ],
      },
      legacyEnum: {
        type: "string",
        description: "Select one option (legacy)",
        enum: ["opt1", "opt2", "opt3"],
        enumNames: ["Option One", "Option Two", "Option Three"],
      },
      untitledMulti: {
        type: "array",
        description: "Select multiple options",
        minItems: 1,
        maxItems: 3,
        items: { type: "string", enum: ["option1", "option2", "option3"] },
      },
      titledMulti: {
        type: "array",
        description: "Select multiple options with titles",
        minItems: 1,
        maxItems: 3,
        items: {
          anyOf: [
            { const: "value1", title: "First Choice" },
            { const: "value2", title: "Second Choice" },
            { const: "value3", title: "Third Choice" },
          ],
        },
      },
    },
    required: [],
  },
  response: {
    type: "object",
    properties: { response: { type: "string", description: "User's response" } },
    required: ["response"],
  },
  name: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
  color: { type: "object", properties: { color: { type: "string" } }, required: ["color"] },
  confirm: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
  context: { type: "object", properties: { context: { type: "string" } }, required: ["context"] },
} satisfies Record<string, ElicitRequestFormParams["requestedSchema"]>);

/** SEP-1613 / SEP-2106: 2020-12 keywords that must survive `tools/list` verbatim. */
export const JSON_SCHEMA_2020_12 = deepFreeze({
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  $defs: {
    address: {
      $anchor: "addressDef",
      type: "object",
      properties: { street: { type: "string" }, city: { type: "string" } },
    },
  },
  properties: {
    name: { type: "string" },
    address: { $ref: "#/$defs/address" },
    contactMethod: { type: "string", enum: ["phone", "email"] },
    phone: { type: "string" },
    email: { type: "string" },
  },
  allOf: [{ anyOf: [{ required: ["phone"] }, { required: ["email"] }] }],
  if: { properties: { contactMethod: { const: "phone" } }, required: ["contactMethod"] },
  then: { required: ["phone"] },
  else: { required: ["email"] },
  additionalProperties: false,
});

/** SEP-2243: `region` is mirrored into an `Mcp-Param-Region` header (an annotation JSON Schema types do not know). */
export const X_MCP_HEADER_SCHEMA = deepFreeze({
  type: "object" as const,
  properties: {
    region: { type: "string" as const, description: "mirrored into Mcp-Param-Region", "x-mcp-header": "Region" },
    level: { type: "integer" as const, description: "not mirrored" },
  },
});

export const COMPLETIONS = deepFreeze(["test", "testing", "tested", "paris", "park", "party"]);
export const complete = (value: string) => COMPLETIONS.filter((word) => word.startsWith(value ?? ""));

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
