// Traces end to end: one `wrangler dev` exporting to an OTLP/HTTP receiver on loopback
// (./otlp-receiver.ts decodes every export with opentelemetry-proto's definitions), real
// SDK clients on both lanes, and a real upstream (the SDK's 2026 server) that records the
// trace context SMCP passes on. Checks parent/child links, the MCP attributes, and that no
// argument, result, key or secret reaches the exported data.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type http from "node:http";
import { McpServer } from "@modelcontextprotocol/server";
import type { FetchLike } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ADMIN_TOKEN, Platform, textOf } from "./platform";
import { OtlpReceiver } from "./otlp-receiver";
import { UPSTREAM_KEY, startUpstream, stopUpstream, urlOf } from "./upstream-server";

const ARGUMENT = `argument-${randomBytes(6).toString("hex")}`;
const COLLECTOR_KEY = `collector-${randomBytes(6).toString("hex")}`;
const SERVER = 2;
const CLIENT = 3;

const receiver = new OtlpReceiver();
let platform: Platform;
let upstream: http.Server;
let tenant: { tenant: string; key: string };
/** What the upstream saw: the `traceparent` header of each POST, and `_meta.traceparent` of each call of its tool. */
const upstreamHeaders: string[] = [];
const upstreamMeta: string[] = [];

function traceUpstream(): McpServer {
  const server = new McpServer({ name: "trace-upstream", version: "1.0.0" });
  server.registerTool("echo", { description: "Echoes its text", inputSchema: z.object({ text: z.string() }) }, async ({ text }, ctx) => {
    upstreamMeta.push(String(ctx.mcpReq._meta?.traceparent ?? ""));
    return { content: [{ type: "text", text: `echo: ${text}` }] };
  });
  return server;
}

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const context = () => ({ traceId: hex(16), spanId: hex(8) });
const traceparent = (c: { traceId: string; spanId: string }) => `00-${c.traceId}-${c.spanId}-01`;
/** A fetch that sends `value` as the HTTP `traceparent` of every request. */
const withHeader =
  (value: string): FetchLike =>
  (url, init) => {
    const headers = new Headers(init?.headers);
    headers.set("traceparent", value);
    return fetch(url, { ...init, headers });
  };

beforeAll(async () => {
  const endpoint = await receiver.start();
  upstream = await startUpstream(0, { era: "2026", createServer: traceUpstream, onRequest: (r) => void (r.method === "POST" && upstreamHeaders.push(r.headers.get("traceparent") ?? "")) });
  platform = new Platform({ vars: { SMCP_OTLP_ENDPOINT: endpoint, SMCP_OTLP_HEADERS: `x-collector-key=${COLLECTOR_KEY}` } });
  await platform.start();
  tenant = await platform.tenant("tr-acme");
  const secret = await fetch(`${platform.url}/admin/v1/tenants/${tenant.tenant}/servers/up/secrets/UPSTREAM_KEY`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: UPSTREAM_KEY });
  expect(secret.status, await secret.text()).toBeLessThan(300);
  await platform.admin().call("PUT", `/tenants/${tenant.tenant}/servers/up/upstream`, { url: urlOf(upstream), headers: { "X-Upstream-Key": "${secret:UPSTREAM_KEY}" } });
  // A deployed SDK server (the workerd tier's raw stdio fixture) whose `traceparent` tool answers the context it was sent.
  const code = readFileSync(new URL("../../workers/smcp/test/fixtures/raw-sdk-server.js", import.meta.url), "utf8");
  await platform.admin().call("PUT", `/tenants/${tenant.tenant}/servers/raw/deployments`, { format: "sdk-bundle/1", kind: "stdio", sdk: "unknown", code, builtins: [], root: "/app", argv: [], env: {} });
}, 90_000);

afterAll(async () => {
  await platform?.dispose();
  if (upstream) await stopUpstream(upstream);
  await receiver.stop();
});

describe("traces", () => {
  it("traces:context traces:propagate traces:attributes — session lane: the HTTP traceparent is the parent of SMCP's SERVER span, whose CLIENT span to the upstream is what the upstream sees", async () => {
    const caller = context();
    const { client, transport } = await platform.connect(tenant.tenant, "up", tenant.key, { fetch: withHeader(traceparent(caller)) });
    const result = await client.callTool({ name: "echo", arguments: { text: ARGUMENT } });
    expect(textOf(result)).toBe(`echo: ${ARGUMENT}`);

    const server = await receiver.span((s) => s.traceId === caller.traceId && s.kind === SERVER && s.name === "tools/call echo", "the SERVER span of the call");
    expect(server.parentSpanId).toBe(caller.spanId);
    expect(server.links).toEqual([]);
    expect(server.attributes).toMatchObject({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": "echo",
      "gen_ai.operation.name": "execute_tool",
      "mcp.session.id": transport.sessionId,
      "mcp.protocol.version": "2025-11-25",
      "jsonrpc.request.id": expect.any(String),
      "smcp.tenant": tenant.tenant,
      "smcp.server": "up",
      "smcp.lane": "session",
      "http.response.status_code": 200,
    });
    expect(server.attributes["error.type"]).toBeUndefined();
    expect(BigInt(server.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(server.startTimeUnixNano));

    const call = await receiver.span((s) => s.parentSpanId === server.spanId && s.kind === CLIENT, "the CLIENT span of the upstream call");
    expect(call).toMatchObject({ traceId: caller.traceId, name: "tools/call echo" });
    expect(call.attributes).toMatchObject({ "mcp.method.name": "tools/call", "gen_ai.tool.name": "echo", "server.address": "127.0.0.1", "jsonrpc.request.id": expect.any(String) });
    const passedOn = traceparent({ traceId: caller.traceId, spanId: call.spanId });
    expect(upstreamHeaders).toContain(passedOn);
    expect(upstreamMeta).toContain(passedOn);
    // The handshake of the same session joined the caller's trace too.
    await receiver.span((s) => s.traceId === caller.traceId && s.name === "initialize" && s.parentSpanId === caller.spanId, "the initialize span");
    await client.close();
  }, 60_000);

  it("traces:context traces:propagate traces:attributes — stateless lane: params._meta.traceparent is the parent (the HTTP one a link); the upstream gets SMCP's CLIENT span in its header and _meta", async () => {
    const caller = context();
    const http = context();
    const { client } = await platform.connect(tenant.tenant, "up", tenant.key, { lane: "stateless", fetch: withHeader(traceparent(http)) });
    const result = await client.callTool({ name: "echo", arguments: { text: ARGUMENT }, _meta: { traceparent: traceparent(caller) } });
    expect(textOf(result)).toBe(`echo: ${ARGUMENT}`);

    const server = await receiver.span((s) => s.traceId === caller.traceId && s.kind === SERVER, "the SERVER span of the 2026 call");
    expect(server.name).toBe("tools/call echo");
    expect(server.parentSpanId).toBe(caller.spanId);
    expect(server.links).toEqual([http]);
    expect(server.attributes).toMatchObject({ "mcp.method.name": "tools/call", "gen_ai.tool.name": "echo", "mcp.protocol.version": "2026-07-28", "smcp.lane": "stateless", "smcp.tenant": tenant.tenant });
    expect(server.attributes["mcp.session.id"]).toBeUndefined();

    const call = await receiver.span((s) => s.parentSpanId === server.spanId && s.kind === CLIENT, "the CLIENT span of the pass-through");
    const passedOn = traceparent({ traceId: caller.traceId, spanId: call.spanId });
    expect(upstreamHeaders).toContain(passedOn);
    expect(upstreamMeta).toContain(passedOn);
    await client.close();
  }, 60_000);

  it("traces:propagate traces:context — a deployed server's instance is sent SMCP's CLIENT span, child of the SERVER span, on both lanes", async () => {
    for (const lane of ["session", "stateless"] as const) {
      const caller = context();
      const { client } = await platform.connect(tenant.tenant, "raw", tenant.key, { lane, fetch: withHeader(traceparent(caller)) });
      const seen = textOf(await client.callTool({ name: "traceparent", arguments: {} }));
      const server = await receiver.span((s) => s.traceId === caller.traceId && s.kind === SERVER && s.name === "tools/call traceparent", `the SERVER span (${lane})`);
      expect(server.parentSpanId).toBe(caller.spanId);
      expect(server.attributes["smcp.lane"]).toBe(lane);
      const call = await receiver.span((s) => s.parentSpanId === server.spanId && s.kind === CLIENT, `the CLIENT span to the sandbox (${lane})`);
      expect(call).toMatchObject({ traceId: caller.traceId, name: "tools/call traceparent" });
      expect(call.attributes).toMatchObject({ "smcp.server": "raw", "gen_ai.tool.name": "traceparent" });
      expect(seen, lane).toBe(traceparent({ traceId: caller.traceId, spanId: call.spanId }));
      await client.close();
    }
  }, 60_000);

  it("traces:attributes — a failed call has error.type and an error status; a malformed traceparent starts a trace of its own", async () => {
    const { client } = await platform.connect(tenant.tenant, "notes", tenant.key, { fetch: withHeader("00-not-a-trace-01") });
    const outcome = await client.callTool({ name: "no-such-tool", arguments: { text: ARGUMENT } }).then(
      (r) => r,
      (e: unknown) => e,
    );
    expect(outcome).toBeDefined();
    const failed = await receiver.span((s) => s.name === "tools/call no-such-tool" && s.attributes["smcp.server"] === "notes", "the failed call's span");
    expect(failed.attributes["error.type"]).toMatch(/^(-32602|tool_error)$/);
    expect(failed.status.code).toBe(2);
    expect(failed.parentSpanId).toBe("");
    expect(failed.traceId).toMatch(/^[0-9a-f]{32}$/);
    await client.close();
  }, 60_000);

  it("traces:otlp traces:attributes — exports are OTLP/HTTP JSON to /v1/traces with the configured headers, naming the service, and carry no argument, result, key or secret", async () => {
    // Every test above has had its spans decoded by the receiver with the official definitions.
    expect(receiver.errors).toEqual([]);
    expect(receiver.requests.length).toBeGreaterThan(0);
    for (const r of receiver.requests) {
      expect(r.path).toBe("/v1/traces");
      expect(r.contentType).toBe("application/json");
      expect(r.headers["x-collector-key"]).toBe(COLLECTOR_KEY);
    }
    expect(receiver.resource).toMatchObject({ "service.name": "smcp" });
    const exported = receiver.bodies.join("\n");
    for (const never of [ARGUMENT, UPSTREAM_KEY, tenant.key, COLLECTOR_KEY, ADMIN_TOKEN]) expect(exported).not.toContain(never);
  });
});
