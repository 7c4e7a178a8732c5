/**
 * A deployed server's secrets on their way into its sandbox: read sealed from the
 * tenant, opened here with the platform key just before an isolate is loaded, and
 * handed to the loader as the isolate's environment (sandbox/client.ts). Values live
 * only in the memory of the isolate that loads the sandbox, for as long as the server
 * object that needs them (to load its isolate and to redact its console output).
 *
 * A value still sealed under `SMCP_SECRETS_KEY_PREVIOUS` is sealed again under the
 * current key in the background, so a rotation completes by itself as servers are
 * used (`POST /admin/v1/tenants/{t}/secrets/rekey` does it at once).
 */
import { waitUntil } from "cloudflare:workers";
import { loadKeyring, openSecret, sealSecret, secretBinding, type KeyringResult, type NamedSecret, type SealedSecret, type SecretKeyring } from "@smcp/runtime";
import { tenantStub, type Env } from "../env";
import { logEvent } from "../log";

const keyrings = new WeakMap<object, Promise<KeyringResult>>();

/** The platform's keyring, read once per env object. */
export function secretsKeyring(env: Env): Promise<KeyringResult> {
  let ring = keyrings.get(env);
  if (!ring) keyrings.set(env, (ring = loadKeyring(env.SMCP_SECRETS_KEY, env.SMCP_SECRETS_KEY_PREVIOUS)));
  return ring;
}

export type ServerSecrets =
  | { ok: true; revision: number; values: NamedSecret[] }
  | { ok: false; reason: "unknown-tenant" | "no-key" | "unreadable"; message: string };

/** The opened secrets of `server`, or why they cannot be opened (the message names what to do). */
export async function serverSecrets(env: Env, tenant: string, incarnation: string, server: string): Promise<ServerSecrets> {
  const stub = tenantStub(env, tenant);
  const stored = await stub.secretsSealed(server, incarnation);
  if (!stored.ok) return { ok: false, reason: "unknown-tenant", message: `tenant ${tenant} no longer exists` };
  return openSecrets(env, tenant, server, stored.value, (stale) => stub.secretsReseal(stale, "platform"));
}

type Reseal = (stale: { server: string; name: string; from: SealedSecret; to: SealedSecret }[]) => Promise<unknown>;

/**
 * Opens sealed values already read from the tenant (the tenant object itself calls
 * this for its upstream health probes, with its own store); values still under the
 * previous key are handed to `reseal` in the background.
 */
export async function openSecrets(env: Env, tenant: string, server: string, stored: { revision: number; secrets: { name: string; sealed: SealedSecret }[] }, reseal: Reseal): Promise<ServerSecrets> {
  const { revision, secrets } = stored;
  if (secrets.length === 0) return { ok: true, revision, values: [] };
  const ring = await secretsKeyring(env);
  if (!ring.ok) {
    return { ok: false, reason: "no-key", message: `server ${server} has secrets but ${ring.detail}; the platform operator must set it (wrangler secret put SMCP_SECRETS_KEY)` };
  }
  const values: NamedSecret[] = [];
  const stale: { server: string; name: string; from: SealedSecret; to: SealedSecret }[] = [];
  for (const { name, sealed } of secrets) {
    const binding = secretBinding(tenant, server, name);
    const opened = await openSecret(ring.keyring, binding, sealed);
    if (!opened.ok) return { ok: false, reason: "unreadable", message: unreadable(server, name, sealed, opened.reason) };
    values.push({ name, value: opened.value });
    if (opened.stale) stale.push({ server, name, from: sealed, to: await sealSecret(ring.keyring, binding, opened.value) });
  }
  if (stale.length > 0) {
    waitUntil(
      reseal(stale).then(
        () => undefined,
        (err: unknown) => logEvent("warn", "secret re-seal failed", { tenant, server, error: String(err) }),
      ),
    );
  }
  return { ok: true, revision, values };
}

/** The values as the isolate's environment variables. */
export const secretVars = (values: readonly NamedSecret[]): Record<string, string> => Object.fromEntries(values.map((s) => [s.name, s.value]));

function unreadable(server: string, name: string, sealed: SealedSecret, reason: "unknown-key" | "corrupt"): string {
  return reason === "unknown-key"
    ? `secret ${name} of server ${server} is sealed under key ${sealed.keyId}, which is neither SMCP_SECRETS_KEY nor SMCP_SECRETS_KEY_PREVIOUS; set the secret again`
    : `secret ${name} of server ${server} does not decrypt (it was altered); set the secret again`;
}

/** Re-seals every value of a tenant not under the current key, a page at a time; how many were re-sealed and how many cannot be opened. */
export async function rekeyTenant(env: Env, tenant: string, keyring: SecretKeyring): Promise<{ ok: true; rekeyed: number; unreadable: string[] } | { ok: false }> {
  const stub = tenantStub(env, tenant);
  let after: { server: string; name: string } | null = null;
  let rekeyed = 0;
  const failed: string[] = [];
  for (;;) {
    const page = await stub.secretsStale(keyring.current.id, after, 100);
    if (!page.ok) return { ok: false };
    if (page.value.length === 0) return { ok: true, rekeyed, unreadable: failed };
    const batch: { server: string; name: string; from: SealedSecret; to: SealedSecret }[] = [];
    for (const { server, name, sealed } of page.value) {
      const binding = secretBinding(tenant, server, name);
      const opened = await openSecret(keyring, binding, sealed);
      if (opened.ok) batch.push({ server, name, from: sealed, to: await sealSecret(keyring, binding, opened.value) });
      else failed.push(`${server}/${name}`);
    }
    if (batch.length > 0) {
      const done = await stub.secretsReseal(batch, "admin");
      if (!done.ok) return { ok: false };
      rekeyed += done.value;
    }
    const last = page.value.at(-1)!;
    after = { server: last.server, name: last.name };
  }
}
