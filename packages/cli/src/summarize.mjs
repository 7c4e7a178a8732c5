/**
 * One line for a JSON-RPC message from a session's event log: `tools/call add_note #3`,
 * `result #3 "Added note …"`, `error #4 -32602 Invalid params`, `notifications/progress
 * 2/5`. It only reads the message; anything it does not recognise still gets its
 * method or id, so a new message type degrades to a shorter line, never to a crash.
 */
import { truncate } from "./format.mjs";

const MAX = 100;

/**
 * @param {unknown} message the parsed message (`{}` is a stream's priming event)
 * @returns {string}
 */
export function summarizeMessage(message) {
  if (Array.isArray(message)) return truncate(`batch: ${message.map(summarizeMessage).join("; ")}`, MAX);
  if (message === null || typeof message !== "object") return truncate(JSON.stringify(message) ?? String(message), MAX);
  const m = /** @type {Record<string, any>} */ (message);
  if (Object.keys(m).length === 0) return "(priming event)";
  const id = m.id === undefined || m.id === null ? "" : ` #${m.id}`;
  if (typeof m.method === "string") return truncate(`${m.method}${detailOf(m.method, m.params ?? {})}${id}`, MAX);
  if (m.error) return truncate(`error${id} ${m.error.code ?? ""} ${m.error.message ?? ""}`, MAX);
  if (m.result !== undefined) return truncate(`result${id}${resultDetail(m.result)}`, MAX);
  return truncate(JSON.stringify(m), MAX);
}

/**
 * The part of a request or notification that says what it is about.
 * @param {string} method
 * @param {Record<string, any>} params
 */
function detailOf(method, params) {
  switch (method) {
    case "tools/call":
    case "prompts/get":
      return params.name ? ` ${params.name}` : "";
    case "resources/read":
    case "resources/subscribe":
    case "notifications/resources/updated":
      return params.uri ? ` ${params.uri}` : "";
    case "notifications/progress":
      return ` ${params.progress ?? "?"}${params.total === undefined ? "" : `/${params.total}`}${params.message ? ` ${params.message}` : ""}`;
    case "notifications/message":
      return ` ${params.level ?? ""}: ${typeof params.data === "string" ? params.data : JSON.stringify(params.data)}`;
    case "notifications/cancelled":
      return params.requestId === undefined ? "" : ` #${params.requestId}`;
    case "elicitation/create":
      return params.message ? ` "${params.message}"` : "";
    case "initialize":
      return params.protocolVersion ? ` ${params.protocolVersion}` : "";
    default:
      return "";
  }
}

/** @param {any} result */
function resultDetail(result) {
  if (result === null || typeof result !== "object") return "";
  if (typeof result.protocolVersion === "string") return ` initialize ${result.protocolVersion} ${result.serverInfo?.name ?? ""}`.trimEnd();
  for (const list of ["tools", "resources", "resourceTemplates", "prompts"]) {
    if (Array.isArray(result[list])) return ` (${result[list].length} ${list})`;
  }
  const texts = Array.isArray(result.content) ? result.content : Array.isArray(result.contents) ? result.contents : null;
  if (texts) {
    const first = texts.find((/** @type {any} */ c) => typeof c?.text === "string");
    const flag = result.isError ? " (tool error)" : "";
    return first ? `${flag} "${truncate(first.text, 60)}"` : `${flag} (${texts.length} content blocks)`;
  }
  if (Array.isArray(result.messages)) return ` (${result.messages.length} messages)`;
  return "";
}
