/** Which kind of server a module is, for the error kinds that are a server's own (metrics/error-kinds.ts). */
import { builtInServers, type ServerModule } from "@smcp/servers";
import { isUpstreamModule } from "../gateway/serving";
import type { ServerKind } from "./error-kinds";

export const serverKindOf = (server: string, module: ServerModule): ServerKind =>
  isUpstreamModule(module) ? "upstream" : builtInServers.has(server) ? "built-in" : "deployed";
