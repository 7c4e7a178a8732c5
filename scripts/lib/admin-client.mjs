// A minimal admin-API client for scripts (dev server, tests, benchmarks).
export function adminClient(baseUrl, token) {
  async function call(method, path, body) {
    const res = await fetch(`${baseUrl}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const err = new Error(`${method} /admin/v1${path}: ${res.status} ${json?.error?.message ?? text}`);
      err.status = res.status;
      err.body = json;
      throw err;
    }
    return json;
  }
  return {
    call,
    createTenant: (id, options = {}) => call("POST", "/tenants", { id, ...options }),
    getTenant: (id) => call("GET", `/tenants/${id}`),
    createKey: (tenant, label, key) => call("POST", `/tenants/${tenant}/keys`, { label, ...(key ? { key } : {}) }),
    enableServer: (tenant, server) => call("PUT", `/tenants/${tenant}/servers/${server}`),
  };
}

/** Creates a tenant with servers enabled and, for key tenants, one key (`key` restores one the caller holds). */
export async function provisionTenant(admin, id, { servers = ["notes", "everything"], auth = "key", label = "default", key: restore } = {}) {
  await admin.createTenant(id, { auth });
  for (const server of servers) await admin.enableServer(id, server);
  if (auth === "none") return { tenant: id, key: null };
  const { key, id: keyId } = await admin.createKey(id, label, restore);
  return { tenant: id, key, keyId };
}
