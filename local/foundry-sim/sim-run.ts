// The simulator's record of one run: the scenario's run plus what clients did to it (cancel, create).

import type { ScenarioRun, TimelineEntry } from "../scenario/schema.js";
import { stableId } from "./prng.js";
import type { RunView, StepView } from "./run-view.js";

export interface SimRun {
  project: string;
  api: "classic" | "responses";
  runId: string;
  threadId: string;
  agentId: string;
  model: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  finalMessage?: string;
  /** Normalized (non-decreasing `at`); replaced, never edited in place, when a client cancels. */
  timeline: TimelineEntry[];
}

export function simRunFrom(run: ScenarioRun): SimRun {
  return {
    project: run.project,
    api: run.api,
    runId: run.runId,
    threadId: run.threadId,
    agentId: run.agentId,
    model: run.model,
    usage: run.usage,
    finalMessage: run.finalMessage,
    timeline: run.timeline,
  };
}

// Ids derived from the run id and a position, so every read shows the same ids.
export const stepId = (run: SimRun, s: StepView): string => stableId("step", `${run.runId}:step:${s.index}`);
export const stepCallId = (run: SimRun, s: StepView): string => stableId("call", `${run.runId}:step-call:${s.index}`);
export const stepMessageId = (run: SimRun, s: StepView): string => stableId("msg", `${run.runId}:step-msg:${s.index}`);
export const functionCallItemId = (run: SimRun, s: StepView): string => stableId("fc", `${run.runId}:fc:${s.index}`, 40);

/** The assistant's final message: the one the last message_creation step created, if there is one. */
export function finalMessageId(run: SimRun, v: RunView): string {
  const last = [...v.steps].reverse().find((s) => s.step.type === "message_creation");
  return last ? stepMessageId(run, last) : stableId("msg", `${run.runId}:final`);
}

export function pendingToolCalls(run: SimRun, v: RunView): { id: string; name: string }[] {
  if (v.toolCalls?.length) return v.toolCalls;
  return [{ id: stableId("call", `${run.runId}:action:${v.statusEntryIndex ?? 0}`), name: "tool" }];
}
