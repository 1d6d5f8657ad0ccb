// The only Foundry writes the monitor can make, and only when a policy opts in to remediation:
// cancel a classic run, create a run on a classic thread, and list a thread's runs (to find a retry
// a crashed executor already created). Same auth and TLS handling as classic-run-source.ts.
import type { AgentsClient } from "@azure/ai-agents";
import { createAgentsClient } from "./agents-client.js";
import { DEFAULT_TIMEOUT_MS, readDeadline, type FoundrySourceOptions } from "./source-options.js";

export interface RemoteRun {
  id: string;
  status: string;
  assistantId?: string;
  /** Epoch ms. */
  createdAt?: number;
}

/** Expected answers are outcomes: "refused" is Foundry saying no (400/404/409), "transient" is 429/5xx/timeout/network. */
export type WriteOutcome = { kind: "ok"; run: RemoteRun } | { kind: "refused"; status: number; code?: string } | { kind: "transient"; detail: string };

export interface RemediationClient {
  cancelRun(threadId: string, runId: string): Promise<WriteOutcome>;
  createRun(threadId: string, assistantId: string): Promise<WriteOutcome>;
  /** Newest first; undefined when the list could not be read. */
  listRuns(threadId: string): Promise<RemoteRun[] | undefined>;
}

type RawResponse = { status: number; parsedBody?: unknown };

export class ClassicRemediationClient implements RemediationClient {
  private readonly client: AgentsClient;
  private readonly timeoutMs: number;

  constructor(options: FoundrySourceOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.client = createAgentsClient(options);
  }

  cancelRun(threadId: string, runId: string): Promise<WriteOutcome> {
    return this.write((o) => this.client.runs.cancel(threadId, runId, o));
  }

  createRun(threadId: string, assistantId: string): Promise<WriteOutcome> {
    return this.write(async (o) => await this.client.runs.create(threadId, assistantId, o));
  }

  async listRuns(threadId: string): Promise<RemoteRun[] | undefined> {
    const answer = await this.call((o) => this.client.runs.list(threadId, { order: "desc", limit: 100, ...o }).byPage().next());
    if (answer.kind !== "answered" || answer.raw.status !== 200) return undefined;
    const data = (answer.raw.parsedBody as { data?: unknown } | undefined)?.data;
    return Array.isArray(data) ? data.map(remoteRun).filter((r): r is RemoteRun => r !== undefined) : undefined;
  }

  private async write(call: (o: { abortSignal: AbortSignal; onResponse: (r: RawResponse) => void }) => Promise<unknown>): Promise<WriteOutcome> {
    const answer = await this.call(call);
    if (answer.kind === "transient") return answer;
    const { status, parsedBody } = answer.raw;
    if (status === 200) {
      const run = remoteRun(parsedBody);
      return run ? { kind: "ok", run } : { kind: "transient", detail: "malformed: the answer is not a run" };
    }
    if (status === 429 || status >= 500) return { kind: "transient", detail: `HTTP ${status}` };
    const code = (parsedBody as { error?: { code?: unknown } } | undefined)?.error?.code;
    return { kind: "refused", status, ...(typeof code === "string" ? { code } : {}) };
  }

  private async call(call: (o: { abortSignal: AbortSignal; onResponse: (r: RawResponse) => void }) => Promise<unknown>): Promise<{ kind: "answered"; raw: RawResponse } | { kind: "transient"; detail: string }> {
    let raw: RawResponse | undefined;
    const deadline = readDeadline(this.timeoutMs);
    try {
      await call({ abortSignal: deadline, onResponse: (r) => (raw = r) });
    } catch (e) {
      // The SDK throws for non-2xx answers: with an answer in hand, the answer is what counts.
      if (!raw) return { kind: "transient", detail: deadline.aborted ? "timeout" : `network: ${e instanceof Error ? e.name : "error"}` };
    }
    return raw ? { kind: "answered", raw } : { kind: "transient", detail: "no response" };
  }
}

function remoteRun(body: unknown): RemoteRun | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as { id?: unknown; status?: unknown; assistant_id?: unknown; created_at?: unknown };
  if (typeof b.id !== "string" || typeof b.status !== "string") return undefined;
  return {
    id: b.id,
    status: b.status,
    ...(typeof b.assistant_id === "string" ? { assistantId: b.assistant_id } : {}),
    ...(typeof b.created_at === "number" ? { createdAt: b.created_at * 1000 } : {}),
  };
}
