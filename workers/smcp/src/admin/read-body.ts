/** Admin request bodies: bounded JSON, validated with a zod schema, 400 with the reason otherwise. */
import { readJsonBody, wire } from "@smcp/runtime";
import type { z } from "zod";

const MAX_ADMIN_BODY = 64 * 1024;

export async function readBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.output<S>> {
  const hasBody = request.headers.get("content-length") !== "0" && request.body !== null;
  const json = hasBody ? (await readJsonBody(request, MAX_ADMIN_BODY)).json : {};
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw wire.badRequest("invalid_body", `${where}${issue?.message ?? "invalid body"}`);
  }
  return result.data;
}
