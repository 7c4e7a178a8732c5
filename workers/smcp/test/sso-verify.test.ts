/**
 * The ID token verifier (sso/id-token.ts) and the allow rule (sso/allow-rule.ts), with
 * keys made here with Web Crypto: real signatures, real JWKS, every refusal it names.
 */
import { describe, expect, it } from "vitest";
import { base64url } from "@smcp/runtime";
import { applyAllowRule } from "../src/sso/allow-rule";
import { verifyIdToken, type IdTokenClaims } from "../src/sso/id-token";

const ISSUER = "https://idp.example.com";
const CLIENT = "smcp-client";
const NONCE = "n-0S6_WzA2Mj";
const now = () => Math.floor(Date.now() / 1000);

type Signer = { alg: "RS256" | "ES256"; kid: string; privateKey: CryptoKey; jwk: JsonWebKey };

async function signer(alg: "RS256" | "ES256", kid: string): Promise<Signer> {
  const params =
    alg === "RS256"
      ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
      : { name: "ECDSA", namedCurve: "P-256" };
  const pair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  return { alg, kid, privateKey: pair.privateKey, jwk: { ...jwk, kid, alg, use: "sig" } as JsonWebKey };
}

const enc = (value: unknown) => base64url(new TextEncoder().encode(JSON.stringify(value)));

async function sign(s: Signer, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const input = `${enc({ alg: s.alg, kid: s.kid, typ: "JWT", ...header })}.${enc(claims)}`;
  const params = s.alg === "RS256" ? { name: "RSASSA-PKCS1-v1_5" } : { name: "ECDSA", hash: "SHA-256" };
  const sig = new Uint8Array(await crypto.subtle.sign(params, s.privateKey, new TextEncoder().encode(input)));
  return `${input}.${base64url(sig)}`;
}

const claims = (over: Record<string, unknown> = {}) => ({ iss: ISSUER, sub: "user-1", aud: CLIENT, exp: now() + 300, iat: now(), nonce: NONCE, ...over });
const expectation = () => ({ issuer: ISSUER, clientId: CLIENT, nonce: NONCE, now: now(), maxAgeSeconds: 600 });

describe("ID token verification", () => {
  it("sso:verify — tokens signed with RS256 and ES256 by a key of the JWKS, with the expected claims, are accepted", async () => {
    const rsa = await signer("RS256", "r1");
    const ec = await signer("ES256", "e1");
    const jwks = { keys: [rsa.jwk, ec.jwk] };
    for (const s of [rsa, ec]) {
      const result = await verifyIdToken(await sign(s, claims()), jwks, expectation());
      expect(result).toMatchObject({ ok: true, claims: { sub: "user-1", iss: ISSUER } });
    }
    // Several audiences: accepted only with azp naming us.
    expect((await verifyIdToken(await sign(rsa, claims({ aud: [CLIENT, "other"], azp: CLIENT })), jwks, expectation())).ok).toBe(true);
    expect(await verifyIdToken(await sign(rsa, claims({ aud: [CLIENT, "other"] })), jwks, expectation())).toEqual({ ok: false, reason: "wrong-audience" });
  });

  it("sso:verify — a wrong key, wrong aud, wrong iss, an expired, future or old token and a wrong nonce are refused, each with its reason", async () => {
    const good = await signer("RS256", "k1");
    const stranger = await signer("RS256", "k1");
    const jwks = { keys: [good.jwk] };
    const check = async (token: string) => verifyIdToken(token, jwks, expectation());
    expect(await check(await sign(stranger, claims()))).toEqual({ ok: false, reason: "bad-signature" });
    expect(await check(await sign(good, claims(), { kid: "unknown" }))).toEqual({ ok: false, reason: "unknown-key" });
    expect(await check(await sign(good, claims({ aud: "someone-else" })))).toEqual({ ok: false, reason: "wrong-audience" });
    expect(await check(await sign(good, claims({ iss: "https://evil.example.com" })))).toEqual({ ok: false, reason: "wrong-issuer" });
    expect(await check(await sign(good, claims({ iss: `${ISSUER}/` })))).toEqual({ ok: false, reason: "wrong-issuer" });
    expect(await check(await sign(good, claims({ exp: now() - 120, iat: now() - 400 })))).toEqual({ ok: false, reason: "expired" });
    expect(await check(await sign(good, claims({ iat: now() + 600 })))).toEqual({ ok: false, reason: "issued-in-future" });
    expect(await check(await sign(good, claims({ iat: now() - 3600, exp: now() + 300 })))).toEqual({ ok: false, reason: "too-old" });
    expect(await check(await sign(good, claims({ nonce: "another-sign-in" })))).toEqual({ ok: false, reason: "wrong-nonce" });
    expect(await check(await sign(good, claims({ nonce: undefined })))).toEqual({ ok: false, reason: "wrong-nonce" });
    expect(await check(await sign(good, claims({ sub: "" })))).toEqual({ ok: false, reason: "no-subject" });
    // A signature moved onto other claims.
    const [h, , sig] = (await sign(good, claims())).split(".");
    expect(await check(`${h}.${enc(claims({ sub: "admin" }))}.${sig}`)).toEqual({ ok: false, reason: "bad-signature" });
  });

  it("sso:verify — alg none, HMAC with the public key, an ES256 key used for RS256, garbage and oversized tokens are refused", async () => {
    const rsa = await signer("RS256", "k1");
    const jwks = { keys: [rsa.jwk] };
    const check = async (token: string) => verifyIdToken(token, jwks, expectation());
    expect(await check(`${enc({ alg: "none" })}.${enc(claims())}.`)).toEqual({ ok: false, reason: "unsupported-alg" });
    const hmacKey = await crypto.subtle.importKey("raw", new TextEncoder().encode(JSON.stringify(rsa.jwk)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const input = `${enc({ alg: "HS256", kid: "k1" })}.${enc(claims())}`;
    const mac = base64url(new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(input))));
    expect(await check(`${input}.${mac}`)).toEqual({ ok: false, reason: "unsupported-alg" });
    const ec = await signer("ES256", "k1");
    expect(await check(await sign(ec, claims()))).toEqual({ ok: false, reason: "unknown-key" });
    expect(await check("a.b")).toEqual({ ok: false, reason: "malformed" });
    expect(await check("!!.??.##")).toEqual({ ok: false, reason: "malformed" });
    expect(await check("x".repeat(20_000))).toEqual({ ok: false, reason: "malformed" });
    expect(await verifyIdToken(await sign(rsa, claims()), { keys: "nope" }, expectation())).toEqual({ ok: false, reason: "unknown-key" });
  });

  it("sso:allow — a listed subject, a verified email of a listed domain or a listed group admits; an unverified email and others do not", () => {
    const person = (over: Record<string, unknown>) => ({ ...claims(), ...over }) as IdTokenClaims;
    const rule = { emailDomains: ["example.com"], subjects: ["root-1"], groups: { claim: "groups", values: ["mcp-users"] } };
    expect(applyAllowRule(rule, person({ sub: "root-1" }))).toEqual({ ok: true, email: null });
    expect(applyAllowRule(rule, person({ email: "Ann@Example.com", email_verified: true }))).toEqual({ ok: true, email: "ann@example.com" });
    expect(applyAllowRule(rule, person({ email: "ann@example.com" })).ok).toBe(false);
    expect(applyAllowRule(rule, person({ email: "ann@example.com.evil.io", email_verified: true })).ok).toBe(false);
    expect(applyAllowRule(rule, person({ email: "ann@sub.example.com", email_verified: true })).ok).toBe(false);
    expect(applyAllowRule(rule, person({ groups: ["staff", "mcp-users"] })).ok).toBe(true);
    expect(applyAllowRule(rule, person({ groups: "mcp-users" })).ok).toBe(true);
    expect(applyAllowRule(rule, person({ groups: ["staff"] })).ok).toBe(false);
    expect(applyAllowRule({ subjects: ["root-1"] }, person({ email: "ann@example.com", email_verified: true })).ok).toBe(false);
  });
});
