// What a run looks like at one scenario second, folded from its timeline. Pure: no ids, no epochs,
// no HTTP shapes (those are in classic-bodies.ts and response-bodies.ts).

import type { ScenarioStatus, StatusEntry, StepEntry, TimelineEntry } from "../scenario/schema.js";
import { isStatusEntry, isStepEntry } from "../scenario/schema.js";

export const TERMINAL: ReadonlySet<ScenarioStatus> = new Set<ScenarioStatus>(["cancelled", "failed", "completed", "expired", "incomplete"]);

export interface StepView {
  /** Position among the run's steps (0 = first): ids are derived from it, so they stay stable. */
  index: number;
  at: number;
  step: StepEntry["step"];
}

export interface RunView {
  /** False before the first status entry: Foundry does not know the run yet. */
  exists: boolean;
  vanished: boolean;
  status?: ScenarioStatus;
  createdAt?: number;
  /** Latest entry into in_progress (Foundry resets started_at when a run resumes after tool output). */
  startedAt?: number;
  /** When the current status was entered. */
  statusSince?: number;
  /** The latest explicit expiresAt of the timeline so far. */
  expiresAt?: number;
  lastError?: StatusEntry["lastError"];
  toolCalls?: StatusEntry["toolCalls"];
  /** Index of the status entry that set the current status (ids of generated tool calls derive from it). */
  statusEntryIndex?: number;
  steps: StepView[];
}

export function viewRun(timeline: readonly TimelineEntry[], at: number): RunView {
  const v: RunView = { exists: false, vanished: false, steps: [] };
  timeline.forEach((e, i) => {
    // timelines are normalized (non-decreasing `at`), so later entries are later
    if (e.at > at) return;
    if (isStepEntry(e)) {
      v.steps.push({ index: v.steps.length, at: e.at, step: e.step });
      return;
    }
    if (!isStatusEntry(e)) {
      v.vanished = true;
      return;
    }
    if (!v.exists) {
      v.exists = true;
      v.createdAt = e.at;
    }
    if (e.status === "in_progress" && v.status !== "in_progress") v.startedAt = e.at;
    if (e.status !== v.status) v.statusSince = e.at;
    v.status = e.status;
    if (e.expiresAt !== undefined) v.expiresAt = e.expiresAt;
    v.lastError = e.lastError;
    v.toolCalls = e.toolCalls;
    v.statusEntryIndex = i;
  });
  return v;
}

/** Visible = Foundry answers for it (created and not vanished). */
export const isVisible = (v: RunView): v is RunView & { status: ScenarioStatus; createdAt: number } => v.exists && !v.vanished;
export const isActive = (v: RunView): boolean => isVisible(v) && !TERMINAL.has(v.status);
