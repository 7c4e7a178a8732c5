/**
 * The harness: the small module the platform loads next to a tenant's module in
 * the tenant's own isolate (`harness.js` imports `tenant.js`).
 *
 * It turns the tenant's plain-object module into four HTTP calls the platform makes
 * (`/describe`, `/tools/call`, `/resources/read`, `/prompts/get`), builds the `ctx`
 * a handler receives (with `ctx.env`, the server's secrets, which the module also
 * sees as `env` of `cloudflare:workers`), and shapes return values into MCP results. It runs beside
 * untrusted code and so is itself untrusted: the tenant can rewrite any global it
 * uses. Nothing here is a security boundary. The boundary is the isolate, the
 * bindings the platform chose to give it, and the platform's own checks on every
 * byte that comes back (size, JSON shape, MCP result schema).
 *
 * The protocol is HTTP with JSON bodies, not RPC, on purpose: the answer crosses
 * as bytes the platform reads with a bound, so no object, function or stub of the
 * tenant's ever reaches the platform's isolate.
 *
 * JSON Schemas are the tenant's too, so they are compiled and evaluated here, never
 * in the platform (`json-schema.js` is `@cfworker/json-schema`, bundled by
 * `pnpm build:sandbox`): `/describe` refuses a schema that does not compile, and
 * `/tools/call` checks the arguments against the tool's `inputSchema` before the
 * handler runs (an `invalid-params` reply, which the platform turns into -32602) and
 * the handler's `structuredContent` against its `outputSchema` (a tool error, as the
 * SDK does). Schemas are validated in their JSON form, exactly as `tools/list`
 * advertises them. The validation serves the tenant's handler; the tenant can
 * tamper with it in its own isolate, and nothing of the platform relies on it.
 */
import { SANDBOX_LIMITS } from "./limits";

export const HARNESS_MODULE = "harness.js";
export const TENANT_MODULE = "tenant.js";
export const JSON_SCHEMA_MODULE = "json-schema.js";
/** Marks a Response of `SandboxEgress` that is a refusal, not an upstream's answer. */
export const EGRESS_REFUSED_HEADER = "x-smcp-egress-refused";

/**
 * Module source both harnesses (this one and sdk/harness.ts) put first: a refused or
 * unreachable egress comes back as a marked Response (the platform answers rather than
 * throws, so its log stays clean, sandbox/entrypoints.ts); the tenant's fetch sees it as
 * what it is, a failed fetch, with the platform's message.
 */
export const EGRESS_FETCH_SOURCE = `const platformFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const response = await platformFetch(input, init);
  if (response.headers.get("${EGRESS_REFUSED_HEADER}") === "1") throw new TypeError(await response.text());
  return response;
};`;

export const HARNESS_SOURCE = `
import * as tenantModule from "./${TENANT_MODULE}";
import { Validator } from "./${JSON_SCHEMA_MODULE}";

const MAX_LOG_LINES = ${SANDBOX_LIMITS.maxLogLines};
const MAX_LOG_CHARS = ${SANDBOX_LIMITS.maxLogChars};
const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

${EGRESS_FETCH_SOURCE}

class BundleError extends Error {}

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const optText = (v, what) => {
  if (v !== undefined && typeof v !== "string") throw new BundleError(what + " must be a string");
  return v;
};

function definition() {
  const def = tenantModule.default;
  if (!isObject(def)) {
    throw new BundleError("the module's default export must be an object: export default { tools: [...], resources?: [...], prompts?: [...] }");
  }
  for (const key of ["tools", "resources", "prompts"]) {
    if (def[key] !== undefined && !Array.isArray(def[key])) throw new BundleError("export default { " + key + " } must be an array");
  }
  return def;
}

// JSON Schema dialects by "$schema" (none means 2020-12, as in MCP), as the SDK's validator reads them.
const DIALECTS = {
  "https://json-schema.org/draft/2020-12/schema": "2020-12",
  "http://json-schema.org/draft/2020-12/schema": "2020-12",
  "https://json-schema.org/draft/2019-09/schema": "2019-09",
  "http://json-schema.org/draft/2019-09/schema": "2019-09",
  "https://json-schema.org/draft-07/schema": "7",
  "http://json-schema.org/draft-07/schema": "7",
  "https://json-schema.org/draft-06/schema": "7",
  "http://json-schema.org/draft-06/schema": "7",
  "https://json-schema.org/draft-04/schema": "4",
  "http://json-schema.org/draft-04/schema": "4",
};

/** A validator of a schema in its JSON form (what tools/list advertises), or a BundleError saying why not. */
function compile(schema, what) {
  const json = JSON.parse(JSON.stringify(schema));
  const declared = typeof json.$schema === "string" ? json.$schema.replace(/#$/, "") : undefined;
  const draft = declared === undefined ? "2020-12" : DIALECTS[declared];
  if (!draft) throw new BundleError(what + " declares an unsupported JSON Schema dialect (" + declared.slice(0, 200) + "); use 2020-12, 2019-09, draft-07, draft-06 or draft-04");
  try {
    return new Validator(json, draft, true);
  } catch (err) {
    throw new BundleError(what + " does not compile: " + messageOf(err));
  }
}

/** Compiled once per isolate and tool object: what /tools/call checks against. */
const validators = new WeakMap();
function validatorsOf(tool) {
  let entry = validators.get(tool);
  if (!entry) {
    entry = {
      input: compile(tool.inputSchema ?? { type: "object" }, "tool " + tool.name + ": inputSchema"),
      output: tool.outputSchema === undefined ? null : compile(tool.outputSchema, "tool " + tool.name + ": outputSchema"),
    };
    validators.set(tool, entry);
  }
  return entry;
}

/** The validator's verdict as one bounded line ("" when valid), in the SDK's format. */
function issues(validator, value) {
  const result = validator.validate(value);
  if (result.valid) return "";
  return result.errors.map((e) => e.instanceLocation + ": " + e.error).join("; ").slice(0, MAX_LOG_CHARS);
}

function describe() {
  const def = definition();
  const tools = (def.tools ?? []).map((t, i) => {
    if (!isObject(t)) throw new BundleError("tools[" + i + "] must be an object");
    if (typeof t.name !== "string") throw new BundleError("tools[" + i + "].name must be a string");
    if (typeof t.handler !== "function") throw new BundleError("tool " + t.name + ": handler must be a function (args, ctx) => result");
    if (t.inputSchema !== undefined && !isObject(t.inputSchema)) throw new BundleError("tool " + t.name + ": inputSchema must be a JSON Schema object");
    if (t.outputSchema !== undefined && !isObject(t.outputSchema)) throw new BundleError("tool " + t.name + ": outputSchema must be a JSON Schema object");
    validatorsOf(t);
    return {
      name: t.name,
      title: optText(t.title, "tool " + t.name + ": title"),
      description: optText(t.description, "tool " + t.name + ": description"),
      inputSchema: t.inputSchema ?? { type: "object" },
      outputSchema: t.outputSchema,
      annotations: t.annotations,
    };
  });
  const resources = (def.resources ?? []).map((r, i) => {
    if (!isObject(r)) throw new BundleError("resources[" + i + "] must be an object");
    if (typeof r.uri !== "string") throw new BundleError("resources[" + i + "].uri must be a string");
    if (typeof r.read !== "function") throw new BundleError("resource " + r.uri + ": read must be a function (ctx) => contents");
    return {
      uri: r.uri,
      name: r.name ?? r.uri,
      title: optText(r.title, "resource " + r.uri + ": title"),
      description: optText(r.description, "resource " + r.uri + ": description"),
      mimeType: optText(r.mimeType, "resource " + r.uri + ": mimeType"),
    };
  });
  const prompts = (def.prompts ?? []).map((p, i) => {
    if (!isObject(p)) throw new BundleError("prompts[" + i + "] must be an object");
    if (typeof p.name !== "string") throw new BundleError("prompts[" + i + "].name must be a string");
    if (typeof p.get !== "function") throw new BundleError("prompt " + p.name + ": get must be a function (args, ctx) => messages");
    return {
      name: p.name,
      title: optText(p.title, "prompt " + p.name + ": title"),
      description: optText(p.description, "prompt " + p.name + ": description"),
      arguments: (p.arguments ?? []).map((a) => ({ name: a?.name, description: a?.description, required: a?.required })),
    };
  });
  return { tools, resources, prompts };
}

async function stored(answer) {
  const result = await answer;
  if (!result.ok) throw new Error(result.error);
  return result.value;
}
/** The server's environment variables (its secrets): env without the platform's own entries. */
const PLATFORM_ENTRIES = new Set(["STORE", "TENANT", "SERVER"]);
const variablesOf = (env) =>
  Object.freeze(Object.fromEntries(Object.entries(env).filter(([k, v]) => typeof v === "string" && !PLATFORM_ENTRIES.has(k))));

function context(env, call) {
  const logs = [];
  const store = env.STORE;
  const log = (level, ...parts) => {
    if (!LEVELS.includes(level)) {
      parts.unshift(level);
      level = "info";
    }
    if (logs.length >= MAX_LOG_LINES) return;
    const message = parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" ");
    logs.push({ level, message: message.slice(0, MAX_LOG_CHARS) });
  };
  const ctx = Object.freeze({
    tenant: env.TENANT,
    server: env.SERVER,
    // STORE answers {ok, value} or {ok: false, error}: a throw would cross RPC as an
    // uncaught exception of the platform. The handler sees a rejected promise, as usual.
    env: variablesOf(env),
    store: Object.freeze({
      put: (collection, id, value) => stored(store.put(collection, id, value)).then(() => undefined),
      get: (collection, id) => stored(store.get(collection, id)),
      list: (collection, options) => stored(store.list(collection, options ?? {})),
      search: (collection, text, options) => stored(store.search(collection, text, options ?? {})),
      delete: (collection, id) => stored(store.delete(collection, id)),
    }),
    log,
    fetch: (input, init) => fetch(input, init),
    // The W3C trace context of the platform's call (its CLIENT span), so the handler's own spans join the caller's trace.
    traceparent: typeof call?.traceparent === "string" ? call.traceparent : undefined,
  });
  return { ctx, logs };
}

const text = (t) => ({ type: "text", text: t });

function toolResult(out) {
  if (typeof out === "string") return { content: [text(out)] };
  if (isObject(out) && Array.isArray(out.content)) return out;
  if (out === undefined) return { content: [] };
  const json = JSON.stringify(out);
  return isObject(out) ? { content: [text(json)], structuredContent: out } : { content: [text(json)] };
}

function resourceResult(uri, mimeType, out) {
  if (typeof out === "string") return { contents: [{ uri, mimeType, text: out }] };
  if (isObject(out) && Array.isArray(out.contents)) return out;
  if (isObject(out) && (typeof out.text === "string" || typeof out.blob === "string")) {
    return { contents: [{ uri, mimeType: out.mimeType ?? mimeType, ...(typeof out.text === "string" ? { text: out.text } : { blob: out.blob }) }] };
  }
  return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify(out) }] };
}

function promptResult(out) {
  if (typeof out === "string") return { messages: [{ role: "user", content: text(out) }] };
  if (isObject(out) && Array.isArray(out.messages)) return out;
  throw new Error("a prompt's get() must return a string or { messages: [...] }");
}

const messageOf = (err) => (err instanceof Error ? err.message : String(err)).slice(0, MAX_LOG_CHARS);
const reply = (body) => new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });

async function serve(op, call, env) {
  const def = definition();
  const { ctx, logs } = context(env, call);
  try {
    if (op === "/tools/call") {
      const tool = (def.tools ?? []).find((t) => t?.name === call.name);
      if (!tool) return reply({ ok: false, kind: "unknown", error: "no tool " + call.name });
      const checks = validatorsOf(tool);
      const args = call.args ?? {};
      const refused = issues(checks.input, args);
      if (refused) return reply({ ok: false, kind: "invalid-params", error: refused });
      const result = toolResult(await tool.handler(args, ctx));
      if (checks.output && !result.isError) {
        if (result.structuredContent === undefined) {
          return reply({ ok: false, kind: "tenant", error: "Output validation error: Tool " + tool.name + " has an output schema but no structured content was provided", logs });
        }
        const wrong = issues(checks.output, result.structuredContent);
        if (wrong) return reply({ ok: false, kind: "tenant", error: "Output validation error: Invalid structured content for tool " + tool.name + ": " + wrong, logs });
      }
      return reply({ ok: true, result, logs });
    }
    if (op === "/resources/read") {
      const resource = (def.resources ?? []).find((r) => r?.uri === call.uri);
      if (!resource) return reply({ ok: false, kind: "unknown", error: "no resource " + call.uri });
      return reply({ ok: true, result: resourceResult(resource.uri, resource.mimeType, await resource.read(ctx)), logs });
    }
    if (op === "/prompts/get") {
      const prompt = (def.prompts ?? []).find((p) => p?.name === call.name);
      if (!prompt) return reply({ ok: false, kind: "unknown", error: "no prompt " + call.name });
      return reply({ ok: true, result: promptResult(await prompt.get(call.args ?? {}, ctx)), logs });
    }
    return reply({ ok: false, kind: "unknown", error: "no operation " + op });
  } catch (err) {
    return reply({ ok: false, kind: "tenant", error: messageOf(err), logs });
  }
}

export default {
  async fetch(request, env) {
    const op = new URL(request.url).pathname;
    if (op === "/describe") {
      try {
        return reply({ ok: true, manifest: describe() });
      } catch (err) {
        return reply({ ok: false, kind: "bundle", error: messageOf(err) });
      }
    }
    return serve(op, await request.json(), env);
  },
};
`;
