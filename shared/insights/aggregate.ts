// Pure: what one committed decision adds to the daily buckets, how a contribution changes a
// bucket, and how buckets of several days merge into a report line. No I/O, no clock.
import type { EscalationReason, Instant, RunStatus, StepSummary } from "../model/run.js";
import type { RunHead, Transition } from "../store/types.js";
import type { Bucket, Contribution, Day, SlowCall, ToolBucket, TrendBucket, TrendDelta, UsageBucket } from "./types.js";

/** Histogram bounds (ms) for tool-call durations: percentiles beyond the exact window are read from it. */
export const DURATION_BOUNDS_MS = [100, 250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000];
/** Durations kept verbatim per bucket (about 8 KB): exact percentiles for all but the busiest tools. */
export const EXACT_DURATIONS_KEPT = 1000;
export const SLOWEST_KEPT = 10;

const STALL_REASONS: ReadonlySet<EscalationReason> = new Set(["stalled-queued", "stalled-in-progress", "stalled-requires-action", "stalled-cancelling", "max-runtime"]);
const FINISHED_STEP = new Set(["completed", "failed", "cancelled", "expired"]);
const OUTCOME_OF: Partial<Record<RunStatus, TrendDelta["outcome"]>> = { completed: "completed", failed: "failed", expired: "expired", cancelled: "cancelled", incomplete: "incomplete" };

export const dayOf = (at: Instant): Day => new Date(at).toISOString().slice(0, 10);
// Table keys may not hold / \ # ? or control characters; components are URI-encoded so `|` stays a separator.
const part = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
export const bucketId = (kind: Bucket["kind"], day: Day, ...dims: string[]): string => [kind, day, ...dims.map(part)].join("|");

/** What the tracking core committed, as far as insights care. */
export interface Committed {
  head: RunHead;
  transitions: Transition[];
  escalations: { reason: EscalationReason; episode: number }[];
  /** Monitor time of the commit. */
  at: Instant;
}

const agentOf = (head: RunHead): string => head.agentId ?? "(unknown)";

/** Outcome and stall counts, and token usage when the run ends. */
export function runContributions(c: Committed): Contribution[] {
  const { head } = c;
  const out: Contribution[] = [];
  const { project, runId } = head.ref;
  const agentId = agentOf(head);
  const trend = (day: Day, outcome: TrendDelta["outcome"], marker: string): Contribution => ({
    bucketId: bucketId("trends", day, project, agentId),
    marker,
    empty: emptyTrend(day, project, agentId),
    delta: { kind: "trends", outcome },
  });
  const ended = c.transitions.find((t) => OUTCOME_OF[t.to] !== undefined);
  const endedAt = ended?.at ?? (head.vanished && head.terminal ? c.at : undefined);
  const outcome = ended ? OUTCOME_OF[ended.to] : head.vanished ? "vanished" : undefined;
  if (endedAt !== undefined && outcome) {
    const day = dayOf(endedAt);
    out.push(trend(day, outcome, `${runId}:end`));
    if (head.usage) {
      const model = head.model ?? "(unknown)";
      out.push({
        bucketId: bucketId("usage", day, project, agentId, model),
        marker: `${runId}:usage`,
        empty: { kind: "usage", day, project, agentId, model, runs: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 },
        delta: { kind: "usage", promptTokens: head.usage.promptTokens, completionTokens: head.usage.completionTokens, totalTokens: head.usage.totalTokens },
      });
    }
  }
  if (c.escalations.some((e) => STALL_REASONS.has(e.reason))) out.push(trend(dayOf(c.at), "stalled", `${runId}:stalled`));
  return out;
}

/**
 * One contribution per finished tool call. Duration is the step's completed_at − created_at; when
 * Foundry reports both as the same second (zero-length steps, as the simulator and some built-in
 * tools do) it is measured from the run's previous event (previous step end, else run start).
 */
export function toolContributions(head: RunHead, steps: StepSummary[], fallbackAt: Instant): Contribution[] {
  const { project, runId } = head.ref;
  const agentId = agentOf(head);
  const ordered = [...steps].sort((a, b) => (a.completedAt ?? a.createdAt ?? 0) - (b.completedAt ?? b.createdAt ?? 0));
  const out: Contribution[] = [];
  ordered.forEach((step, i) => {
    if (step.type !== "tool_calls" && step.type !== "function_call") return;
    if (!FINISHED_STEP.has(step.status)) return;
    const end = step.completedAt ?? step.createdAt;
    const durationMs = durationOf(step, ordered.slice(0, i), head);
    const day = dayOf(end ?? fallbackAt);
    const calls = step.toolCalls.length ? step.toolCalls : [{ id: step.id, type: step.type, name: undefined }];
    for (const call of calls) {
      const tool = call.name ?? call.type;
      const slow: SlowCall = { runId, stepId: step.id, durationMs, status: step.status };
      out.push({
        bucketId: bucketId("tools", day, project, agentId, tool),
        marker: `${runId}:${step.id}:${call.id}`,
        empty: emptyTool(day, project, agentId, tool),
        delta: { kind: "tools", durationMs, failed: step.status !== "completed", call: slow },
      });
    }
  });
  return out;
}

function durationOf(step: StepSummary, earlier: StepSummary[], head: RunHead): number {
  const end = step.completedAt ?? step.createdAt;
  if (end === undefined) return 0;
  if (step.createdAt !== undefined && end > step.createdAt) return end - step.createdAt;
  const candidates = [head.createdAt, head.startedAt, ...earlier.map((s) => s.completedAt ?? s.createdAt)].filter((t): t is Instant => t !== undefined && t <= end);
  return candidates.length ? end - Math.max(...candidates) : 0;
}

export function emptyTool(day: Day, project: string, agentId: string, tool: string): ToolBucket {
  return { kind: "tools", day, project, agentId, tool, calls: 0, failed: 0, totalMs: 0, histogram: DURATION_BOUNDS_MS.map(() => 0).concat(0), durations: [], slowest: [] };
}

export function emptyTrend(day: Day, project: string, agentId: string): TrendBucket {
  return { kind: "trends", day, project, agentId, runs: 0, completed: 0, failed: 0, expired: 0, cancelled: 0, incomplete: 0, vanished: 0, stalled: 0 };
}

const histogramIndex = (ms: number): number => {
  const i = DURATION_BOUNDS_MS.findIndex((b) => ms <= b);
  return i < 0 ? DURATION_BOUNDS_MS.length : i;
};

/** A bucket with one contribution added (the caller guarantees it was not counted before). */
export function applyContribution(bucket: Bucket | undefined, c: Contribution): Bucket {
  const b = structuredClone(bucket ?? c.empty);
  const d = c.delta;
  if (d.kind === "tools" && b.kind === "tools") {
    b.calls++;
    if (d.failed) b.failed++;
    b.totalMs += d.durationMs;
    b.histogram[histogramIndex(d.durationMs)]++;
    if (b.durations && b.durations.length < EXACT_DURATIONS_KEPT) b.durations.push(d.durationMs);
    else delete b.durations;
    b.slowest = [...b.slowest, d.call].sort((x, y) => y.durationMs - x.durationMs).slice(0, SLOWEST_KEPT);
  } else if (d.kind === "trends" && b.kind === "trends") {
    b[d.outcome]++;
    if (d.outcome !== "stalled") b.runs++;
  } else if (d.kind === "usage" && b.kind === "usage") {
    b.runs++;
    b.promptTokens += d.promptTokens;
    b.completionTokens += d.completionTokens;
    b.totalTokens += d.totalTokens;
  } else {
    throw new Error(`insights: a ${d.kind} contribution cannot land in a ${b.kind} bucket (${c.bucketId})`);
  }
  return b;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  /** True when read from the exact durations, false when estimated from the histogram. */
  exact: boolean;
}

/** Nearest-rank percentiles from exact durations, else the histogram's upper bound of the rank's bucket. */
export function percentiles(durations: number[] | undefined, histogram: number[]): Percentiles {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return { p50: 0, p95: 0, p99: 0, exact: true };
  if (durations && durations.length === total) {
    const sorted = [...durations].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), exact: true };
  }
  const at = (q: number) => {
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let i = 0; i < histogram.length; i++) {
      seen += histogram[i];
      if (seen >= rank) return DURATION_BOUNDS_MS[i] ?? DURATION_BOUNDS_MS[DURATION_BOUNDS_MS.length - 1] * 2;
    }
    return 0;
  };
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), exact: false };
}

/** Several days of one tool merged (histograms add; exact durations only while every day kept them). */
export function mergeTools(buckets: ToolBucket[]): Omit<ToolBucket, "day"> {
  const [first] = buckets;
  const merged: Omit<ToolBucket, "day"> = { ...emptyTool("", first.project, first.agentId, first.tool) };
  let exact = true;
  const durations: number[] = [];
  for (const b of buckets) {
    merged.calls += b.calls;
    merged.failed += b.failed;
    merged.totalMs += b.totalMs;
    b.histogram.forEach((n, i) => (merged.histogram[i] += n));
    if (b.durations) durations.push(...b.durations);
    else exact = false;
    merged.slowest = [...merged.slowest, ...b.slowest].sort((x, y) => y.durationMs - x.durationMs).slice(0, SLOWEST_KEPT);
  }
  if (exact) merged.durations = durations;
  else delete merged.durations;
  return merged;
}

export type { UsageBucket, TrendBucket, ToolBucket };
