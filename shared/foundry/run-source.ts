import type { PollOutcome, RunRef, StepSummary } from "../model/run.js";

/**
 * One interface over both Foundry APIs. Implementations never invent a status: anything they
 * cannot read is a typed non-observation (not found, throttled, transient).
 */
export interface RunSource {
  /** Read the run. With `steps: true`, also read its steps (classic) so progress can be judged. */
  poll(ref: RunRef, options?: { steps?: boolean; signal?: AbortSignal }): Promise<PollOutcome>;
  /** Steps / tool calls of a run, for evidence. */
  listSteps(ref: RunRef): Promise<StepSummary[]>;
  /** The final assistant message (ID, role, text) for evidence; the caller decides what of the text may leave. */
  finalMessage(ref: RunRef): Promise<{ id: string; role: string; text: string } | undefined>;
}
