/**
 * A built-in server's zod schemas convert to JSON Schema once per isolate
 * (packages/servers/src/json-schema-once.ts): two servers built from the same module, as the
 * stateless lane builds one per request, list the same schemas as before, and the second
 * build converts nothing.
 */
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { convertedOnce } from "../../packages/servers/src/json-schema-once";

const shape = () => z.object({ title: z.string().min(1).max(200), limit: z.number().int().optional() });

async function listedSchema(schema: z.ZodType) {
  const server = new McpServer({ name: "t", version: "1" });
  server.registerTool("add", { inputSchema: schema }, async () => ({ content: [] }));
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "c", version: "1" });
  await client.connect(b);
  const { tools } = await client.listTools();
  await client.close();
  return tools[0]!.inputSchema;
}

describe("JSON Schema of built-in tools", () => {
  it("servers:module — a tool's schema is converted once, and every server lists what zod would have given it", async () => {
    const schema = convertedOnce(shape());
    const convert = (schema["~standard"] as unknown as { jsonSchema: { input: (o?: object) => object } }).jsonSchema;
    const first = convert.input({ target: "draft-2020-12" });
    expect(convert.input({ target: "draft-2020-12" })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(convert.input({ target: "draft-07" })).not.toBe(first);

    const plain = await listedSchema(shape());
    expect(await listedSchema(schema)).toEqual(plain);
    expect(await listedSchema(schema)).toEqual(plain);
  });

  it("servers:module — a conversion with library options is not shared", () => {
    const schema = convertedOnce(shape());
    const convert = (schema["~standard"] as unknown as { jsonSchema: { input: (o?: object) => object } }).jsonSchema;
    const options = { target: "draft-2020-12", libraryOptions: { unrepresentable: "any" } };
    expect(convert.input(options)).not.toBe(convert.input(options));
  });
});
