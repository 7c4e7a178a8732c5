/**
 * Whether a verified person may sign in for the tenant (tenant/identity.ts `AllowRule`):
 * any one of the rule's lists admits. An email counts only when the provider says it is
 * verified (`email_verified: true`): many providers let anyone type any address into a
 * profile, and a domain rule on an unverified address would admit whoever typed it.
 */
import type { AllowRule } from "../tenant/identity";
import type { IdTokenClaims } from "./id-token";

/** Values of a groups claim looked at, at most: the claim is the provider's, but bounded anyway. */
const MAX_GROUP_VALUES = 1000;

export type AllowVerdict = { ok: true; email: string | null } | { ok: false; reason: string };

export function applyAllowRule(rule: AllowRule, claims: IdTokenClaims): AllowVerdict {
  const email = verifiedEmail(claims);
  if (rule.subjects?.includes(claims.sub)) return { ok: true, email };
  if (email !== null && rule.emailDomains?.length) {
    const domain = email.slice(email.lastIndexOf("@") + 1);
    if (rule.emailDomains.includes(domain)) return { ok: true, email };
  }
  if (rule.groups) {
    const value = claims[rule.groups.claim];
    const groups = typeof value === "string" ? [value] : Array.isArray(value) ? value.slice(0, MAX_GROUP_VALUES) : [];
    if (groups.some((g) => typeof g === "string" && rule.groups!.values.includes(g))) return { ok: true, email };
  }
  return { ok: false, reason: "Your account is not one of those this tenant lets sign in. Ask the tenant's administrator to allow it." };
}

function verifiedEmail(claims: IdTokenClaims): string | null {
  if (typeof claims.email !== "string" || claims.email_verified !== true) return null;
  const email = claims.email.toLowerCase();
  return email.length <= 320 && /^[^@\s]+@[^@\s]+$/.test(email) ? email : null;
}
