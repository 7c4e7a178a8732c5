/**
 * The stateless lane (2026-07-28), served by the SDK's `createMcpHandler` right in
 * the routing Worker: a modern request carries everything it needs, so it needs no
 * session object and no extra Durable Object hop. Tool data still lives in the
 * tenant's Durable Object, reached through the `ToolDataStore` the factory is given.
 * One handler per server module per isolate; the tenant travels in `authInfo`.
 */
import { createMcpHandler, type McpHttpHandler } from "@modelcontextprotocol/server";
import type { ServerModule } from "@smcp/servers";
import { tenantStub, type Env } from "../env";
import { TenantToolStore } from "../tool-store";
import type { Trace } from "../trace";
import { authInfoOf, incarnationOf, type Principal } from "./principal";

/** Keyed by module object: a deployed server's name is unique only within its tenant. */
const handlers = new WeakMap<ServerModule, McpHttpHandler>();

interface LaneContext {
  principal: Principal;
  env: Env;
}

function handlerFor(module: ServerModule, maxRequestBodySize: number): McpHttpHandler {
  let handler = handlers.get(module);
  if (!handler) {
    handler = createMcpHandler(
      (ctx) => {
        const lane = ctx.authInfo?.extra?.lane as LaneContext;
        const { tenant, server } = lane.principal;
        return module.create({
          tenant,
          server,
          store: new TenantToolStore(tenantStub(lane.env, tenant), server, incarnationOf(lane.principal)),
          notify: handler!.notify,
        });
      },
      { legacy: "reject", maxRequestBodySize },
    );
    handlers.set(module, handler);
  }
  return handler;
}

export function serveStateless(
  request: Request,
  parsedBody: unknown,
  module: ServerModule,
  principal: Principal,
  env: Env,
  maxRequestBodySize: number,
  trace: Trace,
): Promise<Response> {
  const authInfo = authInfoOf(principal, { traceparent: trace.traceparent });
  const lane: LaneContext = { principal, env };
  return handlerFor(module, maxRequestBodySize).fetch(request, {
    parsedBody,
    authInfo: { ...authInfo, extra: { ...authInfo.extra, lane } },
  });
}
