// RunSource over v2 agent responses: `AIProjectClient.getOpenAIClient()` → `responses.retrieve`.
// The openai client returns the wire JSON as is, so it goes straight into normalizeResponse.

import { AIProjectClient } from "@azure/ai-projects";
import type { PollOutcome, RunRef, StepSummary } from "../model/run.js";
import { FoundryReadError, malformedOutcome, observe, outcomeForFailure, outcomeForStatus, readEvidence, type NonObservation } from "./classify-outcome.js";
import { defaultFoundryCredential } from "./credential.js";
import { normalizeResponse, normalizeResponseOutput, pickResponseFinalMessage } from "./normalize-response.js";
import type { RunSource } from "./run-source.js";
import { DEFAULT_TIMEOUT_MS, readDeadline, type FoundrySourceOptions } from "./source-options.js";
import { fetchTrustingCa } from "./tls-fetch.js";
import { requireObject, optionalArray } from "./wire.js";

type OpenAIClient = ReturnType<AIProjectClient["getOpenAIClient"]>;
type RawRead = { ok: true; body: unknown } | { ok: false; outcome: NonObservation };

export class ResponsesRunSource implements RunSource {
  private readonly openai: OpenAIClient;
  private readonly timeoutMs: number;

  constructor(options: FoundrySourceOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const project = new AIProjectClient(options.endpoint, options.credential ?? defaultFoundryCredential(), {
      retryOptions: { maxRetries: 0 },
      ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
    });
    // getOpenAIClient() overwrites any `fetch` it is given, so the CA-trusting fetch goes in afterwards.
    // Retries off: the monitor backs off itself, honouring Retry-After.
    this.openai = project.getOpenAIClient().withOptions({
      maxRetries: 0,
      timeout: this.timeoutMs,
      ...(options.ca ? { fetch: fetchTrustingCa(options.ca) } : {}),
    });
  }

  /** v2 output items come with the response, so `steps` costs nothing extra. */
  async poll(ref: RunRef, options: { steps?: boolean; signal?: AbortSignal } = {}): Promise<PollOutcome> {
    const what = `response ${ref.runId}`;
    const read = await this.read(what, options.signal, ref.runId);
    if (!read.ok) return read.outcome;
    return observe(what, () => normalizeResponse(read.body, ref.project, ref.threadId || undefined), ref);
  }

  async listSteps(ref: RunRef): Promise<StepSummary[]> {
    const what = `response ${ref.runId}`;
    const body = await this.evidenceBody(ref);
    if (body === undefined) return [];
    return readEvidence(what, () => normalizeResponseOutput(optionalArray(requireObject(body, "response"), "output", "response") ?? []));
  }

  async finalMessage(ref: RunRef): Promise<{ id: string; role: string; text: string } | undefined> {
    const body = await this.evidenceBody(ref);
    if (body === undefined) return undefined;
    return readEvidence(`response ${ref.runId}`, () => pickResponseFinalMessage(body));
  }

  private async evidenceBody(ref: RunRef): Promise<unknown> {
    const read = await this.read(`response ${ref.runId}`, undefined, ref.runId);
    if (read.ok) return read.body;
    if (read.outcome.kind === "not-found") return undefined;
    throw new FoundryReadError(read.outcome);
  }

  /**
   * Retrieves one response as wire JSON. `asResponse()` skips the client's own post-processing
   * (it adds `output_text` and trips over bodies that are not responses); non-2xx still throw APIError.
   */
  private async read(what: string, caller: AbortSignal | undefined, responseId: string): Promise<RawRead> {
    const deadline = readDeadline(this.timeoutMs, caller);
    try {
      const answer = await this.openai.responses.retrieve(responseId, undefined, { signal: deadline }).asResponse();
      const text = await answer.text();
      try {
        return { ok: true, body: JSON.parse(text) as unknown };
      } catch {
        return { ok: false, outcome: malformedOutcome(what, `HTTP ${answer.status} with a body that is not JSON`) };
      }
    } catch (e) {
      const status = (e as { status?: unknown }).status;
      if (typeof status === "number") return { ok: false, outcome: outcomeForStatus(status, (e as { headers?: Headers }).headers, what) };
      return { ok: false, outcome: outcomeForFailure(e, deadline.aborted, what) };
    }
  }
}
