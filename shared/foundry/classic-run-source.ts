// RunSource over classic threads/runs (`@azure/ai-agents`). Raw bodies (classic-read.ts) go through
// the same normalizer the simulator's bodies do, so both paths judge a body the same way.

import type { AgentsClient } from "@azure/ai-agents";
import { createAgentsClient } from "./agents-client.js";
import type { PollOutcome, RunRef, StepSummary } from "../model/run.js";
import { readClassic, type RawRead, type SdkOptions } from "./classic-read.js";
import { FoundryReadError, observe, readEvidence } from "./classify-outcome.js";
import { normalizeClassicRun, normalizeClassicSteps, pickClassicFinalMessage } from "./normalize-classic.js";
import type { RunSource } from "./run-source.js";
import { DEFAULT_TIMEOUT_MS, type FoundrySourceOptions } from "./source-options.js";

/** Steps only matter while the run can still stall on progress. */
const STEP_STATUSES = new Set(["in_progress", "requires_action"]);
/** The API's page limit; a run with more steps than this shows its newest 100. */
const STEP_PAGE = 100;

export class ClassicRunSource implements RunSource {
  private readonly client: AgentsClient;
  private readonly timeoutMs: number;

  constructor(options: FoundrySourceOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.client = createAgentsClient(options);
  }

  async poll(ref: RunRef, options: { steps?: boolean; signal?: AbortSignal } = {}): Promise<PollOutcome> {
    const what = `classic run ${ref.runId}`;
    const run = await this.read(what, options.signal, (o) => this.client.runs.get(ref.threadId, ref.runId, o));
    if (!run.ok) return run.outcome;
    const bare = observe(what, () => normalizeClassicRun(run.body, ref.project), ref);
    if (bare.kind !== "observed" || !options.steps || !STEP_STATUSES.has(bare.observation.status)) return bare;
    const steps = await this.readSteps(ref, options.signal);
    // Without its steps a stall cannot be judged fairly, so a failed steps read is the poll's outcome;
    // a run that answers but whose steps 404 is still a run and is reported without steps.
    if (!steps.ok) return steps.outcome.kind === "not-found" ? bare : steps.outcome;
    return observe(what, () => normalizeClassicRun(run.body, ref.project, steps.body), ref);
  }

  async listSteps(ref: RunRef): Promise<StepSummary[]> {
    const read = await this.readSteps(ref);
    if (!read.ok) {
      if (read.outcome.kind === "not-found") return [];
      throw new FoundryReadError(read.outcome);
    }
    return readEvidence(`steps of classic run ${ref.runId}`, () => normalizeClassicSteps(read.body));
  }

  async finalMessage(ref: RunRef): Promise<{ id: string; role: string; text: string } | undefined> {
    const steps = await this.listSteps(ref);
    const preferred = [...steps].reverse().find((s) => s.messageId)?.messageId;
    const read = await this.read(`messages of thread ${ref.threadId}`, undefined, (o) =>
      this.client.messages.list(ref.threadId, { runId: ref.runId, order: "desc", limit: STEP_PAGE, ...o }).byPage().next(),
    );
    if (!read.ok) {
      if (read.outcome.kind === "not-found") return undefined;
      throw new FoundryReadError(read.outcome);
    }
    return readEvidence(`messages of thread ${ref.threadId}`, () => pickClassicFinalMessage(read.body, ref.runId, preferred));
  }

  private readSteps(ref: RunRef, signal?: AbortSignal): Promise<RawRead> {
    return this.read(`steps of classic run ${ref.runId}`, signal, (o) =>
      this.client.runSteps.list(ref.threadId, ref.runId, { order: "desc", limit: STEP_PAGE, ...o }).byPage().next(),
    );
  }

  /** One SDK call; returns the raw answer or why there is none. */
  private read(what: string, caller: AbortSignal | undefined, call: (options: SdkOptions) => Promise<unknown>): Promise<RawRead> {
    return readClassic(what, this.timeoutMs, caller, call);
  }
}
