/**
 * A deployed server's JSON Schemas are compiled and evaluated in its sandbox, never
 * in a platform isolate (issue 10, item 4). The harness checks a tool's arguments
 * against its `inputSchema` before the handler runs (the platform answers -32602 with
 * the validator's message) and its `structuredContent` against its `outputSchema`.
 *
 * Local workerd runs the Worker and every sandbox on one thread, so where the work
 * runs cannot be seen from timing or CPU. What proves the origin: the tenant's own
 * module wraps the validator of its isolate (`json-schema.js`) and counts the
 * validations it sees. A refusal the platform made would never pass through it.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, ORIGIN, callTool, mcpUrl, openSession, provisionTenant, request, responseMessage, statelessFetch, statelessTool, textOf } from "./helpers";

function deploy(tenant: string, server: string, source: string): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/admin/v1/tenants/${tenant}/servers/${server}/deployments`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/javascript" },
    body: source,
  });
}

async function deployStatus(tenant: string, server: string, source: string): Promise<{ status: number; body: any }> {
  const res = await deploy(tenant, server, source);
  return { status: res.status, body: await res.json() };
}

/** A module whose `run` tool takes `{ n: number <= 5 }`; `seen` answers how many `run` arguments the sandbox's validator checked. */
const COUNTING = `
import { Validator } from "./json-schema.js";
let checked = 0;
const validate = Validator.prototype.validate;
Validator.prototype.validate = function (instance) {
  if (this.schema.title === "run-args") checked++;
  return validate.call(this, instance);
};
export default {
  tools: [
    {
      name: "run",
      inputSchema: { title: "run-args", type: "object", properties: { n: { type: "number", maximum: 5 } }, required: ["n"] },
      handler: (args) => "ran with " + args.n,
    },
    { name: "seen", inputSchema: { type: "object" }, handler: () => String(checked) },
  ],
};`;

describe("validation in the sandbox", () => {
  it("untrusted:messages — arguments that fail inputSchema are refused by the sandbox's validator (-32602 with its message), on both lanes", async () => {
    const t = await provisionTenant({ prefix: "val", servers: [] });
    const deployed = await deployStatus(t.tenant, "count", COUNTING);
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    const session = await openSession(mcpUrl(t.tenant, "count"), t.key);

    const refused = await request(session, "tools/call", { name: "run", arguments: { n: "five" } });
    expect(refused.result).toBeUndefined();
    expect(refused.error.code).toBe(-32602);
    // @cfworker/json-schema's wording, in the SDK's "location: error" format.
    expect(refused.error.message).toBe(
      'Input validation error: Invalid arguments for tool run: #: Property "n" does not match schema.; #/n: Instance type "string" is invalid. Expected "number".',
    );
    const tooBig = await request(session, "tools/call", { name: "run", arguments: { n: 9 } });
    expect(tooBig.error.code).toBe(-32602);
    expect(tooBig.error.message).toMatch(/^Input validation error: Invalid arguments for tool run: #: Property "n" does not match schema\.; #\/n: 9 is greater than 5\./);
    expect(textOf(await callTool(session, "run", { n: 3 }))).toBe("ran with 3");
    // The sandbox's own validator saw all three calls, the two refused ones included.
    expect(textOf(await callTool(session, "seen"))).toBe("3");

    const stateless = await statelessFetch(mcpUrl(t.tenant, "count"), t.key, "tools/call", { name: "run", arguments: {} });
    const message = await responseMessage(stateless);
    expect(message.error.code).toBe(-32602);
    expect(message.error.message).toMatch(/^Input validation error: Invalid arguments for tool run: #: Instance does not have required property "n"\./);
  });

  it("untrusted:messages — structuredContent that fails outputSchema becomes a tool error, checked in the sandbox", async () => {
    const t = await provisionTenant({ prefix: "out", servers: [] });
    const source = `export default { tools: [{
      name: "measure",
      inputSchema: { type: "object", properties: { bad: { type: "boolean" }, none: { type: "boolean" } } },
      outputSchema: { type: "object", properties: { value: { type: "number" } }, required: ["value"] },
      handler: (args) => (args.none ? "plain text" : { value: args.bad ? "many" : 42 }),
    }] };`;
    expect((await deployStatus(t.tenant, "measure", source)).status).toBe(201);
    const url = mcpUrl(t.tenant, "measure");
    const session = await openSession(url, t.key);

    expect((await callTool(session, "measure")).structuredContent).toEqual({ value: 42 });
    const bad = await callTool(session, "measure", { bad: true });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toBe(
      'Output validation error: Invalid structured content for tool measure: #: Property "value" does not match schema.; #/value: Instance type "string" is invalid. Expected "number".',
    );
    const none = await statelessTool(url, t.key, "measure", { none: true });
    expect(none.isError).toBe(true);
    expect(textOf(none)).toBe("Output validation error: Tool measure has an output schema but no structured content was provided");
  });

  it("untrusted:messages — a deploy whose schema the sandbox cannot compile is refused with the sandbox's reason", async () => {
    const t = await provisionTenant({ prefix: "cmp", servers: [] });
    const withSchema = (key: "inputSchema" | "outputSchema", schema: unknown) =>
      `export default { tools: [{ name: "t", ${key}: ${JSON.stringify(schema)}, handler: () => ({}) }] };`;
    const dialect = await deployStatus(t.tenant, "d", withSchema("inputSchema", { $schema: "http://json-schema.org/draft-03/schema#", type: "object" }));
    expect(dialect.status).toBe(400);
    expect(dialect.body.error.message).toBe(
      "Deployment refused: the module's exports are wrong: tool t: inputSchema declares an unsupported JSON Schema dialect (http://json-schema.org/draft-03/schema); use 2020-12, 2019-09, draft-07, draft-06 or draft-04",
    );
    // Two subschemas claiming one $id cannot be told apart.
    const duplicate = { type: "object", properties: { a: { $id: "https://x.example/s" }, b: { $id: "https://x.example/s" } } };
    const output = await deployStatus(t.tenant, "o", withSchema("outputSchema", duplicate));
    expect(output.status).toBe(400);
    expect(output.body.error.message).toMatch(/tool t: outputSchema does not compile: Duplicate schema URI "https:\/\/x\.example\/s"/);
  });
});
