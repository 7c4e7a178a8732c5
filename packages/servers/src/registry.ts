/**
 * The built-in servers, by the name they have in `/mcp/{tenant}/{server}`.
 * Adding a server is one module plus one line here.
 */
import { everything } from "./everything";
import { notes } from "./notes";
import type { ServerModule } from "./types";

export const builtInServers: ReadonlyMap<string, ServerModule> = new Map(
  [everything, notes].map((module) => [module.name, module]),
);
