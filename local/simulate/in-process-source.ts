import { malformedOutcome, outcomeForStatus } from "../../shared/foundry/classify-outcome.js";
import { normalizeClassicRun, normalizeClassicSteps, pickClassicFinalMessage } from "../../shared/foundry/normalize-classic.js";
import { normalizeResponse, normalizeResponseOutput, pickResponseFinalMessage } from "../../shared/foundry/normalize-response.js";
import type { RunSource } from "../../shared/foundry/run-source.js";
import type { Instant, PollOutcome, RunRef, StepSummary } from "../../shared/model/run.js";
import { MalformedBodyError } from "../../shared/foundry/wire.js";
import type { Simulation, SimResponse } from "../foundry-sim/index.js";

/** The part of the simulator core this source needs. */
export type SimHandler = Pick<Simulation, "handle">;

/**
 * A RunSource that asks the simulator core directly (no sockets) and reads its wire bodies with
 * the same normalizers the SDK adapters use — so `simulate --stack memory` judges exactly the
 * bodies the HTTP simulator would serve, an hour of them in a second.
 */
export class InProcessRunSource implements RunSource {
  /** Foundry reads made, by kind (for tests and the benchmark). */
  readonly calls = { run: 0, steps: 0, messages: 0 };

  constructor(private readonly sim: SimHandler, private readonly scenarioStart: Instant, private readonly now: () => Instant) {}

  private at(): number {
    return (this.now() - this.scenarioStart) / 1000;
  }

  private get(path: string): SimResponse {
    return this.sim.handle({ method: "GET", path }, this.at());
  }

  async poll(ref: RunRef, options?: { steps?: boolean }): Promise<PollOutcome> {
    this.calls.run++;
    const classic = ref.api === "classic";
    const what = classic ? `run ${ref.runId}` : `response ${ref.runId}`;
    const res = this.get(classic ? `/threads/${ref.threadId}/runs/${ref.runId}` : `/openai/v1/responses/${ref.runId}`);
    if (res.fault === "timeout") return { kind: "transient", cause: "timeout", detail: `${what}: no answer in time` };
    if (res.status !== 200) return outcomeForStatus(res.status, res.headers, what);
    try {
      if (!classic) return { kind: "observed", observation: { ...normalizeResponse(res.body, ref.project, ref.threadId || undefined) } };
      const body = res.body as { status?: string };
      let steps: unknown;
      if (options?.steps && (body?.status === "in_progress" || body?.status === "requires_action")) {
        this.calls.steps++;
        const s = this.get(`/threads/${ref.threadId}/runs/${ref.runId}/steps`);
        if (s.fault === "timeout") return { kind: "transient", cause: "timeout", detail: `steps of ${what}: no answer in time` };
        if (s.status !== 200) return outcomeForStatus(s.status, s.headers, `steps of ${what}`);
        steps = s.body;
      }
      return { kind: "observed", observation: normalizeClassicRun(res.body, ref.project, steps) };
    } catch (e) {
      if (e instanceof MalformedBodyError) return malformedOutcome(what, e);
      throw e;
    }
  }

  async listSteps(ref: RunRef): Promise<StepSummary[]> {
    this.calls.steps++;
    if (ref.api === "responses") {
      const res = this.get(`/openai/v1/responses/${ref.runId}`);
      const output = (res.body as { output?: unknown[] } | undefined)?.output;
      return res.status === 200 && Array.isArray(output) ? normalizeResponseOutput(output) : [];
    }
    const res = this.get(`/threads/${ref.threadId}/runs/${ref.runId}/steps`);
    return res.status === 200 ? normalizeClassicSteps(res.body) : [];
  }

  async finalMessage(ref: RunRef): Promise<{ id: string; role: string; text: string } | undefined> {
    this.calls.messages++;
    if (ref.api === "responses") {
      const res = this.get(`/openai/v1/responses/${ref.runId}`);
      return res.status === 200 ? pickResponseFinalMessage(res.body) : undefined;
    }
    const res = this.get(`/threads/${ref.threadId}/messages`);
    return res.status === 200 ? pickClassicFinalMessage(res.body, ref.runId) : undefined;
  }
}
