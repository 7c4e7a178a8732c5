/**
 * OAuth abuse (issue 10, item 8): what a stranger can make the authorization server
 * do or store. Errors are redirected only to clients that completed a grant with the
 * tenant; `/register`, `/authorize` and `/token` are limited per client address
 * (`CF-Connecting-IP`, an IPv6 /64 as one) and per tenant; live registrations are
 * capped per address, never-used ones evicted first; rotated refresh tokens are
 * compacted; an unknown tenant's forged code gets the same answer as an existing one's.
 *
 * The limits are the low ones of vitest.config.ts (`OAUTH_LIMITS`) with a day-long
 * window, so nothing refills while a test counts. Each test counts under addresses
 * and tenants of its own.
 */
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { sha256Hex } from "@smcp/runtime";
import { beforeAll, describe, expect, it } from "vitest";
import { addressObjectName, clientAddressDigest } from "../src/oauth/abuse-limits";
import { ORIGIN, mcpUrl, provisionTenant, tenantObject, uniqueName, type Tenant } from "./helpers";
import {
  OAUTH_LIMITS,
  REDIRECT_URI,
  approve,
  authorizeUrl,
  getPage,
  hiddenFields,
  oauthError,
  pkcePair,
  postForm,
  randomAddress,
  randomAddress6,
  register,
  registerRequest,
  tokenRequest,
  tokensFor,
  tokensOk,
} from "./oauth-helpers";

const forged = (kind: "ac" | "rt", tenant: string) => `smcp_${kind}_${tenant}.${"A".repeat(43)}`;

const limiterOf = async (address: string) =>
  env.OAUTH_LIMITER.get(
    env.OAUTH_LIMITER.idFromName(addressObjectName(await clientAddressDigest(new Request(ORIGIN, { headers: { "CF-Connecting-IP": address } })))),
  );

/** The 429 of a JSON endpoint: OAuth shape, `temporarily_unavailable`, a Retry-After in whole seconds. */
async function expectTooMany(res: Response): Promise<void> {
  await oauthError(res, 429, "temporarily_unavailable");
  expect(res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
}

/** An error shown on SMCP's own page: HTML, no Location to the client. */
async function expectShownHere(res: Response, status: number, text: string): Promise<void> {
  const html = await res.text();
  expect(res.status, html).toBe(status);
  expect(res.headers.get("location")).toBeNull();
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(html).toContain(text);
}

let t: Tenant;
let u: Tenant;

beforeAll(async () => {
  t = await provisionTenant({ prefix: "oabt", servers: ["notes"] });
  u = await provisionTenant({ prefix: "oabu", servers: ["notes"] });
});

describe("error redirects", () => {
  it("platform:oauth-abuse — a client that never redeemed a code with the tenant gets its errors on SMCP's page, then redirected once it has", async () => {
    const client = await register();
    const { challenge } = await pkcePair();
    const bad = (tenant: string) => authorizeUrl(client, mcpUrl(tenant, "notes"), challenge, { response_type: "token" });

    await expectShownHere(await getPage(bad(t.tenant)), 400, "unsupported_response_type");
    await expectShownHere(await getPage(authorizeUrl(client, mcpUrl(t.tenant, "notes"), challenge, { code_challenge_method: "plain" })), 400, "invalid_request");
    // A denial on the page is not redirected either.
    const page = await getPage(authorizeUrl(client, mcpUrl(t.tenant, "notes"), challenge));
    const form = hiddenFields(await page.text());
    form.set("decision", "deny");
    await expectShownHere(await postForm("/authorize", form), 403, "You denied the request");
    // An approval alone (a code issued, never redeemed) does not make it trusted.
    await approve(client, mcpUrl(t.tenant, "notes"), (await pkcePair()).challenge, t.key!);
    await expectShownHere(await getPage(bad(t.tenant)), 400, "unsupported_response_type");

    await tokensFor(t, "notes", client);
    const redirected = await getPage(bad(t.tenant));
    expect(redirected.status).toBe(302);
    const location = new URL(redirected.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: "unsupported_response_type", state: "st4te", iss: ORIGIN });
    const denied = await postForm("/authorize", form);
    expect(denied.status).toBe(302);
    expect(new URL(denied.headers.get("location")!).searchParams.get("error")).toBe("access_denied");

    // Trust is per tenant: at tenant u, and at a tenant that does not exist, it is a stranger still.
    await expectShownHere(await getPage(bad(u.tenant)), 400, "unsupported_response_type");
    await expectShownHere(await getPage(bad(uniqueName("oabnone"))), 400, "unsupported_response_type");
  });
});

describe("rate limits per client address", () => {
  it("platform:oauth-abuse — the configured number of registrations per address, then 429; another address is unaffected", async () => {
    const from = randomAddress();
    for (let i = 0; i < OAUTH_LIMITS.register; i++) await register({}, from);
    await expectTooMany(await registerRequest({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "none" }, from));
    await register({}, randomAddress());

    // An IPv6 /64 counts as one address.
    const prefix = randomAddress6().split("::")[0]!;
    for (let i = 1; i <= OAUTH_LIMITS.register; i++) await register({}, `${prefix}::${i}`);
    await expectTooMany(await registerRequest({ redirect_uris: [REDIRECT_URI] }, `${prefix}:0:0:0:${"f".repeat(4)}`));
  });

  it("platform:oauth-abuse — requests without CF-Connecting-IP share one bucket, whatever X-Forwarded-For says", async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= OAUTH_LIMITS.register; i++) {
      const res = await withoutAddress(`${ORIGIN}/register`, { "X-Forwarded-For": randomAddress() });
      statuses.push(res.status);
      await res.body?.cancel();
    }
    // Only this test sends OAuth requests without the header (the helpers always send one).
    expect(statuses).toEqual([...Array<number>(OAUTH_LIMITS.register).fill(201), 429]);
  });

  it("platform:oauth-abuse — the configured number of token requests per address, then 429; another address is unaffected", async () => {
    const client = await register();
    const from = randomAddress();
    const tenant = (await provisionTenant({ prefix: "oabtok", servers: ["notes"] })).tenant;
    const forgedRefresh = { grant_type: "refresh_token", refresh_token: forged("rt", tenant), client_id: client.client_id };
    for (let i = 0; i < OAUTH_LIMITS.token; i++) await oauthError(await tokenRequest(forgedRefresh, {}, from), 400, "invalid_grant");
    await expectTooMany(await tokenRequest(forgedRefresh, {}, from));
    // /revoke counts in the same bucket.
    await expectTooMany(await postForm("/revoke", new URLSearchParams({ token: forged("rt", tenant), client_id: client.client_id }), {}, from));
    await oauthError(await tokenRequest(forgedRefresh, {}, randomAddress()), 400, "invalid_grant");
  });

  it("platform:oauth-abuse — the configured number of /authorize requests per address, then 429 on the page; another address is unaffected", async () => {
    const client = await register();
    const { challenge } = await pkcePair();
    const url = authorizeUrl(client, mcpUrl(t.tenant, "notes"), challenge);
    const from = randomAddress();
    for (let i = 0; i < OAUTH_LIMITS.authorize; i++) {
      const res = await getPage(url, from);
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    const refused = await getPage(url, from);
    expect(refused.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    await expectShownHere(refused, 429, "Too many authorize requests from this address");
    // The POST of the form counts too.
    const form = hiddenFields(await (await getPage(url)).text());
    form.set("api_key", t.key!);
    form.set("decision", "approve");
    await expectShownHere(await postForm("/authorize", form, {}, from), 429, "Too many authorize requests");
    expect((await postForm("/authorize", form, {}, randomAddress())).status).toBe(302);
  });
});

describe("rate limits per tenant", () => {
  it("platform:oauth-abuse — the configured number of /token requests naming one tenant, from any addresses, then 429; another tenant is unaffected", async () => {
    const client = await register();
    const victim = (await provisionTenant({ prefix: "oabten", servers: ["notes"] })).tenant;
    const other = (await provisionTenant({ prefix: "oabten", servers: ["notes"] })).tenant;
    const request = (tenant: string, from: string) =>
      tokenRequest({ grant_type: "refresh_token", refresh_token: forged("rt", tenant), client_id: client.client_id }, {}, from);
    let sent = 0;
    while (sent < OAUTH_LIMITS.perTenant) {
      const from = randomAddress();
      const batch = Math.min(OAUTH_LIMITS.token, OAUTH_LIMITS.perTenant - sent);
      const statuses = await Promise.all(Array.from({ length: batch }, async () => (await request(victim, from)).status));
      expect(statuses.every((s) => s === 400), JSON.stringify(statuses)).toBe(true);
      sent += batch;
    }
    const refused = await request(victim, randomAddress());
    await expectTooMany(refused);
    await oauthError(await request(other, randomAddress()), 400, "invalid_grant");
    // /authorize naming the tenant is refused as well.
    const { challenge } = await pkcePair();
    await expectShownHere(await getPage(authorizeUrl(client, mcpUrl(victim, "notes"), challenge)), 429, "Too many OAuth requests for this tenant");
  });
});

describe("registrations per address", () => {
  it("platform:oauth-abuse — at the cap, the oldest never-used registration is evicted first; used ones stay; no raw address is stored", async () => {
    const from = randomAddress();
    const c1 = await register({ client_name: "one" }, from);
    const c2 = await register({ client_name: "two" }, from);
    const c3 = await register({ client_name: "three" }, from);
    expect(OAUTH_LIMITS.clientsPerAddress).toBe(3);
    // c2 gets tokens (the flow itself runs from another address: the registrar's count is what matters).
    await tokensFor(t, "notes", c2);
    const stored = async (c: { client_id: string }) => (await env.OAUTH_KV.get(`client:${c.client_id}`)) !== null;

    const c4 = await register({ client_name: "four" }, from);
    expect([await stored(c1), await stored(c2), await stored(c3), await stored(c4)]).toEqual([false, true, true, true]);
    const c5 = await register({ client_name: "five" }, from);
    expect([await stored(c2), await stored(c3), await stored(c4), await stored(c5)]).toEqual([true, false, true, true]);

    const limiter = await limiterOf(from);
    expect(await limiter.registrations()).toEqual([
      { clientId: c2.client_id, used: true },
      { clientId: c4.client_id, used: false },
      { clientId: c5.client_id, used: false },
    ]);
    // An evicted client is unknown: its /authorize request is answered on the page.
    const { challenge } = await pkcePair();
    await expectShownHere(await getPage(authorizeUrl(c1, mcpUrl(t.tenant, "notes"), challenge)), 400, "Unknown client");
    // The address is kept only as a digest, in the limiter's name and the client record.
    const dump = await runInDurableObject(limiter, (_o, state) => JSON.stringify(state.storage.sql.exec("SELECT * FROM registrations").toArray()));
    const record = (await env.OAUTH_KV.get(`client:${c2.client_id}`))!;
    expect(dump).not.toContain(from);
    expect(record).not.toContain(from);
    expect(JSON.parse(record).registered_from).toBe(await sha256Hex(`smcp-oauth-address:${from}`));
    // Another address registers regardless.
    await register({}, randomAddress());
  });

  it("platform:oauth-abuse — when every registration of the address has been used, the least recently used one makes room", async () => {
    const from = randomAddress();
    const clients = [await register({}, from), await register({}, from), await register({}, from)];
    // Used in this order: the first is the least recently used (a renewal, which would move it, is at most weekly).
    for (const c of clients) await tokensFor(t, "notes", c);
    const limiter = await limiterOf(from);
    expect((await limiter.registrations()).every((r) => r.used)).toBe(true);
    const c4 = await register({}, from);
    const ids = (await limiter.registrations()).map((r) => r.clientId);
    expect(ids).toEqual([clients[1]!.client_id, clients[2]!.client_id, c4.client_id]);
    expect(await env.OAUTH_KV.get(`client:${clients[0]!.client_id}`)).toBeNull();
  });

  it("platform:oauth-abuse — an address that only sent requests leaves its limiter object without storage", async () => {
    const from = randomAddress();
    await oauthError(await tokenRequest({ grant_type: "refresh_token", refresh_token: forged("rt", t.tenant), client_id: "mcpc_AAAAAAAAAAAAAAAAAAAAAAAA" }, {}, from), 401, "invalid_client");
    const limiter = await limiterOf(from);
    expect(await limiter.registrations()).toEqual([]);
    const tables = await runInDurableObject(limiter, (_o, state) =>
      state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master")
        .toArray()
        .map((r) => r.name)
        .filter((n) => !n.startsWith("_cf_")),
    );
    expect(tables).toEqual([]);
  });
});

describe("refresh tokens", () => {
  it("platform:oauth-abuse — 50 rotations leave the grant a bounded, exact number of token rows; a recent replay still revokes the grant", async () => {
    const first = await tokensFor(t, "notes");
    const refreshes = [first.refresh_token];
    let latest = first;
    for (let i = 0; i < 50; i++) {
      const next = await tokensOk(
        await tokenRequest({ grant_type: "refresh_token", refresh_token: latest.refresh_token, client_id: first.client.client_id }),
      );
      refreshes.push(next.refresh_token);
      latest = { ...next, client: first.client };
    }
    const grantId = await runInDurableObject(tenantObject(t.tenant), async (_o, state) =>
      state.storage.sql.exec<{ grant_id: string }>("SELECT grant_id FROM oauth_tokens WHERE hash = ?", await sha256Hex(latest.refresh_token)).one().grant_id,
    );
    const tokenRows = () =>
      runInDurableObject(tenantObject(t.tenant), (_o, state) =>
        state.storage.sql
          .exec<{ kind: string; used: number; n: number }>(
            "SELECT kind, used_at IS NOT NULL AS used, count(*) AS n FROM oauth_tokens WHERE grant_id = ? GROUP BY kind, used ORDER BY kind, used",
            grantId,
          )
          .toArray(),
      );
    // Two access tokens, the live refresh token and the two most recently used ones: 5 rows (102 before compaction).
    const compacted = [
      { kind: "access", used: 0, n: 2 },
      { kind: "refresh", used: 0, n: 1 },
      { kind: "refresh", used: 1, n: 2 },
    ];
    expect(await tokenRows()).toEqual(compacted);

    const replay = (token: string) => tokenRequest({ grant_type: "refresh_token", refresh_token: token, client_id: first.client.client_id });
    // A long-rotated token is merely unknown now: refused, and the grant lives on untouched.
    await oauthError(await replay(refreshes[0]!), 400, "invalid_grant");
    expect(await tokenRows()).toEqual(compacted);
    // The one rotated last is still recognised: its replay revokes the grant, live refresh token included.
    await oauthError(await replay(refreshes[49]!), 400, "invalid_grant");
    expect(await tokenRows()).toEqual([]);
    await oauthError(await replay(latest.refresh_token), 400, "invalid_grant");
  });
});

describe("invalid_grant", () => {
  it("platform:oauth-abuse — a forged code or refresh token gets the same description for an unknown tenant as for an existing one", async () => {
    const client = await register();
    const { verifier } = await pkcePair();
    const codeDescription = async (code: string) =>
      oauthError(
        await tokenRequest({ grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id }),
        400,
        "invalid_grant",
      );
    const refreshDescription = async (token: string) =>
      oauthError(await tokenRequest({ grant_type: "refresh_token", refresh_token: token, client_id: client.client_id }), 400, "invalid_grant");
    const nobody = uniqueName("oabnobody");

    const codes = [await codeDescription(forged("ac", t.tenant)), await codeDescription(forged("ac", nobody)), await codeDescription("nope")];
    expect(new Set(codes).size, JSON.stringify(codes)).toBe(1);
    const refreshes = [await refreshDescription(forged("rt", t.tenant)), await refreshDescription(forged("rt", nobody)), await refreshDescription("nope")];
    expect(new Set(refreshes).size, JSON.stringify(refreshes)).toBe(1);
  });
});

/** A /register request with no CF-Connecting-IP at all (the helpers always send one). */
function withoutAddress(url: string, headers: Record<string, string>): Promise<Response> {
  return SELF.fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "none" }),
  });
}
