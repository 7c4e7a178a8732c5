/**
 * The authorization server's routes, for the Worker's route table (index.ts). Each
 * JSON endpoint turns an `OAuthError` into its RFC 6749 response here; anything else
 * thrown reaches the Worker's one error handler and becomes a generic 500.
 */
import type { Env } from "../env";
import type { Route } from "../routes";
import { handleAuthorize } from "./authorize";
import { OAuthError } from "./errors";
import { oauthErrorResponse, preflight } from "./http";
import { serveAuthorizationServerMetadata } from "./metadata";
import { handleRegister } from "./register";
import { handleRevoke, handleToken } from "./token-endpoint";
import { SSO_CALLBACK_PATH } from "../sso/start";
import { handleSsoCallback } from "../sso/callback";

type OAuthHandler = (request: Request, env: Env) => Promise<Response>;

/** Wraps a JSON endpoint so that its OAuth errors leave in the OAuth shape. */
const oauthEndpoint = (handler: OAuthHandler): OAuthHandler =>
  async function oauthEndpoint(request, env) {
    try {
      return await handler(request, env);
    } catch (err) {
      if (err instanceof OAuthError) return oauthErrorResponse(err);
      throw err;
    }
  };

export const oauthRoutes: Route<OAuthHandler>[] = [
  { method: "GET", pattern: "/.well-known/oauth-authorization-server", handler: serveAuthorizationServerMetadata },
  { method: "OPTIONS", pattern: "/.well-known/oauth-authorization-server", handler: preflight },
  { method: "OPTIONS", pattern: "/.well-known/oauth-protected-resource/mcp/:tenant/:server", handler: preflight },
  { method: "GET", pattern: "/authorize", handler: handleAuthorize },
  { method: "POST", pattern: "/authorize", handler: handleAuthorize },
  { method: "GET", pattern: SSO_CALLBACK_PATH, handler: handleSsoCallback },
  { method: "POST", pattern: "/register", handler: oauthEndpoint(handleRegister) },
  { method: "OPTIONS", pattern: "/register", handler: preflight },
  { method: "POST", pattern: "/token", handler: oauthEndpoint(handleToken) },
  { method: "OPTIONS", pattern: "/token", handler: preflight },
  { method: "POST", pattern: "/revoke", handler: oauthEndpoint(handleRevoke) },
  { method: "OPTIONS", pattern: "/revoke", handler: preflight },
];
