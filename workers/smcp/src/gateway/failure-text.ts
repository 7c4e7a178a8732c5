/**
 * How SMCP words an upstream's failure, for the client of a relayed call (relay.ts)
 * and for an admin reading the upstream's health (health-probe.ts): one wording, so
 * what an admin sees in the health view is what a client got. The HTTP status, the
 * timeout, and for 401/403 what a tenant admin does about it (and the upstream's
 * authorization metadata, when it named one).
 */
import type { UpstreamFailure } from "./upstream-client";

export interface FailureWording {
  message: string;
  data: Record<string, unknown>;
}

/** `expired` is not worded here: the relay re-initializes, the probe words it itself. */
export function wordFailure(server: string, url: string, f: Exclude<UpstreamFailure, { reason: "expired" }>, method: string, timeoutMs: number): FailureWording {
  const name = `Upstream ${server} (${new URL(url).host})`;
  const data: Record<string, unknown> = { upstream: server };
  switch (f.reason) {
    case "timeout":
      return { message: `${name} did not answer ${method} within ${timeoutMs / 1000} s`, data: { ...data, reason: "timeout" } };
    case "auth": {
      const meta = f.resourceMetadata ? `; its authorization metadata: ${f.resourceMetadata}` : "";
      return {
        message: `${name} refused SMCP's credentials (HTTP ${f.status}). A tenant admin sets the upstream's credential as a secret of server ${server} and names it in a header of its upstream configuration (PUT .../servers/${server}/upstream, e.g. "Authorization": "Bearer \${secret:NAME}")${meta}`,
        data: { ...data, status: f.status, ...(f.resourceMetadata ? { resourceMetadata: f.resourceMetadata } : {}) },
      };
    }
    case "status": {
      // The upstream's own words, when it gave a JSON-RPC error (its data is not passed on: the upstream is untrusted).
      const said = f.error ? `: ${f.error.message} (error ${f.error.code})` : "";
      return { message: `${name} answered ${method} with HTTP ${f.status}${said}`, data: { ...data, status: f.status, ...(f.error ? { upstreamCode: f.error.code } : {}) } };
    }
    case "redirect":
      return { message: `${name} answered ${method} with a redirect (HTTP ${f.status}); SMCP does not follow redirects: configure the URL it redirects to`, data: { ...data, status: f.status } };
    case "unreachable":
      return { message: `${name} could not be reached for ${method}: ${f.detail}`, data: { ...data, reason: "unreachable" } };
    case "refused":
      return { message: `${name} is not a URL SMCP may reach: ${f.detail}`, data: { ...data, reason: "refused" } };
    case "malformed":
      return { message: `${name} broke the protocol answering ${method}: ${f.detail}`, data: { ...data, reason: "malformed" } };
  }
}
