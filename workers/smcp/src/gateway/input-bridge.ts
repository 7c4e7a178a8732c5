/**
 * The input rounds of the stateless lane (2026-07-28 clients in front of a 2025-era
 * upstream). A 2025 upstream asks for sampling, elicitation or roots in the middle of
 * a call, as a request of its own; a 2026 client expects the call's answer to be an
 * `input_required` result, and sends the call again with `inputResponses` and the
 * `requestState` it was given. Between the two, the upstream call waits here, in the
 * principal's upstream object (principal-upstream-do.ts), parked under a handle.
 *
 * The handle is the whole `requestState`: 32 random bytes, so it cannot be guessed;
 * it is looked up only in the object of the principal it was minted for (and checked
 * against that principal, the method and the tool or resource it was minted for);
 * anything else a client echoes is refused before it is looked at further (hostile
 * input: size-capped, shape-checked). A parked call is bounded in number
 * (MAX_PARKED per object) and in time (PARK_TTL_MS, under the runtime's idle
 * eviction of the object): past it the upstream call is cancelled upstream and
 * forgotten, and its handle is refused with an error that says the call was lost.
 */
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from "@modelcontextprotocol/server";

/** The upstream requests a 2026 client answers through input rounds, by the client capability each needs. */
export const INPUT_METHODS: ReadonlyMap<string, string> = new Map([
  ["sampling/createMessage", "sampling"],
  ["elicitation/create", "elicitation"],
  ["roots/list", "roots"],
]);
/** The 2026 methods whose results may be `input_required`. */
export const ROUND_METHODS = new Set(["tools/call", "prompts/get", "resources/read"]);

export const MAX_PARKED = 16;
/** How long a call waits for the client's answers; well under the idle time after which the runtime may evict the object. */
export const PARK_TTL_MS = 60_000;
const MAX_STATE_CHARS = 64;
const MAX_RESPONSE_CHARS = 256 * 1024;
const HANDLE_PREFIX = "smcp-in.";
const HANDLE = /^smcp-in\.[A-Za-z0-9_-]{43}$/;

/** One upstream request waiting for the client's answer. */
export interface Asked {
  key: string;
  upstreamId: RequestId;
  method: string;
  params: Record<string, unknown>;
}

/** An upstream call relayed for a 2026 client, over one or more of its requests. */
export interface BridgedCall {
  /** SMCP's id of the call upstream. */
  id: string;
  principal: string;
  method: string;
  /** The tool, prompt or resource the call is about: a retried call must name the same. */
  target: string;
  /** The client request of the current round, and where its lines go; null while parked. */
  sink: { clientId: RequestId; progressToken: unknown; write(m: JSONRPCMessage): void; close(): void } | null;
  asked: Asked[];
  /** The upstream's answer (or an error in its place) that came while parked. */
  final: JSONRPCMessage | null;
  handle: string | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  seq: number;
}

export const targetOf = (request: JSONRPCRequest): string => {
  const p = (request.params ?? {}) as { name?: unknown; uri?: unknown };
  return String(p.name ?? p.uri ?? "").slice(0, 1024);
};

const lost = (why: string) => ({
  code: -32602,
  message: `requestState refused: ${why}. The upstream call it stood for is lost (a call waits at most ${PARK_TTL_MS / 1000} s for its input, and not across a restart of SMCP's upstream object); send the request again without requestState`,
  data: { reason: "invalid_request_state" },
});

function mintHandle(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return HANDLE_PREFIX + btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export class ParkedCalls {
  readonly #byHandle = new Map<string, BridgedCall>();

  get size(): number {
    return this.#byHandle.size;
  }

  /** Parks `call` (its current round answered input_required) until `expire` runs at its TTL; returns the handle. */
  park(call: BridgedCall, expire: (call: BridgedCall) => void): string {
    const handle = mintHandle();
    call.handle = handle;
    this.#byHandle.set(handle, call);
    call.timer = setTimeout(() => {
      if (this.#byHandle.get(handle) !== call) return;
      this.#byHandle.delete(handle);
      expire(call);
    }, PARK_TTL_MS);
    return handle;
  }

  /** Takes the call a retried request names, or says why not (an error for the client). */
  take(state: unknown, principal: string, request: JSONRPCRequest): { ok: true; call: BridgedCall } | { ok: false; error: { code: number; message: string; data: unknown } } {
    if (typeof state !== "string" || state.length > MAX_STATE_CHARS || !HANDLE.test(state)) return { ok: false, error: lost("it is not one SMCP issued") };
    const call = this.#byHandle.get(state);
    // Another principal's handle is in another object: here it is just unknown, as a forged one is.
    if (!call || call.principal !== principal) return { ok: false, error: lost("it is unknown or expired") };
    if (call.method !== request.method || call.target !== targetOf(request)) return { ok: false, error: lost(`it was issued for ${call.method} of ${call.target}`) };
    this.#byHandle.delete(state);
    if (call.timer !== undefined) clearTimeout(call.timer);
    call.handle = null;
    return { ok: true, call };
  }

  /** Forgets every parked call (the object's upstream sessions are going away). */
  forgetAll(expire: (call: BridgedCall) => void): void {
    for (const [handle, call] of this.#byHandle) {
      this.#byHandle.delete(handle);
      if (call.timer !== undefined) clearTimeout(call.timer);
      expire(call);
    }
  }
}

/** The `input_required` result that asks the client for what the upstream asked. */
export function inputRequiredResult(asked: Asked[], handle: string): Record<string, unknown> {
  const inputRequests: Record<string, unknown> = {};
  for (const a of asked) inputRequests[a.key] = { method: a.method, params: a.params };
  return { resultType: "input_required", inputRequests, requestState: handle };
}

/** The upstream request's params as the client gets them: a plain object, the 2025-only `_meta` correlation left out. */
export function inputParams(m: JSONRPCRequest): Record<string, unknown> {
  const params = typeof m.params === "object" && m.params !== null && !Array.isArray(m.params) ? { ...(m.params as Record<string, unknown>) } : {};
  delete params._meta;
  return params;
}

/**
 * The client's answer to `key`: a plain object of bounded size is passed on; one too
 * large becomes an error for the upstream's request; a missing one (or not an object)
 * is asked for again.
 */
export function answerFor(responses: unknown, key: string): { result: Record<string, unknown> } | { error: string } | null {
  if (typeof responses !== "object" || responses === null || Array.isArray(responses)) return null;
  const answer = (responses as Record<string, unknown>)[key];
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) return null;
  if (JSON.stringify(answer).length > MAX_RESPONSE_CHARS) return { error: `the client's answer was larger than ${MAX_RESPONSE_CHARS / 1024} KiB` };
  return { result: answer as Record<string, unknown> };
}
