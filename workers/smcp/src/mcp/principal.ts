/**
 * Who a forwarded MCP request belongs to. The routing Worker authenticates the
 * request, then hands the session Durable Object the verified principal as an
 * argument of its RPC call (`SessionDO.serve`): no header a client sends can set it.
 */
import { LEGACY_INCARNATION } from "@smcp/runtime";

export interface Principal {
  tenant: string;
  /** The tenant's incarnation when it was authenticated; absent in sessions stored before incarnations existed. */
  incarnation?: string;
  server: string;
  keyId: string | null;
  /** The OAuth grant of an access token; absent for tenant API keys. */
  grantId?: string | null;
}

export function samePrincipal(a: Principal, b: Principal): boolean {
  return (
    a.tenant === b.tenant &&
    incarnationOf(a) === incarnationOf(b) &&
    a.server === b.server && a.keyId === b.keyId && (a.grantId ?? null) === (b.grantId ?? null)
  );
}

/** The incarnation a principal names (a session stored before incarnations existed names the legacy one). */
export const incarnationOf = (p: Principal): string => p.incarnation ?? LEGACY_INCARNATION;

/** `AuthInfo` as the SDK hands it to tool handlers: no secret, only who is calling. */
export function authInfoOf(principal: Principal, extra: { sessionId?: string; traceparent?: string } = {}) {
  return {
    token: "",
    clientId: principal.keyId ?? "anonymous",
    scopes: [],
    extra: { tenant: principal.tenant, server: principal.server, ...extra },
  };
}
