/**
 * The admin caller of the request being handled, and the tenant stub that acts as it.
 *
 * The router runs each admin handler inside `actAs(caller)`. While a tenant admin key
 * is the caller, `tenantStub` (env.ts) hands out a stub whose every method call goes
 * through `TenantDO.adminKeyCall`: the tenant object re-checks the key at each call
 * and audits the call's admin actions as that key. Handlers stay as they are, written
 * against the plain stub, and a handler added later (secrets, policy) is covered
 * without a change. A stub for any tenant but the key's own is refused outright, in
 * case a handler ever reaches across tenants.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { WireError, wire } from "@smcp/runtime";
import type { TenantDO } from "../tenant-do";

type AdminKeyCallResult = Awaited<ReturnType<TenantDO["adminKeyCall"]>>;
import type { AdminCaller } from "./require-admin";

const current = new AsyncLocalStorage<AdminCaller>();

export function actAs<T>(caller: AdminCaller, work: () => T): T {
  return current.run(caller, work);
}

/** Properties of a Durable Object stub that are not RPC methods. */
const STUB_PROPERTIES = new Set(["id", "name"]);

/** `stub`, or for a tenant admin key the stub that calls through `adminKeyCall`. */
export function asAdminCaller(stub: DurableObjectStub<TenantDO>, tenant: string): DurableObjectStub<TenantDO> {
  const caller = current.getStore();
  if (!caller || caller.kind === "platform") return stub;
  if (caller.tenant !== tenant) throw otherTenant(caller.tenant);
  const identity = { keyId: caller.keyId, incarnation: caller.incarnation };
  return new Proxy(stub, {
    get(target, prop) {
      if (typeof prop !== "string" || STUB_PROPERTIES.has(prop)) return Reflect.get(target, prop);
      if (prop === "then") return undefined; // the stub itself is not a promise
      return async (...args: unknown[]) => {
        const result = (await target.adminKeyCall(identity, prop, args)) as AdminKeyCallResult;
        if (result.ok) return result.value;
        if (result.reason === "invalid-admin-key") throw new WireError({ status: 401, code: "unauthorized", message: "Invalid or revoked tenant admin key", headers: { "WWW-Authenticate": 'Bearer realm="smcp-admin"' } });
        throw platformOnly(caller.tenant);
      };
    },
  });
}

export const otherTenant = (own: string) => wire.forbidden("forbidden", `This admin key manages tenant ${own} only`);

export const platformOnly = (own: string, what = "This call") =>
  wire.forbidden("forbidden", `${what} needs the platform admin token (SMCP_ADMIN_TOKEN); a tenant admin key manages only its own tenant (${own})`);
