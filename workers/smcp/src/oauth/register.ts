/**
 * `POST /register`: open dynamic client registration (RFC 7591), as MCP clients
 * expect. Registering grants nothing: a client gets tokens only after a tenant's key
 * holder approves it on the `/authorize` page, for one MCP URL. Limited per client
 * address, in requests and in live registrations (abuse-limits.ts, clients.ts).
 */
import { WireError, readJsonBody } from "@smcp/runtime";
import type { Env } from "../env";
import { admitOAuth, clientAddressDigest } from "./abuse-limits";
import { registerClient, registrationResponse } from "./clients";
import { OAuthError } from "./errors";
import { MAX_OAUTH_BODY_BYTES, oauthJson } from "./http";

export async function handleRegister(request: Request, env: Env): Promise<Response> {
  await admitOAuth(env, request, "register", null);
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") throw new OAuthError("invalid_client_metadata", "Content-Type must be application/json");
  let metadata: unknown;
  try {
    metadata = (await readJsonBody(request, MAX_OAUTH_BODY_BYTES)).json;
  } catch (err) {
    if (err instanceof WireError) throw new OAuthError("invalid_client_metadata", err.message, err.status === 413 ? 413 : 400);
    throw err;
  }
  const { client, secret } = await registerClient(env, metadata, await clientAddressDigest(request));
  return oauthJson(registrationResponse(client, secret), 201);
}
