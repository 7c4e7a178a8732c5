/**
 * A server's tool policy (`PUT .../policy`): which of its tools clients see, under
 * which names, with which descriptions. Pure functions: the admin API checks a policy
 * with them, and the protocol layer (policy/govern.ts) applies one to `tools/list`
 * answers and `tools/call` requests, whatever kind of server is behind.
 *
 * Every name in a policy is a tool's real name (the one the server registers), in
 * `allow`, `deny`, the keys of `rename` and the keys of `descriptions`; only the
 * values of `rename` are names clients see. What a policy cannot say is refused when
 * it is stored, because the server's tools may be unknown then (an upstream that is
 * down): two tools renamed to one name, a new name that is a tool left visible under
 * its own name by `allow`, a name both allowed and denied, and a rename or description
 * of a tool the policy hides. A server tool whose real name a rename takes over anyway
 * (it was not named in the policy) is hidden: the rename wins.
 */

/** As stored in the tenant's KV (`policy:{server}`) and handed to sessions and requests. */
export interface ToolPolicy {
  allow?: string[];
  deny?: string[];
  /** Real name to the name clients see. */
  rename?: Record<string, string>;
  /** Real name to the description clients see. */
  descriptions?: Record<string, string>;
  updatedAt: number;
}

/** The MCP tool-name rules (2025-11-25): 1 to 128 of A-Z a-z 0-9 _ - . */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
export const MAX_POLICY_NAMES = 200;
export const MAX_POLICY_RENAMES = 100;
export const MAX_POLICY_DESCRIPTIONS = 100;
export const MAX_POLICY_DESCRIPTION = 2_048;

export type PolicyCheck = { ok: true; value: Omit<ToolPolicy, "updatedAt"> } | { ok: false; reason: string };

const shown = (name: string) => JSON.stringify(name.slice(0, 130));

/** Checks a `PUT .../policy` body (already shaped by zod); the reason names the first problem. */
export function checkPolicy(body: { allow?: string[]; deny?: string[]; rename?: Record<string, string>; descriptions?: Record<string, string> }): PolicyCheck {
  const lists = { allow: body.allow, deny: body.deny } as const;
  for (const [field, list] of Object.entries(lists)) {
    if (!list) continue;
    if (list.length > MAX_POLICY_NAMES) return { ok: false, reason: `${field}: at most ${MAX_POLICY_NAMES} tool names` };
    const seen = new Set<string>();
    for (const name of list) {
      if (!TOOL_NAME.test(name)) return { ok: false, reason: `${field}: ${shown(name)} is not a tool name (1 to 128 of A-Z a-z 0-9 _ - .)` };
      if (seen.has(name)) return { ok: false, reason: `${field}: ${name} is given twice` };
      seen.add(name);
    }
  }
  const allow = body.allow ? new Set(body.allow) : null;
  const deny = new Set(body.deny ?? []);
  for (const name of deny) if (allow?.has(name)) return { ok: false, reason: `${name} is both allowed and denied; name it in one list` };
  const hidden = (name: string) => deny.has(name) || (allow !== null && !allow.has(name));

  const rename = Object.entries(body.rename ?? {});
  if (rename.length > MAX_POLICY_RENAMES) return { ok: false, reason: `rename: at most ${MAX_POLICY_RENAMES} tools` };
  const renamed = new Set(rename.map(([from]) => from));
  const taken = new Map<string, string>();
  for (const [from, to] of rename) {
    if (!TOOL_NAME.test(from)) return { ok: false, reason: `rename: ${shown(from)} is not a tool name (1 to 128 of A-Z a-z 0-9 _ - .)` };
    if (!TOOL_NAME.test(to)) return { ok: false, reason: `rename: the new name of ${from}, ${shown(to)}, is not a tool name (1 to 128 of A-Z a-z 0-9 _ - .)` };
    if (from === to) return { ok: false, reason: `rename: ${from} is renamed to itself` };
    if (hidden(from)) return { ok: false, reason: `rename: ${from} is hidden by this policy (deny, or not in allow); a hidden tool cannot be renamed` };
    const other = taken.get(to);
    if (other !== undefined) return { ok: false, reason: `rename: ${other} and ${from} are both renamed to ${to}; two tools cannot share a name` };
    taken.set(to, from);
    // A tool the policy keeps visible under its own name already has this name.
    if (allow?.has(to) && !renamed.has(to)) return { ok: false, reason: `rename: ${from} is renamed to ${to}, which is the name of another tool this policy allows; rename that one too, or pick another name` };
  }

  const descriptions = Object.entries(body.descriptions ?? {});
  if (descriptions.length > MAX_POLICY_DESCRIPTIONS) return { ok: false, reason: `descriptions: at most ${MAX_POLICY_DESCRIPTIONS} tools` };
  for (const [name, text] of descriptions) {
    if (!TOOL_NAME.test(name)) return { ok: false, reason: `descriptions: ${shown(name)} is not a tool name (descriptions are keyed by the tool's real name)` };
    if (hidden(name)) return { ok: false, reason: `descriptions: ${name} is hidden by this policy (deny, or not in allow)` };
    if (text.length > MAX_POLICY_DESCRIPTION) return { ok: false, reason: `descriptions: the description of ${name} is longer than ${MAX_POLICY_DESCRIPTION} characters` };
    if (/\0/.test(text)) return { ok: false, reason: `descriptions: the description of ${name} has a NUL` };
  }

  const value: Omit<ToolPolicy, "updatedAt"> = {};
  if (body.allow) value.allow = [...body.allow];
  if (body.deny?.length) value.deny = [...body.deny];
  if (rename.length) value.rename = Object.fromEntries(rename);
  if (descriptions.length) value.descriptions = Object.fromEntries(descriptions);
  return { ok: true, value };
}

/** A policy turned into the two maps the protocol layer needs. */
export interface PolicyView {
  /** The name a client sees for a real tool name, or null when the tool is hidden. */
  visible(real: string): string | null;
  /** The real name behind a name a client calls, or null when no visible tool has it. */
  real(visible: string): string | null;
  description(real: string): string | undefined;
}

/** Views by policy object: a resolved policy is shared by the requests and sessions that read it, so its view is built once. */
const views = new WeakMap<ToolPolicy, PolicyView>();

export function policyView(policy: ToolPolicy): PolicyView {
  let view = views.get(policy);
  if (!view) views.set(policy, (view = buildView(policy)));
  return view;
}

function buildView(policy: ToolPolicy): PolicyView {
  const allow = policy.allow ? new Set(policy.allow) : null;
  const deny = new Set(policy.deny ?? []);
  const rename = new Map(Object.entries(policy.rename ?? {}));
  const back = new Map([...rename].map(([from, to]) => [to, from]));
  const hidden = (real: string) => deny.has(real) || (allow !== null && !allow.has(real));
  const visible = (real: string): string | null => {
    if (hidden(real)) return null;
    const to = rename.get(real);
    if (to !== undefined) return to;
    // A rename took this name over: the renamed tool has it.
    return back.has(real) ? null : real;
  };
  return {
    visible,
    real: (name) => {
      const from = back.get(name);
      const real = from ?? name;
      return visible(real) === name ? real : null;
    },
    description: (real) => policy.descriptions?.[real],
  };
}

/** Whether two stored policies are the same (what a session compares to learn of a change). */
export const samePolicy = (a: ToolPolicy | null | undefined, b: ToolPolicy | null | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The audit row's detail: what the policy names, bounded (descriptions by name only). */
export function policySummary(p: ToolPolicy): Record<string, unknown> {
  const cut = (names: string[]) => names.slice(0, 50);
  return {
    ...(p.allow ? { allow: cut(p.allow) } : {}),
    ...(p.deny ? { deny: cut(p.deny) } : {}),
    ...(p.rename ? { rename: Object.fromEntries(Object.entries(p.rename).slice(0, 50)) } : {}),
    ...(p.descriptions ? { descriptions: cut(Object.keys(p.descriptions)) } : {}),
  };
}
