export { builtInServers } from "./registry";
export type { ChangeNotifier, ServerContext, ServerModule, StoredRecord, TaskToolPolicy, ToolDataStore } from "./types";
export { unknownToolMessage } from "./strict-tool-calls";
