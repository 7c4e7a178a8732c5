// PLACEHOLDER until the files branch lands.
import { WorkerEntrypoint } from "cloudflare:workers";
import type { Env } from "../../env";
export interface FilesProps { tenant: string; incarnation: string; server: string }
export class SandboxFiles extends WorkerEntrypoint<Env, FilesProps> {}
