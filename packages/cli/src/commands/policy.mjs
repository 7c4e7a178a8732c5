/**
 * `smcp policy ...`: a server's tool policy (any kind of server): which tools clients
 * see, under which names and descriptions. `set` replaces the whole policy with what
 * its flags say; names are the tools' real names, as the server registers them.
 */
import { adminPath } from "../api.mjs";
import { UsageError } from "../errors.mjs";

/** @typedef {import("./context.mjs").Command} Command */

const SET_USAGE = "policy set <tenant> <server> [--allow TOOL]... [--deny TOOL]... [--rename OLD=NEW]... [--describe TOOL=TEXT]...";

/**
 * `NAME=VALUE` pairs of a repeated flag, as an object.
 * @param {string} flag @param {(string | number)[] | undefined} values
 * @returns {Record<string, string> | undefined}
 */
function pairs(flag, values) {
  if (!values?.length) return undefined;
  /** @type {Record<string, string>} */
  const out = {};
  for (const raw of values.map(String)) {
    const at = raw.indexOf("=");
    if (at <= 0 || at === raw.length - 1) throw new UsageError(`--${flag} takes NAME=VALUE, got ${JSON.stringify(raw)}`, [SET_USAGE]);
    const name = raw.slice(0, at);
    if (name in out) throw new UsageError(`--${flag} names ${name} twice`, [SET_USAGE]);
    out[name] = raw.slice(at + 1);
  }
  return out;
}

/**
 * The `PUT .../policy` body the flags of `policy set` describe.
 * @param {Record<string, any>} opts
 */
export function policyBody(opts) {
  const body = {
    ...(opts.allow?.length ? { allow: opts.allow.map(String) } : {}),
    ...(opts.deny?.length ? { deny: opts.deny.map(String) } : {}),
    ...(opts.rename?.length ? { rename: pairs("rename", opts.rename) } : {}),
    ...(opts.describe?.length ? { descriptions: pairs("describe", opts.describe) } : {}),
  };
  if (Object.keys(body).length === 0) throw new UsageError("say what the policy does (--allow, --deny, --rename, --describe); to remove a policy: smcp policy clear", [SET_USAGE]);
  return body;
}

/**
 * The policy as lines of text.
 * @param {any} p
 */
export function describePolicy(p) {
  const renames = Object.entries(p.rename ?? {});
  const descriptions = Object.keys(p.descriptions ?? {});
  return [
    `tool policy of ${p.server}:`,
    `  visible: ${p.allow ? `only ${p.allow.join(", ") || "(none)"}` : "every tool"}${p.deny?.length ? `, except ${p.deny.join(", ")}` : ""}`,
    ...(renames.length ? [`  renamed: ${renames.map(([from, to]) => `${from} -> ${to}`).join(", ")}`] : []),
    ...(descriptions.length ? [`  descriptions set for: ${descriptions.join(", ")}`] : []),
  ].join("\n");
}

/** @type {Command[]} */
export const policyCommands = [
  {
    usage: "policy show <tenant> <server>",
    summary: "a server's tool policy: visible, renamed and re-described tools",
    async run({ api, args, out }) {
      const p = await api.get(adminPath`/tenants/${args.tenant}/servers/${args.server}/policy`);
      out.result(p, describePolicy);
    },
  },
  {
    usage: SET_USAGE,
    summary: "replace a server's tool policy (real tool names; live sessions and listeners hear of the change)",
    async run({ api, args, opts, out }) {
      const p = await api.request("PUT", adminPath`/tenants/${args.tenant}/servers/${args.server}/policy`, { body: policyBody(opts) });
      out.result(p, describePolicy);
    },
  },
  {
    usage: "policy clear <tenant> <server>",
    summary: "remove a server's tool policy: clients see every tool as the server lists it",
    async run({ api, args, out }) {
      const done = await api.delete(adminPath`/tenants/${args.tenant}/servers/${args.server}/policy`);
      out.result(done, (d) => `removed the tool policy of ${args.tenant}/${d.server}`);
    },
  },
];
