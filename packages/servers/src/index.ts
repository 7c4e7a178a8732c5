export { builtInServers } from "./registry";
export type { ServerContext, ServerModule, StoredRecord, ToolDataStore } from "./types";
