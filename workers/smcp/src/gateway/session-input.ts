/**
 * A 2026 upstream's `input_required` answer, read for a 2025 session client: which
 * input requests it carries (the revision's three kinds, each an embedded
 * `{ method, params }` under a key of the upstream's), whether the client declared what
 * each needs, and the 2025 request that asks the client for it. The answers go back
 * upstream as `inputResponses` under the same keys (the bare results), with the
 * upstream's `requestState` echoed byte for byte.
 *
 * Everything here comes from an untrusted upstream: keys, counts and the state are
 * bounded, and anything else is refused with a reason (the call then ends with it).
 */

/** Input rounds one call may go through (as SMCP_MAX_TASK_INPUT_ROUNDS's default and the SDK client's). */
export const MAX_INPUT_ROUNDS = 10;
const MAX_INPUT_REQUESTS = 16;
const MAX_KEY_LENGTH = 128;
const MAX_REQUEST_STATE = 65_536;

export interface InputRequest {
  key: string;
  method: "sampling/createMessage" | "elicitation/create" | "roots/list";
  params: Record<string, unknown>;
}

export type ReadInput = { ok: true; requests: InputRequest[]; requestState?: string } | { ok: false; reason: string };

const KINDS = new Set(["sampling/createMessage", "elicitation/create", "roots/list"]);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The input requests and state of an `input_required` result, or why they cannot be bridged. */
export function readInputRequired(result: Record<string, unknown>): ReadInput {
  const { inputRequests, requestState } = result;
  if (requestState !== undefined && (typeof requestState !== "string" || requestState.length > MAX_REQUEST_STATE)) {
    return { ok: false, reason: `its requestState is not a string of at most ${MAX_REQUEST_STATE} characters` };
  }
  if (inputRequests !== undefined && !isObject(inputRequests)) return { ok: false, reason: "its inputRequests is not an object" };
  const entries = Object.entries(inputRequests ?? {});
  if (entries.length === 0 && requestState === undefined) return { ok: false, reason: "it carried neither inputRequests nor requestState" };
  if (entries.length > MAX_INPUT_REQUESTS) return { ok: false, reason: `it asked for more than ${MAX_INPUT_REQUESTS} inputs at once` };
  const requests: InputRequest[] = [];
  for (const [key, entry] of entries) {
    if (key.length > MAX_KEY_LENGTH) return { ok: false, reason: `an input key is longer than ${MAX_KEY_LENGTH} characters` };
    if (!isObject(entry) || typeof entry.method !== "string" || !KINDS.has(entry.method)) {
      return { ok: false, reason: `input '${key.slice(0, 64)}' is not a sampling/createMessage, elicitation/create or roots/list request` };
    }
    if (entry.params !== undefined && !isObject(entry.params)) return { ok: false, reason: `input '${key.slice(0, 64)}' has params that are not an object` };
    if (entry.method !== "roots/list" && entry.params === undefined) return { ok: false, reason: `input '${key.slice(0, 64)}' (${entry.method}) has no params` };
    requests.push({ key, method: entry.method as InputRequest["method"], params: (entry.params as Record<string, unknown> | undefined) ?? {} });
  }
  return { ok: true, requests, ...(typeof requestState === "string" ? { requestState } : {}) };
}

/** What a 2025 client must have declared at `initialize` to be asked for `input`; null when it did. */
export function missingCapability(input: InputRequest, declared: unknown): string | null {
  const caps = isObject(declared) ? declared : {};
  switch (input.method) {
    case "sampling/createMessage": {
      if (!isObject(caps.sampling)) return "sampling";
      const tools = input.params.tools !== undefined || input.params.toolChoice !== undefined;
      return tools && !isObject(caps.sampling.tools) ? "sampling.tools" : null;
    }
    case "elicitation/create": {
      if (!isObject(caps.elicitation)) return "elicitation";
      // A 2025-06-18 client's `elicitation: {}` means form mode; URL mode must be declared.
      return input.params.mode === "url" && !isObject(caps.elicitation.url) ? "elicitation.url" : null;
    }
    case "roots/list":
      return isObject(caps.roots) ? null : "roots";
  }
}

/** The 2025-era params of `input`: a URL elicitation there needs an `elicitationId`, which the 2026 shape has none of. */
export function legacyParams(input: InputRequest): Record<string, unknown> {
  if (input.method === "elicitation/create" && input.params.mode === "url" && typeof input.params.elicitationId !== "string") {
    return { ...input.params, elicitationId: crypto.randomUUID() };
  }
  return input.params;
}
