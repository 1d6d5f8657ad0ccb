// The scenario the chaos tests drive: a few dozen runs that between them hit every escalation
// reason (and recoveries, and a second episode), registered at two different times so the kills
// land while some runs are being registered and others are being polled, escalated and published.
// Every stall lasts at least three sweeps, so a Foundry failing a whole sweep's reads delays an
// escalation but cannot hide it.

/** Run shapes, timeline times relative to the run's own start. */
interface RunShape {
  key: string;
  api: "classic" | "responses";
  tags?: Record<string, string>;
  timeline: Record<string, unknown>[];
}

const steps = (from: number, to: number, every: number): Record<string, unknown>[] => {
  const out: Record<string, unknown>[] = [];
  for (let t = from; t <= to; t += every) out.push({ at: t, step: { type: "tool_calls", tool: "crm_lookup", status: "completed" } });
  return out;
};

const SHAPES: RunShape[] = [
  { key: "failed", api: "classic", timeline: [{ at: 0, status: "queued" }, { at: 10, status: "in_progress" }, ...steps(40, 40, 1), { at: 80, status: "failed", lastError: { code: "server_error", message: "the tool backend answered 502" } }] },
  { key: "expired", api: "classic", timeline: [{ at: 0, status: "queued" }, { at: 10, status: "in_progress" }, { at: 100, status: "expired" }] },
  { key: "incomplete", api: "classic", timeline: [{ at: 0, status: "queued" }, { at: 10, status: "in_progress" }, { at: 70, status: "incomplete" }] },
  { key: "cancelledgold", api: "classic", tags: { tier: "gold" }, timeline: [{ at: 0, status: "queued" }, { at: 10, status: "in_progress" }, { at: 40, status: "cancelling" }, { at: 60, status: "cancelled" }] },
  // stalled-queued, recovered when it starts
  { key: "queuedstall", api: "classic", timeline: [{ at: 0, status: "queued" }, { at: 200, status: "in_progress" }, ...steps(220, 220, 1), { at: 250, status: "completed" }] },
  // stalled-in-progress twice: a step ends the first episode, then it stalls again
  { key: "progressstall", api: "classic", timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, ...steps(200, 200, 1), { at: 390, status: "completed" }] },
  { key: "toolwait", api: "classic", timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, { at: 20, status: "requires_action", toolCalls: [{ id: "call_wait1", name: "approve_refund" }] }, { at: 250, status: "in_progress" }, { at: 270, status: "completed" }] },
  { key: "toolexpiry", api: "classic", timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, { at: 20, status: "requires_action", expiresAt: 60, toolCalls: [{ id: "call_exp1", name: "approve_refund" }] }, { at: 200, status: "expired" }] },
  { key: "cancelstall", api: "classic", timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, { at: 20, status: "cancelling" }, { at: 200, status: "cancelled" }] },
  // progress all along (never stalled in progress), but over the maximum runtime
  { key: "longrunner", api: "classic", timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, ...steps(40, 520, 40), { at: 560, status: "completed" }] },
  { key: "vanishing", api: "classic", timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, { at: 80, vanish: true }] },
  { key: "quiet", api: "classic", timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, ...steps(40, 40, 1), { at: 80, status: "completed" }] },
  { key: "v2failed", api: "responses", timeline: [{ at: 0, status: "queued" }, { at: 10, status: "in_progress" }, { at: 100, status: "failed", lastError: { code: "server_error", message: "model overloaded" } }] },
  { key: "v2queued", api: "responses", timeline: [{ at: 0, status: "queued" }] },
  { key: "v2quiet", api: "responses", timeline: [{ at: 0, status: "queued" }, { at: 10, status: "in_progress" }, { at: 60, status: "completed" }] },
];

/** Registration offsets: each shape runs twice, started (and registered) at these seconds. */
const OFFSETS = [0, 50];

/** The crash scenario as a scenario file (../shared/contracts/scenario.md): 30 runs over 630 s, every reason. */
export function chaosScenarioJson(): Record<string, unknown> {
  const runs = OFFSETS.flatMap((offset, copy) =>
    SHAPES.map((shape) => {
      const id = `chaos_${shape.key}_${copy}`;
      return {
        api: shape.api,
        runId: shape.api === "classic" ? `run_${id}` : `resp_${id}`,
        threadId: shape.api === "classic" ? `thread_${id}` : `conv_${id}`,
        agentId: `asst_${shape.key}`,
        ...(shape.tags ? { tags: shape.tags } : {}),
        registerAt: offset,
        timeline: shape.timeline.map((e) => ({ ...e, at: (e.at as number) + offset, ...(e.expiresAt !== undefined ? { expiresAt: (e.expiresAt as number) + offset } : {}) })),
      };
    }),
  );
  return {
    name: "chaos-every-reason",
    start: "2026-03-02T09:00:00Z",
    duration: 630,
    monitor: {
      pollIntervalSeconds: 30,
      thresholds: { queuedSeconds: 90, inProgressSeconds: 90, requiresActionSeconds: 90, cancellingSeconds: 60, maxRuntimeSeconds: 420 },
      escalateCancelled: false,
    },
    policies: [{ match: { tags: { tier: "gold" } }, owner: "gold-team", severity: "high", escalateCancelled: true }],
    foundry: {},
    runs,
  };
}

/** The same runs under a flaky Foundry: 20 % 5xx all along, plus timeouts, malformed bodies and 429s. */
export function flakyChaosScenarioJson(): Record<string, unknown> {
  const base = chaosScenarioJson();
  return {
    ...base,
    name: "chaos-every-reason-flaky",
    foundry: {
      faults: [
        { from: 0, to: 630, kind: "http500", ratio: 0.2 },
        { from: 0, to: 630, kind: "timeout", ratio: 0.05 },
        { from: 0, to: 630, kind: "malformed", ratio: 0.05 },
        { from: 0, to: 630, kind: "http429", ratio: 0.05 },
      ],
    },
  };
}
