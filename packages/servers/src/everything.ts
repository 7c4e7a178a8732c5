/**
 * `everything`: the MCP conformance fixture (SPEC section 7).
 *
 * Why it looks like this:
 * - The conformance suite's server scenarios call fixtures by fixed names and check
 *   fixed shapes (`test_simple_text`, `test://static-text`, `test_prompt_with_image`,
 *   ...). So this module is a catalogue of those fixtures, not a useful server; names
 *   and texts are the suite's. Static fixtures are data tables, registered in loops.
 * - One definition serves both protocol eras. Everything that needs input from the
 *   client (elicitation, sampling, roots) is written once, multi-round-trip style: the
 *   handler returns `inputRequired(...)` until the retried request carries the answers.
 *   On 2026-07-28 the client fulfils that; on a 2025 session the SDK's legacy shim sends
 *   the real server-to-client requests and re-enters the handler.
 * - No module-level mutable state. Each `create()` call gets its own subscription set;
 *   the `requestState` HMAC key lives in the tenant's store, because on 2026-07-28
 *   every request gets a fresh instance (maybe in another isolate) that must verify
 *   state an earlier one minted, and another tenant's key must not verify it.
 * - List-changed triggers publish through an optional `notify` hook the platform may
 *   put on the context (the `createMcpHandler` bus behind `subscriptions/listen`);
 *   on 2025 sessions they notify the session directly.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
  acceptedContent,
  completable,
  createRequestStateCodec,
  fromJsonSchema,
  inputRequired,
  type ClientCapabilities,
  type ElicitRequestFormParams,
  type GetPromptResult,
  type InputRequest,
  type InputRequests,
  type InputRequiredResult,
  type RequestStateCodec,
  type StandardSchemaWithJSON,
  type ServerContext as McpContext,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import {
  FORMS,
  JSON_SCHEMA_2020_12,
  STATIC_RESOURCES,
  STATIC_TOOLS,
  X_MCP_HEADER_SCHEMA,
  complete,
  embedded,
  imageBlock,
  result,
  textBlock,
} from "./everything-data";
import { convertedEach, convertedOnce } from "./json-schema-once";
import type { ServerContext, ServerModule, ToolDataStore } from "./types";

/** Without `ctx.notify`, 2026-07-28 listen streams just get no list-changed events. */
type EverythingContext = ServerContext;

// ---- small helpers ----

const noArgs = convertedOnce(z.object({}));
/**
 * Built once per isolate, not per `create()`: the stateless lane builds a server for every
 * request, and building zod schemas was most of that cost. Schemas are immutable, so every
 * server can share them, and their JSON Schema too (json-schema-once.ts).
 */
const SCHEMAS = convertedEach({
  prompt: z.object({ prompt: z.string().describe("The prompt to send to the LLM") }),
  message: z.object({ message: z.string().describe("The message to show the user") }),
  name: z.object({ name: z.string() }),
  job: z.object({ seconds: z.number().min(0).max(300), label: z.string().optional() }),
  filename: z.object({ filename: z.string() }),
  uri: z.object({ uri: z.string().max(2_048) }),
  promptArgs: z.object({
    arg1: completable(z.string().describe("First test argument"), complete),
    arg2: completable(z.string().describe("Second test argument"), complete),
  }),
  resourceUri: z.object({ resourceUri: z.string().describe("URI of the resource to embed") }),
});
/**
 * The JSON Schema tools' input schemas, built on first use and then shared like the zod ones:
 * each build clones the schema and compiles a validator, a fifth of a stateless `tools/call`'s
 * server construction (bench/profile.mjs). The clone keeps the exported fixtures untouched.
 */
let jsonSchemas: { schema2020: StandardSchemaWithJSON<Record<string, unknown>>; xMcpHeader: StandardSchemaWithJSON<{ region?: string; level?: number }> } | undefined;
const JSON_SCHEMAS = () =>
  (jsonSchemas ??= {
    schema2020: fromJsonSchema<Record<string, unknown>>(structuredClone(JSON_SCHEMA_2020_12)),
    xMcpHeader: fromJsonSchema<{ region?: string; level?: number }>(structuredClone(X_MCP_HEADER_SCHEMA)),
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


/** The multi-round-trip state this fixture mints; integrity-protected by the codec. */
interface FlowState {
  tool: string;
  round?: number;
  name?: string;
}

const KEY_COLLECTION = "everything";
const KEY_ID = "request-state-hmac-key";

/**
 * The tenant's HMAC key for `requestState`: made on first use and kept in the tenant's
 * store, so every instance can verify what another minted. If two first uses race, the
 * read-back makes both settle on the write that landed last.
 */
async function requestStateKey(store: ToolDataStore): Promise<string> {
  const found = await store.get(KEY_COLLECTION, KEY_ID);
  if (typeof found?.value === "string") return found.value;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  await store.put(KEY_COLLECTION, KEY_ID, [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(""));
  return (await store.get(KEY_COLLECTION, KEY_ID))?.value as string;
}

/** Whether this request arrived on the stateless 2026-07-28 lane (it carries the `_meta` envelope). */
const isModern = (ctx: McpContext) => ctx.mcpReq.envelope !== undefined;

// ---- the module ----

export const everything: ServerModule = {
  name: "everything",
  title: "Everything (MCP conformance fixture)",
  version: "1.0.0",
  // The Tasks extension's fixtures (conformance `tasks-*`); the platform runs these as tasks.
  taskTools: {
    slow_compute: { support: "optional" },
    failing_job: { support: "required" },
    protocol_error_job: { support: "optional" },
    confirm_delete: { support: "optional" },
    multi_input: { support: "optional" },
    // Gathers its input synchronously (multi-round-trip), then becomes a task on the round that has it.
    test_tool_with_task: { support: "required", createTask: (params) => params.inputResponses !== undefined },
  },
  create(ctx: EverythingContext): McpServer {
    let codec: Promise<RequestStateCodec<FlowState>> | undefined;
    const stateCodec = () =>
      (codec ??= requestStateKey(ctx.store).then((key) => createRequestStateCodec<FlowState>({ key })));
    const mint = async (state: FlowState) => (await stateCodec()).mint(state);

    const server = new McpServer(
      { name: "smcp-everything", title: everything.title, version: everything.version },
      {
        capabilities: {
          tools: { listChanged: true },
          resources: { subscribe: true, listChanged: true },
          prompts: { listChanged: true },
          completions: {},
          // Deprecated in 2026-07-28, still negotiated by the 2025 logging scenarios.
          logging: {},
        },
        // Rejects a tampered or expired requestState with -32602 before any handler runs.
        requestState: { verify: async (state, mcpCtx) => (await stateCodec()).verify(state, mcpCtx) },
      },
    );

    registerContentTools(server);
    registerNotifyingTools(server, ctx);
    registerInputTools(server, mint);
    registerTaskTools(server);
    registerResources(server);
    registerPrompts(server);
    return server;
  },
};

/** Static content, error, schema and header fixtures. */
function registerContentTools(server: McpServer): void {
  for (const { name, description, content } of STATIC_TOOLS) {
    server.registerTool(name, { description, inputSchema: noArgs }, async () => ({ content: [...content] }));
  }

  server.registerTool(
    "test_error_handling",
    { description: "Tests error response handling", inputSchema: noArgs },
    async () => {
      throw new Error("This tool intentionally returns an error for testing");
    },
  );

  server.registerTool(
    "json_schema_2020_12_tool",
    {
      description: "Tool with JSON Schema 2020-12 features (SEP-1613, SEP-2106)",
      inputSchema: JSON_SCHEMAS().schema2020,
    },
    async (args) => result(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  );

  // SEP-2243: the SDK checks the Mcp-Param-Region header against `region` before dispatch.
  server.registerTool(
    "test_x_mcp_header",
    {
      description: "Tests SEP-2243 Mcp-Param-* header validation",
      inputSchema: JSON_SCHEMAS().xMcpHeader,
    },
    async (args) => result(`region=${args.region ?? "<none>"}`),
  );
}

/** Fixtures that emit notifications: logging, progress, SSE reconnection, list changes. */
function registerNotifyingTools(server: McpServer, ctx: EverythingContext): void {
  server.registerTool(
    "test_tool_with_logging",
    { description: "Emits three log messages while it runs", inputSchema: noArgs },
    async (_args, mcpCtx) => {
      for (const [i, step] of ["Tool execution started", "Tool processing data", "Tool execution completed"].entries()) {
        if (i > 0) await sleep(50);
        await mcpCtx.mcpReq.log("info", step, "everything");
      }
      return result("Tool with logging executed successfully");
    },
  );

  // SEP-2575: logs only when the request set `_meta` logLevel (the SDK gates `log`).
  server.registerTool(
    "test_logging_tool",
    { description: "Logs through the request-scoped, logLevel-gated channel", inputSchema: noArgs },
    async (_args, mcpCtx) => {
      await mcpCtx.mcpReq.log("info", "test_logging_tool ran", "everything");
      return result("logged through the logLevel-gated channel");
    },
  );

  server.registerTool(
    "test_tool_with_progress",
    { description: "Reports progress 0, 50, 100 of 100 when given a progress token", inputSchema: noArgs },
    async (_args, mcpCtx) => {
      const progressToken = mcpCtx.mcpReq._meta?.progressToken;
      if (progressToken !== undefined) {
        for (const progress of [0, 50, 100]) {
          await mcpCtx.mcpReq.notify({
            method: "notifications/progress",
            params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` },
          });
          if (progress < 100) await sleep(50);
        }
      }
      return result(String(progressToken ?? "no-progress-token"));
    },
  );

  // SEP-1699: closes this request's SSE stream mid-call; the result arrives after the client reconnects.
  server.registerTool(
    "test_reconnection",
    { description: "Closes the SSE stream mid-call to test client reconnection", inputSchema: noArgs },
    async (_args, mcpCtx) => {
      mcpCtx.http?.closeSSE?.();
      await sleep(100);
      return result("Reconnection test completed successfully.");
    },
  );

  const trigger = (kind: "tools" | "prompts") => async (_args: unknown, mcpCtx: McpContext) => {
    if (!isModern(mcpCtx)) {
      await (kind === "tools" ? server.sendToolListChanged() : server.sendPromptListChanged());
    } else if (kind === "tools") {
      ctx.notify?.toolsChanged();
    } else {
      ctx.notify?.promptsChanged();
    }
    return result(`${kind}_list_changed published`);
  };
  server.registerTool(
    "test_trigger_tool_change",
    { description: "Publishes notifications/tools/list_changed", inputSchema: noArgs },
    trigger("tools"),
  );
  server.registerTool(
    "test_trigger_prompt_change",
    { description: "Publishes notifications/prompts/list_changed", inputSchema: noArgs },
    trigger("prompts"),
  );
}

type Mint = (state: FlowState) => Promise<string>;

const elicit = (message: string, requestedSchema: ElicitRequestFormParams["requestedSchema"]) =>
  inputRequired.elicit({ message, requestedSchema });
const sample = (text: string, maxTokens: number) =>
  inputRequired.createMessage({ messages: [{ role: "user", content: { type: "text", text } }], maxTokens });
const samplingText = (response: unknown) => {
  const content = (response as { content?: { text?: unknown } } | undefined)?.content;
  return typeof content?.text === "string" ? content.text : undefined;
};
const rootsOf = (response: unknown) => {
  const roots = (response as { roots?: unknown } | undefined)?.roots;
  return Array.isArray(roots) ? (roots as Array<{ uri?: string }>) : undefined;
};
const summarize = (response: unknown) => {
  const { action, content } = (response ?? {}) as { action?: string; content?: unknown };
  return `action=${action}, content=${JSON.stringify(content ?? {})}`;
};

/**
 * Fixtures that need input from the client (elicitation, sampling, roots), written once
 * as multi-round-trip handlers for both eras.
 */
function registerInputTools(server: McpServer, mint: Mint): void {
  /** Asks the client once under `key`, then answers from its response. */
  const askOnce = <Args extends Record<string, string>>(
    name: string,
    description: string,
    inputSchema: StandardSchemaWithJSON<Args>,
    key: string,
    ask: (args: Args) => InputRequest,
    answer: (response: unknown) => string,
  ) =>
    server.registerTool(name, { description, inputSchema }, async (args, mcpCtx) => {
      const response = mcpCtx.mcpReq.inputResponses?.[key];
      if (response === undefined) return inputRequired({ inputRequests: { [key]: ask(args) } });
      return result(answer(response));
    });

  askOnce(
    "test_sampling",
    "Tests server-initiated sampling (LLM completion request)",
    SCHEMAS.prompt,
    "llm",
    ({ prompt }) => sample(prompt, 100),
    (response) => `LLM response: ${samplingText(response) ?? "No response"}`,
  );
  askOnce(
    "test_elicitation",
    "Tests server-initiated elicitation (user input request)",
    SCHEMAS.message,
    "user",
    ({ message }) => elicit(message, FORMS.response),
    (response) => `User response: ${summarize(response)}`,
  );
  askOnce(
    "test_elicitation_sep1034_defaults",
    "Tests elicitation with default values per SEP-1034",
    noArgs,
    "form",
    () => elicit("Please review and update the form fields with defaults", FORMS.defaults),
    (response) => `Elicitation completed: ${summarize(response)}`,
  );
  askOnce(
    "test_elicitation_sep1330_enums",
    "Tests elicitation with enum schema improvements per SEP-1330",
    noArgs,
    "form",
    () => elicit("Please select options from the enum fields", FORMS.enums),
    (response) => `Elicitation completed: ${summarize(response)}`,
  );
  askOnce(
    "test_input_required_result_sampling",
    "MRTR (SEP-2322): asks for an LLM completion in-band",
    noArgs,
    "capital_question",
    () => sample("What is the capital of France?", 100),
    (response) => `Sampling response: ${samplingText(response) ?? JSON.stringify(response)}`,
  );
  // SEP-2575: needs the `sampling` capability; a request that did not declare it gets -32021.
  askOnce(
    "test_missing_capability",
    "Requires the sampling client capability",
    noArgs,
    "llm_answer",
    () => sample("Reply with the single word: pong", 16),
    () => "sampling round-trip complete",
  );

  server.registerTool(
    "test_input_required_result_elicitation",
    { description: "MRTR (SEP-2322): asks for the caller's name in-band", inputSchema: noArgs },
    async (_args, mcpCtx) => {
      const name = acceptedContent<{ name: string }>(mcpCtx.mcpReq.inputResponses, "user_name")?.name;
      if (typeof name !== "string") {
        return inputRequired({ inputRequests: { user_name: elicit("What is your name?", FORMS.name) } });
      }
      return result(`Hello, ${name}!`);
    },
  );

  server.registerTool(
    "test_input_required_result_list_roots",
    { description: "MRTR (SEP-2322): asks for the client's roots in-band", inputSchema: noArgs },
    async (_args, mcpCtx) => {
      const roots = rootsOf(mcpCtx.mcpReq.inputResponses?.client_roots);
      if (!roots) return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
      return result(`Client exposed ${roots.length} root(s): ${roots.map((root) => root.uri).join(", ")}`);
    },
  );

  // requestState round trip; verified by the codec before the handler runs. The
  // tampered-state scenario sends the same flow back with a forged state.
  for (const tool of ["test_input_required_result_request_state", "test_input_required_result_tampered_state"]) {
    server.registerTool(
      tool,
      { description: "MRTR (SEP-2322): round-trips integrity-protected requestState", inputSchema: noArgs },
      async (_args, mcpCtx) => {
        const state = mcpCtx.mcpReq.requestState<FlowState>();
        const confirmed = acceptedContent(mcpCtx.mcpReq.inputResponses, "confirm") !== undefined;
        if (state?.tool === tool && confirmed) return result("state-ok: requestState verified and confirmation received");
        return inputRequired({
          inputRequests: { confirm: elicit("Please confirm", FORMS.confirm) },
          requestState: await mint({ tool }),
        });
      },
    );
  }

  server.registerTool(
    "test_input_required_result_multiple_inputs",
    { description: "MRTR (SEP-2322): elicitation, sampling and roots in one round", inputSchema: noArgs },
    async (_args, mcpCtx) => {
      const responses = mcpCtx.mcpReq.inputResponses;
      const name = acceptedContent<{ name: string }>(responses, "user_name")?.name;
      const greeting = samplingText(responses?.greeting);
      const roots = rootsOf(responses?.client_roots);
      if (typeof name !== "string" || greeting === undefined || !roots) {
        return inputRequired({
          inputRequests: {
            user_name: elicit("What is your name?", FORMS.name),
            greeting: sample("Generate a greeting", 50),
            client_roots: inputRequired.listRoots(),
          },
          requestState: await mint({ tool: "multiple_inputs" }),
        });
      }
      return result(`${greeting} ${name}: ${roots.length} root(s) visible`);
    },
  );

  // Two elicitation rounds; the round number lives in the (changing) requestState.
  server.registerTool(
    "test_input_required_result_multi_round",
    { description: "MRTR (SEP-2322): two rounds with evolving requestState", inputSchema: noArgs },
    async (_args, mcpCtx) => {
      const state = mcpCtx.mcpReq.requestState<FlowState>();
      const round = state?.tool === "multi_round" ? (state.round ?? 0) : 0;
      const responses = mcpCtx.mcpReq.inputResponses;
      if (round === 0) {
        return inputRequired({
          inputRequests: { step1: elicit("Step 1: What is your name?", FORMS.name) },
          requestState: await mint({ tool: "multi_round", round: 1 }),
        });
      }
      if (round === 1) {
        const name = acceptedContent<{ name: string }>(responses, "step1")?.name ?? "unknown";
        return inputRequired({
          inputRequests: { step2: elicit("Step 2: What is your favorite color?", FORMS.color) },
          requestState: await mint({ tool: "multi_round", round: 2, name }),
        });
      }
      const color = acceptedContent<{ color: string }>(responses, "step2")?.color ?? "unknown";
      return result(`Multi-round complete: ${state?.name ?? "unknown"} likes ${color}`);
    },
  );

  // Asks only for the input kinds the request declared it can provide.
  server.registerTool(
    "test_input_required_result_capabilities",
    { description: "MRTR (SEP-2322): only requests input kinds the client declared", inputSchema: noArgs },
    async (_args, mcpCtx) => {
      if (mcpCtx.mcpReq.inputResponses !== undefined) return result("Capability-aware input requests fulfilled");
      // The published typings declare the envelope as `{}`, so read the key through a cast.
      const envelope = mcpCtx.mcpReq.envelope as Record<string, ClientCapabilities | undefined> | undefined;
      const declared = envelope?.[CLIENT_CAPABILITIES_META_KEY] ?? {};
      const requests: InputRequests = {};
      if (declared.elicitation) requests.user_name = elicit("What is your name?", FORMS.name);
      if (declared.sampling) requests.greeting = sample("Generate a short greeting", 50);
      if (declared.roots) requests.client_roots = inputRequired.listRoots();
      if (Object.keys(requests).length === 0) return result("No declared capability supports an input request");
      return inputRequired({ inputRequests: requests });
    },
  );
}

/**
 * The Tasks extension's fixtures, by the suite's names. They are plain tools: whether a
 * call runs as a task is the platform's decision (`taskTools` above), so on a 2025
 * session or without the extension they answer synchronously.
 */
function registerTaskTools(server: McpServer): void {
  server.registerTool(
    "greet",
    { description: "Sync-only: greets by name", inputSchema: SCHEMAS.name },
    async ({ name }) => result(`Hello, ${name}!`),
  );
  server.registerTool(
    "slow_compute",
    {
      description: "Task-supporting: sleeps `seconds` seconds, then answers",
      inputSchema: SCHEMAS.job,
    },
    async ({ seconds, label }, mcpCtx) => {
      await abortableSleep(seconds * 1000, mcpCtx.mcpReq.signal);
      return result(`Computed ${label ?? "result"} after ${seconds}s`);
    },
  );
  server.registerTool("failing_job", { description: "Task-required: reports a tool error after about a second", inputSchema: noArgs }, async () => {
    await sleep(1000);
    return { content: [textBlock("failing_job failed on purpose")], isError: true };
  });
  // A tool handler's throw becomes an `isError` result in the SDK; a protocol error has to
  // come from in front of the SDK's `tools/call` handler, as the suite's fixture does.
  server.registerTool("protocol_error_job", { description: "Task-supporting: fails with a protocol error", inputSchema: noArgs }, async () => result("unreachable"));
  const internals = server.server as unknown as { _getRequestHandler(m: string): ToolsCallHandler | undefined; _requestHandlers: Map<string, ToolsCallHandler> };
  const toolsCall = internals._getRequestHandler("tools/call")!;
  internals._requestHandlers.set("tools/call", async (request, mcpCtx) => {
    if (request.params?.name === "protocol_error_job") throw new ProtocolError(ProtocolErrorCode.InternalError, "protocol_error_job failed on purpose");
    return toolsCall(request, mcpCtx);
  });
  server.registerTool(
    "confirm_delete",
    { description: "Task-supporting: asks for confirmation, then deletes (nothing)", inputSchema: SCHEMAS.filename },
    async ({ filename }, mcpCtx) => {
      const answer = mcpCtx.mcpReq.inputResponses?.confirm;
      if (answer === undefined) return inputRequired({ inputRequests: { confirm: elicit(`Delete ${filename}?`, FORMS.confirm) } });
      return result(acceptedContent(mcpCtx.mcpReq.inputResponses, "confirm") ? `Deleted ${filename}` : `Kept ${filename}`);
    },
  );
  server.registerTool("multi_input", { description: "Task-supporting: asks two questions at once", inputSchema: noArgs }, async (_args, mcpCtx) => {
    const responses = mcpCtx.mcpReq.inputResponses ?? {};
    if (responses.first === undefined || responses.second === undefined) {
      return inputRequired({
        inputRequests: { first: elicit("First: your name?", FORMS.name), second: elicit("Second: confirm?", FORMS.confirm) },
      });
    }
    return result(`Got both answers: ${summarize(responses.first)} and ${summarize(responses.second)}`);
  });
  server.registerTool("test_tool_with_task", { description: "Task-required: asks for a name, then works on it as a task", inputSchema: noArgs }, async (_args, mcpCtx) => {
    const name = acceptedContent<{ name: string }>(mcpCtx.mcpReq.inputResponses, "user_name")?.name;
    if (typeof name !== "string") return inputRequired({ inputRequests: { user_name: elicit("What is your name?", FORMS.name) } });
    await sleep(200);
    return result(`Task finished for ${name}`);
  });
}

type ToolsCallHandler = (request: { params?: { name?: unknown } }, ctx: unknown) => Promise<unknown>;

/** Resolves after `ms`, or as soon as `signal` aborts. */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

function registerResources(server: McpServer): void {
  for (const { name, uri, title, mimeType, body } of STATIC_RESOURCES) {
    server.registerResource(name, uri, { title, description: `${title} for testing`, mimeType }, async () => ({
      contents: [{ uri, mimeType, ...body }],
    }));
  }

  server.registerResource(
    "template",
    new ResourceTemplate("test://template/{id}/data", { list: undefined, complete: { id: complete } }),
    { title: "Resource Template", description: "A resource template with parameter substitution", mimeType: "application/json" },
    async (uri, { id }) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: "application/json",
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
        },
      ],
    }),
  );

  // 2025 subscriptions: remembered per session; the fixture's resources never change.
  const subscribed = new Set<string>();
  server.server.setRequestHandler("resources/subscribe", async (request) => {
    subscribed.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler("resources/unsubscribe", async (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });
  // The fixture's resources never change on their own: this tool says one did, and only a subscribed session hears of it.
  server.registerTool(
    "test_touch_resource",
    { description: "Announces an update of a resource to this session if it subscribed to it", inputSchema: SCHEMAS.uri },
    async ({ uri }) => {
      if (!subscribed.has(uri)) return result(`not subscribed to ${uri}`);
      await server.server.sendResourceUpdated({ uri });
      return result(`announced an update of ${uri}`);
    },
  );
}

function registerPrompts(server: McpServer): void {
  const user = (content: GetPromptResult["messages"][number]["content"]) => ({ role: "user" as const, content });

  server.registerPrompt(
    "test_simple_prompt",
    { title: "Simple Test Prompt", description: "A simple prompt without arguments" },
    async () => ({ messages: [user(textBlock("This is a simple prompt for testing."))] }),
  );

  server.registerPrompt(
    "test_prompt_with_arguments",
    {
      title: "Prompt With Arguments",
      description: "A prompt with required arguments",
      argsSchema: SCHEMAS.promptArgs,
    },
    async ({ arg1, arg2 }) => ({
      messages: [user(textBlock(`Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`))],
    }),
  );

  server.registerPrompt(
    "test_prompt_with_embedded_resource",
    {
      title: "Prompt With Embedded Resource",
      description: "A prompt that includes an embedded resource",
      argsSchema: SCHEMAS.resourceUri,
    },
    async ({ resourceUri }) => ({
      messages: [
        user(embedded(resourceUri, "text/plain", "Embedded resource content for testing.")),
        user(textBlock("Please process the embedded resource above.")),
      ],
    }),
  );

  server.registerPrompt(
    "test_prompt_with_image",
    { title: "Prompt With Image", description: "A prompt that includes image content" },
    async () => ({ messages: [user(imageBlock), user(textBlock("Please analyze the image above."))] }),
  );

  // SEP-2322: prompts/get may also return input_required.
  server.registerPrompt(
    "test_input_required_result_prompt",
    { title: "MRTR Prompt", description: "Requires elicitation input before rendering" },
    async (mcpCtx: McpContext): Promise<GetPromptResult | InputRequiredResult> => {
      const context = acceptedContent<{ context: string }>(mcpCtx.mcpReq.inputResponses, "user_context")?.context;
      if (typeof context !== "string") {
        return inputRequired({
          inputRequests: { user_context: elicit("What context should the prompt use?", FORMS.context) },
        });
      }
      return { messages: [user(textBlock(`Use the following context: ${context}`))] };
    },
  );
}
