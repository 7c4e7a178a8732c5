/**
 * What the routing Worker learns about a request while serving it, for the one
 * structured log line it writes at the end (tenant, server, session, JSON-RPC
 * method, status, duration, trace id). Handlers fill in what they know.
 */
import type { Trace } from "./trace";

export interface RequestContext {
  trace: Trace;
  tenant?: string;
  server?: string;
  session?: string;
  rpcMethod?: string;
  tool?: string;
  lane?: "session" | "stateless";
}
