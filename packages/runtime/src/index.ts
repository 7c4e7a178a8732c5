export { readJsonBody, readBoundedUtf8, looksLikeJsonRpc, type BoundedText, type ParsedBody } from "./body";
export { joinBytes, readBoundedBytes } from "./bounded-stream";
export { isEventStream, whenBodyEnds } from "./body-end";
export { platformConfig, type PlatformConfig, type PlatformVariables } from "./config";
export { JsonRpcCode, SESSION_NOT_FOUND_MESSAGE, WireError, wire, jsonRpcErrorResponse, jsonErrorResponse, jsonResponse, toWireError } from "./errors";
export {
  EVENT_LOG_SCHEMA,
  EVENT_LOG_TABLE,
  SqliteEventLog,
  formatEventId,
  parseEventId,
  type EventLogLimits,
  type PrunedMark,
  type ClientInfo,
  type ResumeCheck,
  type StoredEvent,
} from "./event-log";
export {
  LEGACY_INCARNATION,
  isValidSegment,
  isWellFormedSessionId,
  newIncarnation,
  newSessionId,
  randomToken,
  listenBusObjectName,
  sessionObjectName,
  shownText,
  tenantIncarnationName,
} from "./names";
export { isOriginAllowed } from "./origin";
export { IPV4, LOOPBACK_HOSTS, isLoopbackHost, reachesLoopback } from "./loopback";
export { SESSION_REVISIONS, SERVED_REVISIONS, STATELESS_REVISION, LATEST_SESSION_REVISION, batchesAllowed } from "./protocol";
export { sha256, sha256Hex, secretsEqual, bearerToken } from "./secrets";
export { base64, base64url, hex, utf8Length } from "./encoding";
export { AUDIT_GENESIS, auditHash, verifyAuditChain, verifyAuditPage, type AuditEntry, type AuditFields, type ChainCursor, type ChainStep, type ChainVerdict } from "./audit-chain";
export { TokenBucket } from "./token-bucket";
export { BoundedCache, CACHE_ENTRY_OVERHEAD_BYTES, stringBytes, type BoundedCacheOptions } from "./bounded-cache";
export {
  decodeBase64,
  encodeBase64,
  loadKeyring,
  openSecret,
  sealSecret,
  secretBinding,
  secretKeyId,
  type KeyringResult,
  type OpenResult,
  type SealedSecret,
  type SecretKey,
  type SecretKeyring,
} from "./secret-box";
export { redactSecrets, redactionMark, type NamedSecret } from "./redact";
