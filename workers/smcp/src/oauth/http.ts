/**
 * HTTP details shared by the OAuth endpoints: bounded form bodies, CORS for the
 * endpoints a browser-based MCP client calls directly, and the no-store headers every
 * response that carries a secret needs (RFC 6749 §5.1).
 *
 * CORS is open (`*`) only on endpoints that take no cookies and whose answers are
 * useless without a secret the caller already holds; the `/authorize` page gets none.
 */
import { readBoundedUtf8 } from "@smcp/runtime";
import { OAuthError } from "./errors";

/** OAuth request bodies are a few hundred bytes; anything near this is not a client. */
export const MAX_OAUTH_BODY_BYTES = 16 * 1024;

export const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" } as const;

export const CORS_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers": "WWW-Authenticate, Retry-After",
} as const;

/** The answer to a CORS preflight on a metadata, registration, token or revocation endpoint. */
export async function preflight(): Promise<Response> {
  return new Response(null, {
    status: 204,
    headers: {
      ...CORS_HEADERS,
      "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
      "Access-Control-Allow-Headers": "Authorization, Content-Type, MCP-Protocol-Version",
      "Access-Control-Max-Age": "86400",
    },
  });
}

/** The JSON error response of the token, registration and revocation endpoints. */
export function oauthErrorResponse(error: OAuthError): Response {
  return new Response(JSON.stringify({ error: error.code, error_description: error.message }), {
    status: error.status,
    headers: { "Content-Type": "application/json", ...NO_STORE, ...CORS_HEADERS, ...error.headers },
  });
}

export function oauthJson(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...NO_STORE, ...CORS_HEADERS },
  });
}

/**
 * An `application/x-www-form-urlencoded` body, read once and bounded. A parameter
 * sent twice is refused (RFC 6749 §3.1, §3.2), so no check can read one copy while
 * another check reads the other.
 */
export async function readForm(request: Request): Promise<URLSearchParams> {
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new OAuthError("invalid_request", "Content-Type must be application/x-www-form-urlencoded");
  }
  const form = new URLSearchParams(await readBoundedText(request, MAX_OAUTH_BODY_BYTES));
  for (const name of new Set(form.keys())) {
    if (form.getAll(name).length > 1) throw new OAuthError("invalid_request", `Parameter ${name} was sent more than once`);
  }
  return form;
}

/** The body as UTF-8 text; refuses more than `maxBytes`, whether declared or streamed. */
export async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  const read = await readBoundedUtf8(request, maxBytes);
  if (read.ok) return read.text;
  throw read.reason === "too-large"
    ? new OAuthError("invalid_request", `Request body exceeds ${maxBytes} bytes`, 413)
    : new OAuthError("invalid_request", "Request body is not valid UTF-8");
}

/** The browser's redirect to `redirectUri` with `fields` added to its query (a null field is left out). */
export function redirectTo(redirectUri: string, fields: Record<string, string | null>): Response {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(fields)) if (value !== null) url.searchParams.set(name, value);
  return new Response(null, {
    status: 302,
    headers: { Location: url.href, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" },
  });
}
