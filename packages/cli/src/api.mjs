/**
 * The admin API over HTTP, and the one place that turns transport failures into
 * errors a person can act on: nothing listening, a refused token, an API error
 * (its own message, which names the unknown tenant or session), a timeout. Commands
 * get parsed JSON or a CliError; they never see a fetch exception or a status code.
 */
import { ApiError, CliError } from "./errors.mjs";

const TIMEOUT_MS = 30_000;
/** A deploy uploads up to 10 MiB and waits for the platform to start the server in a check isolate. */
const DEPLOY_TIMEOUT_MS = 120_000;

/**
 * A path under /admin/v1 with every interpolated value URL-encoded:
 * adminPath`/tenants/${t}/sessions/${sid}`.
 * @param {TemplateStringsArray} strings
 * @param {...(string | number)} values
 */
export function adminPath(strings, ...values) {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? encodeURIComponent(String(values[i])) : ""), "");
}

/**
 * @param {{ url: string, token: string | null }} config
 * @param {{ fetch?: typeof fetch, timeoutMs?: number }} [options]
 */
export function createApi(config, { fetch: fetchImpl = globalThis.fetch, timeoutMs = TIMEOUT_MS } = {}) {
  /**
   * @param {"GET" | "POST" | "PUT" | "DELETE"} method
   * @param {string} path from adminPath
   * @param {{ query?: Record<string, string | number | undefined>, body?: unknown, rawBody?: string, contentType?: string, signal?: AbortSignal, timeoutMs?: number }} [options]
   *   `body` is sent as JSON, `rawBody` as it is (text/plain unless `contentType` says otherwise: a secret's value, a deployment)
   * @returns {Promise<any>} the parsed JSON answer
   */
  async function request(method, path, { query, body, rawBody, contentType = "text/plain; charset=utf-8", signal, timeoutMs: waitMs = timeoutMs } = {}) {
    if (!config.token) {
      throw new CliError("no admin token: pass --token or set SMCP_ADMIN_TOKEN (for a local URL, `pnpm dev` also leaves one in .dev.vars)");
    }
    const url = new URL(`${config.url}/admin/v1${path}`);
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const timeout = AbortSignal.timeout(waitMs);
    let response;
    try {
      response = await fetchImpl(url, {
        method,
        headers: {
          authorization: `Bearer ${config.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(rawBody === undefined ? {} : { "content-type": contentType }),
        },
        body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw transportError(err, config.url, timeout, waitMs);
    }
    const text = await response.text();
    const json = parseJson(text);
    if (response.status === 401) {
      // A tenant admin key that stopped working says so: it was revoked, or its tenant deleted.
      if (config.token.startsWith("smcp_ak_")) throw new CliError("the tenant admin key was refused (revoked, or its tenant deleted); ask for a new one or use the platform admin token");
      throw new CliError("the admin token was refused; set SMCP_ADMIN_TOKEN or --token");
    }
    if (!response.ok) {
      const error = json?.error;
      if (typeof error?.message === "string") throw new ApiError(response.status, String(error.code ?? ""), error.message);
      throw new ApiError(response.status, "", `${method} ${url.pathname} answered ${response.status} ${response.statusText}; is ${config.url} an SMCP platform?`);
    }
    if (json === undefined) throw new CliError(`${method} ${url.pathname} did not answer JSON; is ${config.url} an SMCP platform?`);
    return json;
  }

  return {
    /** The platform's URL, for the addresses a command prints (`<base>/mcp/<tenant>/<server>`). */
    base: config.url,
    request,
    /** @param {string} path @param {Record<string, string | number | undefined>} [query] @param {AbortSignal} [signal] */
    get: (path, query, signal) => request("GET", path, { query, signal }),
    /** @param {string} path @param {unknown} [body] */
    post: (path, body) => request("POST", path, { body: body ?? {} }),
    /** @param {string} path */
    put: (path) => request("PUT", path),
    /** @param {string} path @param {string} text the body, sent as it is */
    putText: (path, text) => request("PUT", path, { rawBody: text }),
    /**
     * A body that is already serialized (a deployment), with its content type; it may take
     * as long as the platform's health check of it.
     * @param {string} path @param {string} contentType @param {string} body
     */
    putBody: (path, contentType, body) => request("PUT", path, { rawBody: body, contentType, timeoutMs: DEPLOY_TIMEOUT_MS }),
    /** @param {string} path @param {Record<string, string | number | undefined>} [query] */
    delete: (path, query) => request("DELETE", path, { query }),
  };
}

/** @typedef {ReturnType<typeof createApi>} Api */

/** @param {string} text */
function parseJson(text) {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {unknown} err
 * @param {string} url
 * @param {AbortSignal} timeout
 * @param {number} timeoutMs
 */
function transportError(err, url, timeout, timeoutMs) {
  if (timeout.aborted) return new CliError(`SMCP at ${url} did not answer within ${timeoutMs / 1000} s`);
  if (err instanceof Error && err.name === "AbortError") return err; // the user stopped us (Ctrl+C); the caller decides
  const cause = /** @type {{ code?: string, message?: string, errors?: { code?: string }[] } | undefined} */ (err instanceof Error ? err.cause : undefined);
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  const why = code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  const detail = code === "ECONNREFUSED" ? "" : ` (${why})`;
  return new CliError(`cannot reach SMCP at ${url}${detail}: is \`pnpm dev\` running?`);
}
