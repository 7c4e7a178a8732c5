export { readJsonBody, readBoundedUtf8, looksLikeJsonRpc, type BoundedText, type ParsedBody } from "./body";
export { platformConfig, type PlatformConfig, type PlatformVariables } from "./config";
export { JsonRpcCode, WireError, wire, jsonRpcErrorResponse, jsonErrorResponse, jsonResponse, toWireError } from "./errors";
export {
  EVENT_LOG_SCHEMA,
  SqliteEventLog,
  formatEventId,
  parseEventId,
  type EventLogLimits,
  type ClientInfo,
  type ResumeCheck,
  type StoredEvent,
} from "./event-log";
export { isValidSegment, isWellFormedSessionId, newSessionId, randomToken, sessionObjectName } from "./names";
export { isOriginAllowed } from "./origin";
export { SESSION_REVISIONS, LATEST_SESSION_REVISION, batchesAllowed } from "./protocol";
export { sha256Hex, secretsEqual, bearerToken } from "./secrets";
export { AUDIT_GENESIS, auditHash, verifyAuditChain, type AuditEntry, type AuditFields, type ChainVerdict } from "./audit-chain";
export { TokenBucket } from "./token-bucket";
