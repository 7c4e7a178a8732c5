/**
 * How an upstream server is served: what resolve-server.ts hands a call site for a
 * server that fronts an upstream. The session lane builds an `UpstreamRelay` from
 * `upstream` (one upstream session per SMCP session); the stateless lane relays through
 * the caller's UpstreamPrincipalDO (principal-upstream-do.ts), which builds one from
 * the same ref. `create()` is never called for it.
 *
 * The configured headers' secret references are filled in from the server's secrets,
 * opened when a session first calls its upstream; the values stay in that object's
 * memory and are never logged or returned.
 */
import type { ServerModule } from "@smcp/servers";
import type { Env } from "../env";
import type { SecretsSummary } from "../tenant/secrets";
import { serverSecrets, type ServerSecrets } from "../sandbox/secrets-env";
import { UpstreamSetupError } from "./relay";
import { resolveHeaders, secretRefs, type UpstreamConfig } from "./upstream-config";

/** An upstream server as the tenant object reports it: the configuration with secret references, and the secrets' revision. */
export type ServedUpstream = UpstreamConfig & { server: string; secrets: SecretsSummary };

export interface UpstreamServing {
  server: string;
  url: string;
  /** When the configuration was last changed: an upstream's era is remembered per configuration. */
  updatedAt: number;
  /** The configured headers with every secret reference filled in. */
  headers(): Promise<Record<string, string>>;
}

export interface UpstreamModule extends ServerModule {
  upstream: UpstreamServing;
}

export const isUpstreamModule = (m: ServerModule | null | undefined): m is UpstreamModule => !!m && "upstream" in m;

export function upstreamModule(env: Env, tenant: string, incarnation: string, up: ServedUpstream): UpstreamModule {
  const upstream: UpstreamServing = {
    server: up.server,
    url: up.url,
    updatedAt: up.updatedAt,
    headers: () => upstreamHeaders(tenant, up.server, up.headers, () => serverSecrets(env, tenant, incarnation, up.server)),
  };
  return {
    name: up.server,
    title: up.server,
    version: "upstream",
    upstream,
    create: () => {
      throw new Error("an upstream server has no in-process SDK server");
    },
  };
}

/** The configured headers with every secret reference filled in; throws an `UpstreamSetupError` that says what to do. */
export async function upstreamHeaders(tenant: string, server: string, headers: Record<string, string>, open: () => Promise<ServerSecrets>): Promise<Record<string, string>> {
  if (secretRefs(headers).length === 0) return { ...headers };
  const secrets = await open();
  if (!secrets.ok) throw new UpstreamSetupError(secrets.message);
  const resolved = resolveHeaders(headers, secrets.values);
  if (!resolved.ok) {
    throw new UpstreamSetupError(
      `its headers name ${resolved.missing.map((n) => `\${secret:${n}}`).join(", ")}, which server ${server} has no secret for; a tenant admin sets it (pnpm smcp secrets set ${tenant} ${server} ${resolved.missing[0]})`,
    );
  }
  return resolved.headers;
}
