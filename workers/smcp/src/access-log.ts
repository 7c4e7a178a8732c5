/**
 * The Worker's access log: one JSON line per HTTP request (`msg: "request"`), with the
 * tenant, server, lane, JSON-RPC method and tool, status and duration.
 *
 * By default (`SMCP_ACCESS_LOG=errors`) only responses of status 400 or more get a line.
 * A deployed Worker with observability on already records every invocation (URL, status,
 * duration, CPU time), every log line is stored and billed per line, and what this line
 * adds for a successful request is counted anyway: in the per-minute metrics (method,
 * tool, latency buckets) and, on the session lane, in the session's request log. Writing
 * it for every request cost the session lane's static `tools/call` about a fifth of its
 * throughput in `pnpm bench` (README, "Access log" under Decisions). `all` writes every request's line
 * (`pnpm dev` sets it: its console shows each request).
 */
import { platformConfig } from "@smcp/runtime";
import type { Env } from "./env";
import { logEvent } from "./log";
import type { RequestContext } from "./request-context";

export function logRequest(env: Env, request: Request, response: Response, rc: RequestContext, path: string, started: number): void {
  if (response.status < 400 && platformConfig(env).SMCP_ACCESS_LOG !== "all") return;
  logEvent("info", "request", {
    method: request.method,
    // MCP paths are named by tenant and server; other paths are bounded because a stranger picks them.
    path: path.startsWith("/mcp/") ? undefined : path.slice(0, 200),
    tenant: rc.tenant,
    server: rc.server,
    session: rc.session ?? response.headers.get("mcp-session-id") ?? undefined,
    lane: rc.lane,
    rpcMethod: rc.rpcMethod,
    tool: rc.tool,
    status: response.status,
    durationMs: Date.now() - started,
    traceId: rc.trace.traceId,
  });
}
