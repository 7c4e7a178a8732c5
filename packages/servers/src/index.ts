export { builtInServers } from "./registry";
export type { ChangeNotifier, ServerContext, ServerModule, StoredRecord, ToolDataStore } from "./types";
