/**
 * A session object's answer as it crosses the RPC boundary to the routing Worker.
 *
 * A `Response` returned over RPC carries its body as a stream of its own between the
 * two isolates: the Worker reads it through one more channel after the call returned,
 * which costs a JSON answer (one short body, complete before the call returns) an extra
 * hop each way. Such an answer comes back as plain data instead, and the Worker builds
 * the same `Response` from it; streams (SSE) and everything else still come back as a
 * `Response`.
 */
export interface InlineAnswer {
  inline: true;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type SessionAnswer = Response | InlineAnswer;

/** Responses whose whole body is known text (the session lane's JSON answers), by response. */
const texts = new WeakMap<Response, string>();

/** A JSON answer whose body is `text`, which may cross the RPC boundary inline. */
export function inlineableResponse(text: string, init: ResponseInit & { headers: Record<string, string> }): Response {
  const response = new Response(text, init);
  texts.set(response, text);
  return response;
}

/** `response` as plain data when its body is known text, else the response itself. */
export function toSessionAnswer(response: Response): SessionAnswer {
  const text = texts.get(response);
  if (text === undefined) return response;
  return { inline: true, status: response.status, headers: Object.fromEntries(response.headers), body: text };
}

/** The Worker's side: the `Response` an answer stands for. */
export function fromSessionAnswer(answer: SessionAnswer): Response {
  if (answer instanceof Response) return answer;
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
