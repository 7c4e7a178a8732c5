/**
 * A tenant's OpenID Connect provider for single sign-on on the approval page (issue 15):
 * what an admin may configure, and what the tenant's object keeps (KV `identity`).
 *
 * A provider must name who may sign in (email domains, subjects or a groups claim):
 * many issuers are multi-tenant (any account of a cloud identity service signs in at the
 * same issuer), so a provider without a rule would let the whole world approve clients.
 * The client secret is sealed in the Worker with `SMCP_SECRETS_KEY` under its own
 * binding (tenant and purpose) and never leaves again; the object holds ciphertext only.
 */
import type { SealedSecret } from "@smcp/runtime";
import { z } from "zod";
import type { EgressPolicy } from "../sandbox/egress";
import { outboundTarget } from "../oauth/guarded-fetch";

export const MAX_ISSUER_LENGTH = 512;
export const MAX_CLIENT_ID_LENGTH = 256;
export const MAX_CLIENT_SECRET_LENGTH = 2048;
export const MAX_ALLOW_ENTRIES = 100;
const MAX_ENTRY_LENGTH = 256;

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CLAIM = /^[A-Za-z0-9_.:/-]{1,128}$/;
const entry = z.string().min(1).max(MAX_ENTRY_LENGTH);

export const IdentityBody = z
  .object({
    issuer: z.string().min(1).max(MAX_ISSUER_LENGTH),
    clientId: z.string().min(1).max(MAX_CLIENT_ID_LENGTH),
    clientSecret: z.string().min(1).max(MAX_CLIENT_SECRET_LENGTH),
    allow: z
      .object({
        emailDomains: z
          .array(z.string().max(253).transform((d) => d.toLowerCase()).refine((d) => DOMAIN.test(d), "an email domain is a host name such as example.com"))
          .max(MAX_ALLOW_ENTRIES)
          .optional(),
        subjects: z.array(entry).max(MAX_ALLOW_ENTRIES).optional(),
        groups: z
          .object({
            claim: z.string().regex(CLAIM, "a claim name is 1 to 128 of A-Za-z0-9_.:/-"),
            values: z.array(entry).min(1).max(MAX_ALLOW_ENTRIES),
          })
          .strict()
          .optional(),
      })
      .strict(),
    allowKeyApproval: z.boolean().optional(),
  })
  .strict();

export type IdentityInput = z.output<typeof IdentityBody>;
export type AllowRule = IdentityInput["allow"];

/** What the tenant's object keeps: the secret sealed. */
export interface StoredIdentity {
  issuer: string;
  clientId: string;
  clientSecret: SealedSecret;
  allow: AllowRule;
  allowKeyApproval: boolean;
  updatedAt: number;
}

/** What an admin sees: everything but the secret (its key id only). */
export const identityView = (i: StoredIdentity) => ({
  issuer: i.issuer,
  clientId: i.clientId,
  clientSecretKeyId: i.clientSecret.keyId,
  allow: i.allow,
  allowKeyApproval: i.allowKeyApproval,
  updatedAt: i.updatedAt,
});

/** What the audit log records of a change: no secret, counts of the rule's lists. */
export const identitySummary = (i: StoredIdentity) => ({
  issuer: i.issuer,
  clientId: i.clientId,
  emailDomains: i.allow.emailDomains?.length ?? 0,
  subjects: i.allow.subjects?.length ?? 0,
  groups: i.allow.groups ? { claim: i.allow.groups.claim, values: i.allow.groups.values.length } : null,
  allowKeyApproval: i.allowKeyApproval,
});

/** The secret's binding: a sealed identity secret cannot be passed off as a server's secret, nor another tenant's. */
export const identitySecretBinding = (tenant: string) => `smcp-identity:v1:${tenant}/client_secret`;

export type IdentityCheck = { ok: true; issuer: string } | { ok: false; reason: string };

/**
 * The checks zod's shapes cannot make: a rule that admits someone, and an issuer the
 * platform may reach (the same rules as every fetch it makes on a tenant's say-so).
 * The issuer is kept exactly as given: OpenID Connect compares `iss` as a string.
 */
export function checkIdentity(body: IdentityInput, policy: EgressPolicy): IdentityCheck {
  const { emailDomains, subjects, groups } = body.allow;
  if (!emailDomains?.length && !subjects?.length && !groups) {
    return { ok: false, reason: "allow must name who may sign in (emailDomains, subjects or groups): a provider without a rule would let every account of its issuer approve clients" };
  }
  let url: URL;
  try {
    url = new URL(body.issuer);
  } catch {
    return { ok: false, reason: "issuer must be an https URL" };
  }
  if (url.search || url.hash) return { ok: false, reason: "issuer must have no query or fragment (OpenID Connect Discovery 1.0, section 4)" };
  const verdict = outboundTarget(url, policy);
  if (!verdict.ok) return { ok: false, reason: `issuer cannot be used: ${verdict.reason}` };
  return { ok: true, issuer: body.issuer };
}
