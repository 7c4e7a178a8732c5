/**
 * The protocol state a 2025 client sets on its session (log level, resource
 * subscriptions), kept with the session (`meta.replay`) so that whatever serves it
 * after a rebuild (a built-in server rebuilt after its idle SDK objects were dropped
 * or the object was evicted, a new sandbox instance, a new upstream session) is told
 * again, and the client notices nothing. One shape and one update rule for every backend.
 */

export interface ReplayState {
  logLevel?: string;
  subscriptions?: string[];
}

/** Subscriptions kept per session: what is stored (and replayed) is bounded. */
export const MAX_SUBSCRIPTIONS = 100;
const MAX_URI_CHARS = 2_048;
const MAX_LEVEL_CHARS = 32;

/** The methods whose success changes the replay state. */
export const REPLAYED_METHODS = ["logging/setLevel", "resources/subscribe", "resources/unsubscribe"] as const;

/**
 * Applies a request the server answered with success to `state`; true when the state
 * changed (so the caller stores it only then, never once per request).
 */
export function keepReplayState(state: ReplayState, method: string, params: unknown): boolean {
  const p = params as { level?: unknown; uri?: unknown } | undefined;
  if (method === "logging/setLevel" && typeof p?.level === "string") {
    const level = p.level.slice(0, MAX_LEVEL_CHARS);
    if (state.logLevel === level) return false;
    state.logLevel = level;
    return true;
  }
  if (method === "resources/subscribe" && typeof p?.uri === "string") {
    const uri = p.uri.slice(0, MAX_URI_CHARS);
    const subs = state.subscriptions ?? [];
    if (subs.includes(uri) || subs.length >= MAX_SUBSCRIPTIONS) return false;
    state.subscriptions = [...subs, uri];
    return true;
  }
  if (method === "resources/unsubscribe" && typeof p?.uri === "string") {
    const subs = state.subscriptions ?? [];
    if (!subs.includes(p.uri)) return false;
    state.subscriptions = subs.filter((u) => u !== p.uri);
    return true;
  }
  return false;
}

/** The requests that tell a new server the state, in order: the level first, then each subscription. */
export function replayRequests(state: ReplayState): { method: string; params: Record<string, unknown> }[] {
  const out: { method: string; params: Record<string, unknown> }[] = [];
  if (state.logLevel) out.push({ method: "logging/setLevel", params: { level: state.logLevel } });
  for (const uri of state.subscriptions ?? []) out.push({ method: "resources/subscribe", params: { uri } });
  return out;
}
