/**
 * The built-in servers, by the name they have in `/mcp/{tenant}/{server}`.
 * Adding a server is one module plus one line here.
 */
import { everything } from "./everything";
import { notes } from "./notes";
import { strictToolCalls } from "./strict-tool-calls";
import type { ServerModule } from "./types";

/** Every built-in server answers unknown tools and bad arguments with -32602 (strict-tool-calls.ts). */
const strict = (module: ServerModule): ServerModule => ({ ...module, create: (ctx) => strictToolCalls(module.create(ctx)) });

export const builtInServers: ReadonlyMap<string, ServerModule> = new Map(
  [everything, notes].map((module) => [module.name, strict(module)]),
);
