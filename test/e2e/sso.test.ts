// Single sign-on end to end, against `wrangler dev` with SMCP_ALLOW_LOOPBACK_EGRESS and a CA of
// this run trusted through NODE_EXTRA_CA_CERTS (as oauth-cimd.test.ts does), so the Worker's
// guarded outbound reaches https://localhost.
//
// One Node HTTPS server on loopback hosts two providers:
// - a real OpenID Connect provider, `oidc-provider` (panva), at the server's root: its own
//   discovery document, keys, authorization and token endpoints and ID tokens. Its login is
//   an interaction of ours (`interactions.url` + `findAccount`): a form whose POST signs the
//   account in and grants the consent, through the library's `interactionFinished`. The
//   test's "browser" follows every redirect by hand and keeps the provider's cookies.
//   Through it: the approval page → the provider's login → our callback → the grant → the
//   token → the SDK client calling a tool, and an outsider refused.
// - `/fake`: a provider whose discovery document and JWKS are served by the test and whose
//   token endpoint answers with ID tokens the test signs itself (node:crypto, RS256). The
//   sign-in is started through SMCP as for the real one (the state and nonce come from SMCP's
//   redirect), and the callback is driven with codes that map to tokens with a wrong key,
//   `aud`, `iss`, an expired one, and a second token carrying a nonce already used: cases a
//   correct provider never produces, which is why they need a provider we control.
// `/garbage` answers HTML for its discovery document, and one issuer points at a closed port.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from "@modelcontextprotocol/client";
import Provider from "oidc-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeLoopbackCertificates } from "../../scripts/lib/loopback-tls.mjs";
import { MemoryOAuthProvider, approveWithKey, decodeEntities as decode } from "./oauth-client";
import { ADMIN_TOKEN, Platform, textOf } from "./platform";

const REDIRECT_URI = "http://127.0.0.1:33422/callback";
const CORP_CLIENT = { id: "smcp-corp", secret: "corp-client-secret-e2e" };
const FAKE_CLIENT = { id: "smcp-lab", secret: "lab-client-secret-e2e" };
/** The cap of SSO grants in this run: below the access token's hour, so the cap shows in expires_in. */
const SSO_MAX_SECONDS = 900;
const SMCP_CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../packages/cli/bin/smcp.mjs");

const accounts = new Map<string, { email: string; email_verified: boolean }>([
  ["alice", { email: "alice@corp.example", email_verified: true }],
  ["mallory", { email: "mallory@elsewhere.example", email_verified: true }],
]);

const dir = mkdtempSync(path.join(tmpdir(), "smcp-sso-"));
const certs = makeLoopbackCertificates(dir);
// The test process is the person's browser: it trusts the run's CA too.
setDefaultCACertificates([...getCACertificates("default"), readFileSync(certs.ca, "utf8")]);

let origin = "";
let oidc: Provider;
const platform = new Platform({ env: { NODE_EXTRA_CA_CERTS: certs.ca }, vars: { SMCP_SSO_GRANT_MAX_SECONDS: String(SSO_MAX_SECONDS) } });

// --- the fake provider's keys and tokens --------------------------------------------
const rsa = () => generateKeyPairSync("rsa", { modulusLength: 2048 });
const published = rsa();
const stranger = rsa();
const FAKE_KID = "lab-1";
/** ID tokens the fake token endpoint answers, by code; the verifier each redemption carried. */
const fakeTokens = new Map<string, string>();
const fakeVerifiers = new Map<string, string>();
let fakeTokenGarbage = false;

const b64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");
function signJwt(claims: Record<string, unknown>, key: KeyObject, kid = FAKE_KID): string {
  const head = `${b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }))}.${b64url(JSON.stringify(claims))}`;
  return `${head}.${sign("sha256", Buffer.from(head), key).toString("base64url")}`;
}

/** A minimal oidc-provider storage adapter (its documented interface): the library's own in-memory one warns on every start. */
const adapterStore = new Map<string, Record<string, unknown>>();
class TestAdapter {
  constructor(readonly name: string) {}
  #key = (id: string) => `${this.name}:${id}`;
  async upsert(id: string, payload: Record<string, unknown>) {
    adapterStore.set(this.#key(id), payload);
    if (typeof payload.uid === "string") adapterStore.set(this.#key(`uid:${payload.uid}`), { id });
  }
  async find(id: string) {
    return adapterStore.get(this.#key(id));
  }
  async findByUid(uid: string) {
    const ref = adapterStore.get(this.#key(`uid:${uid}`));
    return ref ? adapterStore.get(this.#key(String(ref.id))) : undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume(id: string) {
    const payload = adapterStore.get(this.#key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string) {
    adapterStore.delete(this.#key(id));
  }
  async revokeByGrantId(grantId: string) {
    for (const [key, payload] of adapterStore) if (payload.grantId === grantId) adapterStore.delete(key);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));

/** The login of the real provider: a form; its POST signs the account in and consents, via oidc-provider's interaction API. */
async function interaction(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  const details = await oidc.interactionDetails(req, res);
  if (req.method === "GET") {
    res.writeHead(200, { "Content-Type": "text/html" }).end(`<form method="post" action="/interaction/${details.uid}/login"><input name="login"><button>Sign in</button></form>`);
    return;
  }
  expect(pathname).toBe(`/interaction/${details.uid}/login`);
  const login = new URLSearchParams(await readBody(req)).get("login") ?? "";
  if (!accounts.has(login)) {
    await oidc.interactionFinished(req, res, { error: "access_denied", error_description: "unknown account" }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = new oidc.Grant({ accountId: login, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  await oidc.interactionFinished(req, res, { login: { accountId: login }, consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: false });
}

/** The fake provider: discovery, keys and a token endpoint answering the tokens the test signed. */
async function fakeProvider(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  const issuer = `${origin}/fake`;
  switch (pathname) {
    case "/fake/.well-known/openid-configuration":
      return void json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        token_endpoint_auth_methods_supported: ["client_secret_post"],
        code_challenge_methods_supported: ["S256"],
      });
    case "/fake/jwks":
      return void json(res, 200, { keys: [{ ...published.publicKey.export({ format: "jwk" }), kid: FAKE_KID, alg: "RS256", use: "sig" }] });
    case "/fake/token": {
      if (fakeTokenGarbage) return void res.writeHead(200, { "Content-Type": "text/html" }).end("<html>maintenance</html>");
      const form = new URLSearchParams(await readBody(req));
      if (form.get("client_id") !== FAKE_CLIENT.id || form.get("client_secret") !== FAKE_CLIENT.secret) return void json(res, 401, { error: "invalid_client" });
      const code = form.get("code") ?? "";
      const token = fakeTokens.get(code);
      if (!token) return void json(res, 400, { error: "invalid_grant", error_description: "unknown code" });
      fakeVerifiers.set(code, form.get("code_verifier") ?? "");
      return void json(res, 200, { access_token: "unused", token_type: "Bearer", id_token: token });
    }
    default:
      return void json(res, 404, { error: "not_found" });
  }
}

const server: Server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
  const pathname = new URL(req.url ?? "/", "https://localhost").pathname;
  const handle =
    pathname.startsWith("/interaction/") ? interaction(req, res, pathname)
    : pathname.startsWith("/fake/") ? fakeProvider(req, res, pathname)
    : pathname.startsWith("/garbage/") ? Promise.resolve(void res.writeHead(200, { "Content-Type": "text/html" }).end("<html>not a provider</html>"))
    : Promise.resolve(oidc.callback()(req, res));
  handle.catch((err) => {
    if (!res.headersSent) res.writeHead(500).end(String(err));
  });
});

// --- the person's browser: redirects by hand, the provider's cookies kept --------------
const cookies = new Map<string, string>();
async function browse(url: string, init: { method?: string; form?: URLSearchParams } = {}): Promise<Response> {
  const target = new URL(url);
  const toProvider = target.origin === origin;
  const res = await fetch(target, {
    method: init.method ?? "GET",
    redirect: "manual",
    headers: {
      ...(toProvider && cookies.size ? { Cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") } : {}),
      ...(init.form ? { "Content-Type": "application/x-www-form-urlencoded" } : {}),
    },
    ...(init.form ? { body: init.form } : {}),
  });
  if (toProvider) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  }
  return res;
}

/** The link of the approval page's "Sign in with …" button. */
function signInLink(html: string): string {
  const href = /<a class="signin" href="([^"]+)"/.exec(html)?.[1];
  expect(href, html).toBeDefined();
  return new URL(decode(href!), platform.url).href;
}

/**
 * Plays the person: from the approval page's link through the provider's login as
 * `login`, to SMCP's callback. Returns SMCP's answer to the callback.
 */
async function signInAs(approvalHtml: string, login: string): Promise<Response> {
  // A new browser each time: the provider's session would otherwise sign the last person in again.
  cookies.clear();
  let res = await browse(signInLink(approvalHtml));
  expect(res.status).toBe(302);
  for (let hop = 0; hop < 12; hop++) {
    const location = res.headers.get("location");
    if (res.status === 200 && res.url.includes("/interaction/")) {
      const action = /action="([^"]+)"/.exec(await res.text())![1]!;
      res = await browse(new URL(action, origin).href, { method: "POST", form: new URLSearchParams({ login }) });
      continue;
    }
    expect(location, `${res.status} ${res.url}: ${await res.clone().text()}`).toBeTruthy();
    const next = new URL(location!, res.url || origin);
    if (next.pathname === "/oauth/sso/callback") return fetch(next, { redirect: "manual" });
    res = await browse(next.href);
  }
  throw new Error("the sign-in did not come back to SMCP's callback");
}

async function audit(tenant: string): Promise<{ actor: string; action: string; target: string }[]> {
  const { entries } = await platform.admin().call("GET", `/tenants/${tenant}/audit?limit=500`);
  return entries;
}

/** A port nothing listens on: an issuer there is a provider that is down. */
async function closedPort(): Promise<number> {
  const probe = createNetServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, "close");
  return port;
}

let corpKey = "";
let labKey = "";
let labClientId = "";

beforeAll(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  origin = `https://localhost:${(server.address() as { port: number }).port}`;
  await platform.start();
  const corpJwk = { ...generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" }), kid: "corp-1", alg: "RS256", use: "sig" };
  oidc = new Provider(origin, {
    adapter: TestAdapter,
    clients: [
      {
        client_id: CORP_CLIENT.id,
        client_secret: CORP_CLIENT.secret,
        redirect_uris: [`${platform.url}/oauth/sso/callback`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    findAccount: async (_ctx, id) => {
      const account = accounts.get(id);
      return account ? { accountId: id, claims: async () => ({ sub: id, ...account }) } : undefined;
    },
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
    jwks: { keys: [corpJwk as never] },
    cookies: { keys: ["smcp-e2e-cookie-key"] },
    ttl: { AccessToken: 300, AuthorizationCode: 60, Grant: 600, IdToken: 300, Interaction: 600, Session: 600 },
  });

  const admin = platform.admin();
  ({ key: corpKey } = await platform.tenant("corp"));
  ({ key: labKey } = await platform.tenant("lab"));
  await platform.tenant("gone");
  await platform.tenant("junk");
  const identity = await admin.call("PUT", "/tenants/corp/identity", {
    issuer: origin,
    clientId: CORP_CLIENT.id,
    clientSecret: CORP_CLIENT.secret,
    allow: { emailDomains: ["corp.example"] },
  });
  expect(identity.redirectUri).toBe(`${platform.url}/oauth/sso/callback`);
  await admin.call("PUT", "/tenants/lab/identity", {
    issuer: `${origin}/fake`,
    clientId: FAKE_CLIENT.id,
    clientSecret: FAKE_CLIENT.secret,
    allow: { subjects: ["lab-person"] },
    allowKeyApproval: true,
  });
  await admin.call("PUT", "/tenants/gone/identity", { issuer: `https://localhost:${await closedPort()}`, clientId: "x", clientSecret: "y", allow: { subjects: ["z"] } });
  await admin.call("PUT", "/tenants/junk/identity", { issuer: `${origin}/garbage`, clientId: "x", clientSecret: "y", allow: { subjects: ["z"] } });

  const registered = await fetch(`${platform.url}/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ client_name: "sso e2e", redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "none" }),
  });
  labClientId = ((await registered.json()) as { client_id: string }).client_id;
});
afterAll(async () => {
  await platform.dispose();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An authorization request of the registered client for `tenant`'s notes, by hand (oauth-grant.ts does the same). */
function authorizeUrl(tenant: string, extra: Record<string, string> = {}): { url: URL; verifier: string } {
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL("/authorize", platform.url);
  for (const [name, value] of Object.entries({
    response_type: "code",
    client_id: labClientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    state: "client-state",
    resource: `${platform.url}/mcp/${tenant}/notes`,
    ...extra,
  })) {
    url.searchParams.set(name, value);
  }
  return { url, verifier };
}

describe("single sign-on with a real OpenID Connect provider (oidc-provider)", () => {
  let transport: StreamableHTTPClientTransport;
  let refreshToken = "";
  let accessToken = "";
  let clientId = "";

  it("sso:sign-in sso:subject sso:lifetime-cap sso:key-approval — the SDK client is approved by a person signing in at the provider, its token is capped, it calls a tool, and the audit names the person", async () => {
    const provider = new MemoryOAuthProvider({ client_name: "sso sdk client", redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "none" });
    const transportFor = () => new StreamableHTTPClientTransport(platform.mcpUrl("corp", "notes"), { authProvider: provider });
    await expect(new Client({ name: "smcp-e2e-sso", version: "1.0.0" }).connect(transportFor())).rejects.toBeInstanceOf(UnauthorizedError);

    const page = await fetch(provider.authorizationUrl!, { redirect: "manual" });
    const html = await page.text();
    expect(page.status, html).toBe(200);
    expect(decode(html)).toContain(`Sign in with localhost:${new URL(origin).port}`);
    // Key approval is off for this tenant: no key field, and a posted key is refused.
    expect(html).not.toContain('name="api_key"');
    const byKey = await fetch(new URL("/authorize", platform.url), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams([...provider.authorizationUrl!.searchParams, ["api_key", corpKey], ["decision", "approve"]]),
      redirect: "manual",
    });
    expect(byKey.status).toBe(403);
    expect(decode(await byKey.text())).toContain("approves clients by signing in with its identity provider");

    const callback = await signInAs(html, "alice");
    expect(callback.status, await callback.clone().text()).toBe(302);
    const back = new URL(callback.headers.get("location")!);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    expect(back.searchParams.get("iss")).toBe(platform.url);
    expect(back.searchParams.get("state")).toBe(provider.authorizationUrl!.searchParams.get("state"));

    transport = transportFor();
    await transport.finishAuth(back.searchParams);
    const tokens = provider.tokens()!;
    expect(tokens.access_token).toMatch(/^smcp_at_corp\./);
    expect(tokens.expires_in).toBeLessThanOrEqual(SSO_MAX_SECONDS);
    expect(tokens.expires_in).toBeGreaterThan(SSO_MAX_SECONDS - 120);

    const client = new Client({ name: "smcp-e2e-sso", version: "1.0.0" });
    await client.connect(transport);
    await client.callTool({ name: "add_note", arguments: { title: "sso", body: "written after a sign-in" } });
    expect(textOf(await client.callTool({ name: "search_notes", arguments: { query: "sign-in" } }))).toContain("sso");
    // Closed without ending the session (no DELETE): the session stays open until the revocation below ends it.
    await client.close();

    const { grants } = await platform.admin().call("GET", "/tenants/corp/grants");
    expect(grants).toHaveLength(1);
    expect(grants[0].approver).toEqual({ keyId: null, subject: "alice", email: "alice@corp.example" });
    expect(grants[0].expiresAt - grants[0].createdAt).toBeLessThanOrEqual(SSO_MAX_SECONDS * 1000);
    // A refresh is capped as well: its new tokens expire no later than the sign-in's cap.
    const refreshed = await fetch(`${platform.url}/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: provider.clientInformation()!.client_id }),
    });
    const again = (await refreshed.json()) as { expires_in: number; refresh_token: string; access_token: string };
    expect(refreshed.status, JSON.stringify(again)).toBe(200);
    expect(again.expires_in).toBeLessThanOrEqual(SSO_MAX_SECONDS);
    provider.saveTokens({ ...tokens, ...again });
    refreshToken = again.refresh_token;
    accessToken = again.access_token;
    clientId = provider.clientInformation()!.client_id;

    const entries = await audit("corp");
    const sessionCreated = entries.find((e) => e.action === "session.created" && e.target === transport.sessionId);
    expect(sessionCreated?.actor).toBe("sso:alice");
    expect(entries.find((e) => e.action === "oauth.authorized")?.actor).toBe("sso:alice");
  });

  it("sso:refused — a person the allow rule does not admit signs in at the provider and gets a 403 page, not a grant", async () => {
    const { url } = authorizeUrl("corp");
    const html = await (await fetch(url)).text();
    const callback = await signInAs(html, "mallory");
    expect(callback.status).toBe(403);
    expect(decode(await callback.text())).toContain("Your account is not one of those this tenant lets sign in");
    const { grants } = await platform.admin().call("GET", "/tenants/corp/grants");
    expect(grants.map((g: { approver: { subject: string } }) => g.approver.subject)).toEqual(["alice"]);
  });

  it("sso:revoke-subject — smcp grants revoke-subject revokes the person's grants and ends their session at once", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [SMCP_CLI, "grants", "revoke-subject", "corp", "alice", "--url", platform.url, "--token", ADMIN_TOKEN]);
    expect(stdout).toBe("revoked 1 grant(s) of alice: 1 session(s) ended\n");
    const { sessions } = await platform.admin().call("GET", "/tenants/corp/sessions");
    expect(sessions.map((x: { id: string }) => x.id)).not.toContain(transport.sessionId);
    // The session is gone: a request on it (by hand, so the SDK does not try to sign in again) is refused.
    const onSession = await fetch(platform.mcpUrl("corp", "notes"), {
      method: "POST",
      headers: {
        Authorization: `Bearer ${accessToken}`,
        "Mcp-Session-Id": transport.sessionId!,
        "MCP-Protocol-Version": "2025-11-25",
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect([401, 404]).toContain(onSession.status);
    const { grants } = await platform.admin().call("GET", "/tenants/corp/grants");
    expect(grants).toEqual([]);
    // Its refresh token is gone at once (an access token's cached decision may last 5 s more).
    const refresh = await fetch(`${platform.url}/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: clientId }),
    });
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: "invalid_grant" });
  });
});

describe("single sign-on: ID tokens the callback must refuse (a provider the test controls)", () => {
  /** Starts a sign-in through SMCP and returns what it sent to the provider (state, nonce, PKCE challenge). */
  async function startLab(): Promise<{ state: string; nonce: string; challenge: string }> {
    const { url } = authorizeUrl("lab", { sso: "start" });
    const res = await fetch(url, { redirect: "manual" });
    expect(res.status, await res.clone().text()).toBe(302);
    const to = new URL(res.headers.get("location")!);
    expect(`${to.origin}${to.pathname}`).toBe(`${origin}/fake/authorize`);
    expect(to.searchParams.get("scope")).toBe("openid email");
    expect(to.searchParams.get("code_challenge_method")).toBe("S256");
    expect(to.searchParams.get("redirect_uri")).toBe(`${platform.url}/oauth/sso/callback`);
    return { state: to.searchParams.get("state")!, nonce: to.searchParams.get("nonce")!, challenge: to.searchParams.get("code_challenge")! };
  }

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (nonce: string, overrides: Record<string, unknown> = {}) => ({
    iss: `${origin}/fake`,
    aud: FAKE_CLIENT.id,
    sub: "lab-person",
    iat: now(),
    exp: now() + 300,
    nonce,
    ...overrides,
  });

  /** Drives SMCP's callback with a code the fake provider redeems for `token`. */
  async function callbackWith(state: string, token: string): Promise<{ status: number; html: string; location: string | null; code: string }> {
    const code = randomBytes(12).toString("base64url");
    fakeTokens.set(code, token);
    const res = await fetch(`${platform.url}/oauth/sso/callback?${new URLSearchParams({ code, state })}`, { redirect: "manual" });
    return { status: res.status, html: decode(await res.text()), location: res.headers.get("location"), code };
  }

  it("sso:refused sso:verify sso:nonce-once — a wrong key, a wrong aud, a wrong iss and an expired ID token are refused with a page saying why, no grant, and their nonce stays unused", async () => {
    const { state, nonce } = await startLab();
    const cases: [token: string, says: string][] = [
      [signJwt(claims(nonce), stranger.privateKey), "signature does not verify"],
      [signJwt(claims(nonce, { aud: "someone-else" }), published.privateKey), "meant for another client"],
      [signJwt(claims(nonce, { iss: "https://issuer.example.com" }), published.privateKey), "issued by another issuer"],
      [signJwt(claims(nonce, { iat: now() - 7200, exp: now() - 3600 }), published.privateKey), "has expired"],
    ];
    for (const [token, says] of cases) {
      const answer = await callbackWith(state, token);
      expect(answer.status, answer.html).toBe(403);
      expect(answer.html).toContain(says);
    }
    const { grants } = await platform.admin().call("GET", "/tenants/lab/grants");
    expect(grants).toEqual([]);
    // Refused tokens record no nonce: the sign-in can still complete with a valid one.
    const valid = await callbackWith(state, signJwt(claims(nonce), published.privateKey));
    expect(valid.status, valid.html).toBe(302);
  });

  it("sso:nonce-once sso:sign-in — a valid ID token grants once; a second token with the same nonce is refused, and a forged state too", async () => {
    const { state, nonce, challenge } = await startLab();
    const first = await callbackWith(state, signJwt(claims(nonce), published.privateKey));
    expect(first.status, first.html).toBe(302);
    expect(new URL(first.location!).searchParams.get("state")).toBe("client-state");
    // SMCP redeemed the code with the verifier of the challenge it sent (PKCE at the provider).
    expect(createHash("sha256").update(fakeVerifiers.get(first.code)!).digest("base64url")).toBe(challenge);

    const replay = await callbackWith(state, signJwt(claims(nonce, { jti: "another" }), published.privateKey));
    expect(replay.status, replay.html).toBe(403);
    expect(replay.html).toContain("already used");
    const { grants } = await platform.admin().call("GET", "/tenants/lab/grants");
    // One grant from the sign-in of the test before, one from this one; none from the replay.
    expect(grants.map((g: { approver: { subject: string } }) => g.approver.subject)).toEqual(["lab-person", "lab-person"]);

    const forged = await callbackWith(`${state.slice(0, -4)}AAAA`, signJwt(claims(nonce), published.privateKey));
    expect(forged.status).toBe(400);
    expect(forged.html).toContain("not started here");
  });

  it("sso:key-approval — a tenant whose identity allows both shows the sign-in and the key field, and the key still approves", async () => {
    const { url } = authorizeUrl("lab");
    const { html } = await approveWithKey(url, labKey, REDIRECT_URI);
    expect(html).toContain('class="signin"');
    expect(html).toContain('name="api_key"');
  });
});

describe("single sign-on: a provider that cannot be used", () => {
  it("sso:provider-down — a provider that is down, one whose discovery answers HTML, and a token endpoint answering garbage each get a 502 page naming the issuer", async () => {
    for (const tenant of ["gone", "junk"]) {
      const { url } = authorizeUrl(tenant, { sso: "start" });
      const res = await fetch(url, { redirect: "manual" });
      const html = decode(await res.text());
      expect(res.status, html).toBe(502);
      expect(html).toContain("The identity provider could not be reached");
      const identity = await platform.admin().call("GET", `/tenants/${tenant}/identity`);
      expect(html).toContain(identity.issuer);
    }
    const { url } = authorizeUrl("lab", { sso: "start" });
    const state = new URL((await fetch(url, { redirect: "manual" })).headers.get("location")!).searchParams.get("state")!;
    fakeTokenGarbage = true;
    try {
      const res = await fetch(`${platform.url}/oauth/sso/callback?${new URLSearchParams({ code: "any", state })}`, { redirect: "manual" });
      const html = decode(await res.text());
      expect(res.status, html).toBe(502);
      expect(html).toContain(`${origin}/fake`);
      expect(html).toContain("without JSON");
    } finally {
      fakeTokenGarbage = false;
    }
  });
});
