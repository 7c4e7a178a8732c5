/** Guards `/admin/v1`: `Authorization: Bearer $SMCP_ADMIN_TOKEN`, compared in constant time. */
import { WireError, bearerToken, secretsEqual } from "@smcp/runtime";
import type { Env } from "../env";

export async function requireAdmin(request: Request, env: Env): Promise<void> {
  if (!env.SMCP_ADMIN_TOKEN) {
    throw new WireError({ status: 503, code: "admin_disabled", message: "SMCP_ADMIN_TOKEN is not set; the admin API is off" });
  }
  const token = bearerToken(request.headers.get("authorization"));
  if (!token || !(await secretsEqual(token, env.SMCP_ADMIN_TOKEN))) {
    throw new WireError({
      status: 401,
      code: "unauthorized",
      message: "Admin API needs Authorization: Bearer <SMCP_ADMIN_TOKEN>",
      headers: { "WWW-Authenticate": 'Bearer realm="smcp-admin"' },
    });
  }
}
