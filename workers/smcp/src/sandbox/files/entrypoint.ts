/**
 * `SandboxFiles`: a deployed server's persistent files, as the platform-side entrypoint
 * its sandbox holds as the binding `FILES` (the fs shim's store; SPEC section 9).
 *
 * Tenant, incarnation and server come from `props`, which the platform set and the
 * sandbox can neither read nor change, so the only tree a sandbox can name is its own
 * server's, and a sandbox of a tenant since deleted (an older incarnation) reaches
 * nothing. Every argument crosses from untrusted code and is checked here, then again
 * by the store's rules (tenant/server-files.ts). Every method answers
 * `{ ok: true, value }` or `{ ok: false, code, message }` with Node's error codes and
 * never throws: a throw would cross RPC as the platform's uncaught exception.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { tenantStub, type Env } from "../../env";
import { logEvent } from "../../log";
import { FILE_LIMITS, type DirEntry, type FileAnswer, type FileCall, type FileSnapshot, type FileStat } from "../../tenant/server-files";

export interface FilesProps {
  tenant: string;
  incarnation: string;
  server: string;
}

/** Longer than any path the store accepts (it counts bytes; this bounds the string before that). */
const MAX_PATH_CHARS = FILE_LIMITS.maxPathBytes + 1;

class BadArgument extends Error {}

function path(value: unknown, what = "path"): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_PATH_CHARS) {
    throw new BadArgument(`${what} must be a non-empty string of at most ${FILE_LIMITS.maxPathBytes} bytes`);
  }
  return value;
}

function flag(options: unknown, name: string): boolean {
  if (options === undefined || options === null) return false;
  if (typeof options !== "object") throw new BadArgument("options must be an object");
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw new BadArgument(`${name} must be a boolean`);
  return value;
}

function bytes(value: unknown): Uint8Array {
  const view = value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : null;
  if (!view) throw new BadArgument("data must be a Uint8Array");
  if (view.byteLength > FILE_LIMITS.maxFileBytes) throw new BadArgument(`a file is at most ${FILE_LIMITS.maxFileBytes} bytes`);
  return view;
}

export class SandboxFiles extends WorkerEntrypoint<Env, FilesProps> {
  async #call<T>(build: () => FileCall): Promise<FileAnswer<T>> {
    let call: FileCall;
    try {
      call = build();
    } catch (err) {
      if (err instanceof BadArgument) return { ok: false, code: "EINVAL", message: err.message };
      throw err;
    }
    const { tenant, incarnation, server } = this.ctx.props;
    try {
      return (await tenantStub(this.env, tenant).files(server, call, incarnation)) as FileAnswer<T>;
    } catch (err) {
      logEvent("error", "sandbox file call failed", { tenant, server, op: call.op, error: String(err) });
      return { ok: false, code: "EIO", message: "the file store could not be reached; try again" };
    }
  }

  stat(p: unknown): Promise<FileAnswer<FileStat>> {
    return this.#call(() => ({ op: "stat", path: path(p) }));
  }

  read(p: unknown): Promise<FileAnswer<Uint8Array>> {
    return this.#call(() => ({ op: "read", path: path(p) }));
  }

  /** Replaces the file (or, with `{ append: true }`, adds to its end); makes missing parent directories. */
  write(p: unknown, data: unknown, options?: unknown): Promise<FileAnswer<FileStat>> {
    return this.#call(() => ({ op: "write", path: path(p), bytes: bytes(data), append: flag(options, "append") }));
  }

  rename(from: unknown, to: unknown): Promise<FileAnswer<null>> {
    return this.#call(() => ({ op: "rename", from: path(from, "from"), to: path(to, "to") }));
  }

  unlink(p: unknown): Promise<FileAnswer<null>> {
    return this.#call(() => ({ op: "unlink", path: path(p) }));
  }

  /** Removes a file or an empty directory; with `{ recursive: true }` a whole tree. */
  rm(p: unknown, options?: unknown): Promise<FileAnswer<null>> {
    return this.#call(() => ({ op: "rm", path: path(p), recursive: flag(options, "recursive") }));
  }

  /** True when it made the directory; an existing one is EEXIST unless `{ recursive: true }`. */
  mkdir(p: unknown, options?: unknown): Promise<FileAnswer<boolean>> {
    return this.#call(() => ({ op: "mkdir", path: path(p), recursive: flag(options, "recursive") }));
  }

  readdir(p: unknown): Promise<FileAnswer<DirEntry[]>> {
    return this.#call(() => ({ op: "readdir", path: path(p) }));
  }

  /** Every entry, and the bytes of files (in path order) up to `maxBytes` in all: what the shim's synchronous reads start from. */
  snapshot(maxBytes?: unknown): Promise<FileAnswer<FileSnapshot>> {
    return this.#call(() => {
      const max = maxBytes ?? FILE_LIMITS.maxSnapshotBytes;
      if (typeof max !== "number" || !Number.isInteger(max) || max < 0) throw new BadArgument("maxBytes must be a non-negative integer");
      return { op: "snapshot", maxBytes: max };
    });
  }
}
