/**
 * Errors that go over the wire, in one place.
 *
 * Two families: `WireError` carries an HTTP status and, for the MCP endpoint, a
 * JSON-RPC code; everything else is internal and becomes a generic 500 / -32603 whose
 * detail stays in the log. Call sites throw or return a `WireError`; only this module
 * builds response bodies, so no `{ jsonrpc, error }` literal lives anywhere else.
 */

export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Transport-level errors the SDK also uses (`-32000`). */
  ServerError: -32000,
  /** Session not found, as the SDK's transport reports it. */
  SessionNotFound: -32001,
  /** 2026-07-28: the requested protocol revision is not served (`data.supported` lists what is). */
  UnsupportedProtocolVersion: -32022,
} as const;

export interface WireErrorInit {
  status: number;
  /** Stable machine-readable code for the admin API and for logs. */
  code: string;
  message: string;
  /** JSON-RPC error code for the MCP endpoint; defaults from the status. */
  rpcCode?: number;
  headers?: Record<string, string>;
  data?: unknown;
}

export class WireError extends Error {
  readonly status: number;
  readonly code: string;
  readonly rpcCode: number;
  readonly headers: Record<string, string>;
  readonly data: unknown;

  constructor(init: WireErrorInit) {
    super(init.message);
    this.name = "WireError";
    this.status = init.status;
    this.code = init.code;
    this.rpcCode = init.rpcCode ?? defaultRpcCode(init.status);
    this.headers = init.headers ?? {};
    this.data = init.data;
  }
}

function defaultRpcCode(status: number): number {
  if (status >= 500) return JsonRpcCode.InternalError;
  if (status === 400) return JsonRpcCode.InvalidRequest;
  return JsonRpcCode.ServerError;
}

export const SESSION_NOT_FOUND_MESSAGE =
  "Session not found: it expired, was ended, or never existed. Start a new session: send initialize without an Mcp-Session-Id header";

/** The constructors for every error the platform sends, so each has one spelling. */
export const wire = {
  parseError: (detail = "body is not valid JSON") =>
    new WireError({ status: 400, code: "parse_error", rpcCode: JsonRpcCode.ParseError, message: `Parse error: ${detail}` }),
  invalidRequest: (message: string) =>
    new WireError({ status: 400, code: "invalid_request", rpcCode: JsonRpcCode.InvalidRequest, message }),
  invalidParams: (message: string) =>
    new WireError({ status: 400, code: "invalid_params", rpcCode: JsonRpcCode.InvalidParams, message }),
  badRequest: (code: string, message: string) => new WireError({ status: 400, code, message }),
  unsupportedProtocolVersion: (requested: string, supported: readonly string[]) =>
    new WireError({
      status: 400,
      code: "unsupported_protocol_version",
      rpcCode: JsonRpcCode.UnsupportedProtocolVersion,
      message: `Unsupported MCP-Protocol-Version ${requested.slice(0, 40)}: this URL serves ${supported.join(", ")}`,
      data: { supported, requested: requested.slice(0, 40) },
    }),
  unauthorized: (message: string, resourceMetadataUrl: string) =>
    new WireError({
      status: 401,
      code: "unauthorized",
      message,
      headers: { "WWW-Authenticate": `Bearer resource_metadata="${resourceMetadataUrl}"` },
    }),
  forbidden: (code: string, message: string) => new WireError({ status: 403, code, message }),
  notFound: (code: string, message: string) =>
    new WireError({
      status: 404,
      code,
      message,
      rpcCode: code === "session_not_found" ? JsonRpcCode.SessionNotFound : JsonRpcCode.ServerError,
    }),
  /**
   * An unknown session id on the session lane: 404 and -32001, as the 2025-11-25 spec
   * and the SDK transport answer it; the text says what happened and what to do, since
   * a client shows the body.
   */
  sessionNotFound: () =>
    new WireError({
      status: 404,
      code: "session_not_found",
      rpcCode: JsonRpcCode.SessionNotFound,
      message: SESSION_NOT_FOUND_MESSAGE,
    }),
  methodNotAllowed: (allow: string) =>
    new WireError({ status: 405, code: "method_not_allowed", message: "Method not allowed", headers: { Allow: allow } }),
  notAcceptable: (message: string) => new WireError({ status: 406, code: "not_acceptable", message }),
  conflict: (code: string, message: string) => new WireError({ status: 409, code, message }),
  tooLarge: (limit: number) =>
    new WireError({ status: 413, code: "body_too_large", message: `Request body exceeds ${limit} bytes` }),
  unsupportedMediaType: () =>
    new WireError({ status: 415, code: "unsupported_media_type", message: "Content-Type must be application/json" }),
  tooManyRequests: (code: string, message: string, retryAfterSeconds?: number) =>
    new WireError({
      status: 429,
      code,
      message,
      headers: retryAfterSeconds === undefined ? {} : { "Retry-After": String(retryAfterSeconds) },
    }),
  headersTooLarge: (limit: number) =>
    new WireError({ status: 431, code: "headers_too_large", message: `Request headers exceed ${limit} bytes` }),
  internal: () => new WireError({ status: 500, code: "internal", message: "Internal error" }),
};

const jsonHeaders = { "Content-Type": "application/json", "Cache-Control": "no-store" };

/** A JSON-RPC error response, for the MCP endpoint. `id` is null when no request id is known. */
export function jsonRpcErrorResponse(error: WireError, id: string | number | null = null): Response {
  const body: { code: number; message: string; data?: unknown } = { code: error.rpcCode, message: error.message };
  if (error.data !== undefined) body.data = error.data;
  return new Response(JSON.stringify({ jsonrpc: "2.0", id, error: body }), {
    status: error.status,
    headers: { ...jsonHeaders, ...error.headers },
  });
}

/** A plain JSON error response, for the admin API and non-MCP routes. */
export function jsonErrorResponse(error: WireError): Response {
  return new Response(JSON.stringify({ error: { code: error.code, message: error.message } }), {
    status: error.status,
    headers: { ...jsonHeaders, ...error.headers },
  });
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...jsonHeaders, ...headers } });
}

/**
 * Turns anything thrown into a `WireError`: wire errors pass through, anything else
 * is reported to `log` and becomes the generic internal error.
 */
export function toWireError(err: unknown, log: (detail: unknown) => void): WireError {
  if (err instanceof WireError) return err;
  log(err);
  return wire.internal();
}
