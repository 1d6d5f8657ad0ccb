// Benchmark scenarios, generated in code: N active runs that mostly sit unchanged (queued or in
// progress, far inside their thresholds) plus a known set that fails or stalls at known seconds.
// Run i is a pure function of (plan, i), so the parent (which serves the whole scenario from the
// simulator) and a worker (which registers runs chunk by chunk) agree without passing 100k runs around.

import type { Scenario, ScenarioRun, TimelineEntry } from "../local/scenario/schema.js";
import { parseScenario } from "../local/scenario/schema.js";

export const BENCH_PROJECT = "bench";
export const STALL_AGENT = "asst_bench_stall";

/** Where the known events fall, in scenario seconds. */
export interface BenchPlan {
  runs: number;
  latencyMs: number;
  rateLimitPerSecond: number;
  pollIntervalSeconds: number;
  /** Scenario second of the first measured sweep; everything before it is registration and warm-up. */
  measureFromSeconds: number;
  /** Known events are spread over this many poll intervals after `measureFromSeconds`. */
  eventIntervals: number;
  /** Share of runs that fail, and share that stall in progress (each at least 2 runs). */
  failShare: number;
  stallShare: number;
  /** inProgressSeconds of the stall agent's policy. */
  stallSeconds: number;
}

export type KnownReason = "failed" | "stalled-in-progress";

/** A run whose rule becomes true at a known scenario second (ground truth for detection latency). */
export interface KnownEvent {
  reason: KnownReason;
  /** Scenario second at which the rule becomes true (an integer: Foundry timestamps have 1 s resolution). */
  trueAt: number;
}

/** Bulk thresholds far beyond any benchmark's length, so unchanged runs never escalate. */
const BULK_THRESHOLDS = { queuedSeconds: 86_400, inProgressSeconds: 86_400, requiresActionSeconds: 86_400, cancellingSeconds: 86_400, maxRuntimeSeconds: 7 * 86_400 };

function knownCounts(plan: BenchPlan): { fail: number; stall: number } {
  return { fail: Math.max(2, Math.round(plan.runs * plan.failShare)), stall: Math.max(2, Math.round(plan.runs * plan.stallShare)) };
}

/** Known runs are spread evenly through the index range (every k-th run), not bunched in one shard. */
function knownSlot(plan: BenchPlan, i: number): { kind: KnownReason; k: number; of: number } | undefined {
  const { fail, stall } = knownCounts(plan);
  const stride = Math.floor(plan.runs / (fail + stall));
  if (stride < 1 || i % stride !== stride - 1) return undefined;
  const slot = Math.floor(i / stride);
  if (slot >= fail + stall) return undefined;
  return slot % 2 === 0 && slot / 2 < fail ? { kind: "failed", k: slot / 2, of: fail } : { kind: "stalled-in-progress", k: Math.floor(slot / 2), of: stall };
}

/** The known event of run i, if it has one. */
export function knownEventOf(plan: BenchPlan, i: number): KnownEvent | undefined {
  const slot = knownSlot(plan, i);
  if (!slot) return undefined;
  const window = plan.eventIntervals * plan.pollIntervalSeconds;
  // Evenly spaced over the window (golden-ratio order, so neighbours in the index do not fire together).
  const u = (slot.k * 0.6180339887 + (slot.kind === "failed" ? 0 : 0.5)) % 1;
  return { reason: slot.kind, trueAt: Math.floor(plan.measureFromSeconds + u * window) };
}

export function runIdOf(i: number): string {
  return i % 5 === 0 ? `resp_bench${i}` : `run_bench${i}`;
}

/** Run i of the benchmark: one in five a v2 response, the rest classic thread runs. */
export function benchRun(plan: BenchPlan, i: number): ScenarioRun {
  const responses = i % 5 === 0;
  const event = knownEventOf(plan, i);
  const stall = event?.reason === "stalled-in-progress";
  const timeline: TimelineEntry[] = [{ at: 0, status: "queued" }];
  if (stall) {
    // in progress from a known second; its rule is true stallSeconds later (classic: started_at is exact)
    timeline.push({ at: Math.max(0, event.trueAt - plan.stallSeconds), status: "in_progress" });
  } else if (i % 2 === 1 || event) {
    timeline.push({ at: 0, status: "in_progress" });
  }
  if (event?.reason === "failed") timeline.push({ at: event.trueAt, status: "failed", lastError: { code: "server_error", message: "The model backend returned an error." } });
  return {
    api: stall ? "classic" : responses ? "responses" : "classic",
    project: BENCH_PROJECT,
    runId: stall && responses ? `run_bench${i}` : runIdOf(i),
    threadId: responses && !stall ? `conv_bench${i}` : `thread_bench${i}`,
    agentId: stall ? STALL_AGENT : `asst_bench${i % 16}`,
    model: "gpt-4o",
    session: `sess-bench${i}`,
    tags: { owner: `team-${i % 8}` },
    registerAt: 0,
    timeline,
  };
}

/** The scenario's settings without runs (the simulator core needs them for chunks of runs too). */
export function benchScenarioShell(plan: BenchPlan, startMs: number): Omit<Scenario, "runs"> {
  const secondsNeeded = plan.measureFromSeconds + (plan.eventIntervals + 2) * plan.pollIntervalSeconds + 600;
  return {
    name: `bench-${plan.runs}`,
    start: new Date(startMs).toISOString(),
    startEpochSeconds: Math.floor(startMs / 1000),
    duration: secondsNeeded,
    monitor: { pollIntervalSeconds: plan.pollIntervalSeconds, thresholds: { ...BULK_THRESHOLDS }, escalateCancelled: false },
    policies: [{ match: { agentId: STALL_AGENT }, owner: "bench-stall-team", severity: "high", thresholds: { inProgressSeconds: plan.stallSeconds } }],
    foundry: { latencyMs: plan.latencyMs, rateLimitPerSecond: plan.rateLimitPerSecond, faults: [] },
  };
}

/** The whole scenario, validated by the same loader `simulate` and `foundry-sim` use. */
export function benchScenario(plan: BenchPlan, startMs: number): Scenario {
  const shell = benchScenarioShell(plan, startMs);
  const runs = Array.from({ length: plan.runs }, (_, i) => {
    const { project, registerAt, timeline, ...rest } = benchRun(plan, i);
    return { ...rest, project, registerAt, timeline };
  });
  const { startEpochSeconds: _omit, ...file } = shell;
  const parsed = parseScenario({ ...file, runs }, `bench scenario ${plan.runs}`);
  return { ...parsed, startEpochSeconds: shell.startEpochSeconds };
}

export function knownEvents(plan: BenchPlan): Map<string, KnownEvent> {
  const events = new Map<string, KnownEvent>();
  for (let i = 0; i < plan.runs; i++) {
    const e = knownEventOf(plan, i);
    if (e) events.set(benchRun(plan, i).runId, e);
  }
  return events;
}
