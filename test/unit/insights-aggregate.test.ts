import { describe, expect, test } from "@jest/globals";
import type { Decision } from "../../shared/detect/detect.js";
import { parsePolicySet, resolvePolicy } from "../../shared/detect/policy.js";
import { percentiles, runContributions, toolContributions } from "../../shared/insights/aggregate.js";
import { insightsHook } from "../../shared/insights/hook.js";
import { toolsReport, trendsReport, usageReport } from "../../shared/insights/report.js";
import { partialSideEffectFields } from "../../shared/insights/side-effects.js";
import { MemoryInsightsStore } from "../../shared/insights/store.js";
import type { StepSummary } from "../../shared/model/run.js";
import { planRemediation, remediationFor } from "../../shared/remediation/decide.js";
import type { RunHead } from "../../shared/store/types.js";

const T0 = Date.parse("2026-03-02T09:00:00Z");
const s = (sec: number) => T0 + sec * 1000;

function head(runId: string, extra: Partial<RunHead> = {}): RunHead {
  return {
    ref: { project: "alpha", api: "classic", runId, threadId: `thread_${runId}` },
    agentId: "asst_a", tags: {}, registeredAt: s(0), episodes: {}, seq: 3, terminal: true, pendingOutbox: [], shard: 0, updatedAt: s(100),
    createdAt: s(0), startedAt: s(5), status: "completed", model: "gpt-4o", ...extra,
  };
}
const step = (id: string, tool: string, createdSec: number, completedSec: number, status = "completed"): StepSummary => ({
  id, type: "tool_calls", status, createdAt: s(createdSec), completedAt: s(completedSec), toolCalls: [{ id: `call_${id}`, type: "function", name: tool }],
});
const ended = (h: RunHead, to: "completed" | "failed" | "expired", atSec = 100): Decision => ({
  head: h, transitions: [{ project: "alpha", runId: h.ref.runId, seq: h.seq, at: s(atSec), from: "in_progress", to }], escalations: to === "completed" ? [] : [{ reason: to, episode: 1, ruleTrueAt: s(atSec) }], recoveries: [], changed: true,
});

describe("tool insights", () => {
  test("durations come from created/completed, or from the previous event for zero-length steps", () => {
    const h = head("run_1");
    const c = toolContributions(h, [step("s1", "search", 10, 12), step("s2", "slow_lookup", 40, 40)], h.updatedAt);
    expect(c.map((x) => (x.delta.kind === "tools" ? x.delta.durationMs : -1))).toEqual([2000, 28_000]);
  });

  test("nearest-rank percentiles over exact durations; histogram estimate beyond", () => {
    const d = Array.from({ length: 100 }, (_, i) => (i + 1) * 100);
    expect(percentiles(d, [100])).toMatchObject({ p50: 5000, p95: 9500, p99: 9900, exact: true });
    expect(percentiles(undefined, [0, 0, 0, 10]).exact).toBe(false);
  });

  test("a slow tool: report with p50/p95/p99, failure rate and slowest runs; the same step seen twice counts once", async () => {
    const store = new MemoryInsightsStore();
    const hook = insightsHook({ store });
    for (let i = 1; i <= 20; i++) {
      const steps = [step(`fast${i}`, "search", 10, 11), step(`slow${i}`, "slow_lookup", 20, 20 + i, i === 20 ? "failed" : "completed")];
      const h = head(`run_${i}`, { steps });
      await hook(ended(h, "completed"), h);
      await hook(ended(h, "completed"), h); // redelivered commit
    }
    const report = await toolsReport(store, { from: "2026-03-02", to: "2026-03-02" });
    const slow = report.tools.find((t) => t.tool === "slow_lookup")!;
    expect(report.tools[0].tool).toBe("slow_lookup");
    expect(slow).toMatchObject({ calls: 20, failed: 1, failureRate: 0.05, p50Ms: 10_000, p95Ms: 19_000, p99Ms: 20_000, exactPercentiles: true });
    expect(slow.slowest.slice(0, 2).map((x) => x.runId)).toEqual(["run_20", "run_19"]);
    expect(report.tools.find((t) => t.tool === "search")).toMatchObject({ calls: 20, failed: 0, p99Ms: 1000 });
  });
});

describe("failure trends and usage", () => {
  test("rising failures per day against the policy target; usage with a price table", async () => {
    const policies = parsePolicySet({ defaults: { insights: { failureRateTarget: 0.1 } }, prices: { "gpt-4o": { inputPer1K: 0.005, outputPer1K: 0.015 } } });
    const store = new MemoryInsightsStore();
    const hook = insightsHook({ store });
    // day 1: 10 runs, 1 failed; day 2: 10 runs, 4 failed (1 of them also stalled first)
    for (const [day, failures] of [[0, 1], [1, 4]] as const) {
      for (let i = 0; i < 10; i++) {
        const at = day * 86_400 + 100 + i;
        const h = head(`run_${day}_${i}`, { usage: { promptTokens: 1000, completionTokens: 100, totalTokens: 1100 }, updatedAt: s(at) });
        const d = ended(h, i < failures ? "failed" : "completed", at);
        await hook(d, h);
        await hook(d, h);
      }
    }
    const stalled = head("run_1_0", { terminal: false, status: "queued", updatedAt: s(86_400 + 50) });
    const stall: Decision = { head: stalled, transitions: [], escalations: [{ reason: "stalled-queued", episode: 1, ruleTrueAt: s(86_400 + 40) }], recoveries: [], changed: true };
    await hook(stall, stalled);
    await hook(stall, stalled);
    const trends = await trendsReport(store, { from: "2026-03-02", to: "2026-03-03" }, policies);
    expect(trends.days.map((d) => [d.day, d.runs, d.failed, d.failureRate, d.stalled, d.overTarget])).toEqual([
      ["2026-03-02", 10, 1, 0.1, 0, false],
      ["2026-03-03", 10, 4, 0.4, 1, true],
    ]);
    const usage = await usageReport(store, { from: "2026-03-02", to: "2026-03-03" }, policies);
    expect(usage.totals).toEqual({ runs: 20, promptTokens: 20_000, completionTokens: 2000, totalTokens: 22_000, estimatedCost: 0.13 });
  });

  test("a run that ends counts once even when the commit is replayed with a later clock", () => {
    const h = head("run_x", { usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 } });
    const a = runContributions({ head: h, transitions: ended(h, "failed").transitions, escalations: [], at: s(100) });
    const b = runContributions({ head: h, transitions: ended(h, "failed").transitions, escalations: [], at: s(5000) });
    expect(a.map((c) => [c.bucketId, c.marker])).toEqual(b.map((c) => [c.bucketId, c.marker]));
  });
});

describe("partial side effects and remediation decisions", () => {
  const policies = parsePolicySet({
    defaults: { severity: "medium", insights: { sideEffectTools: ["create_refund"], readOnlyTools: ["crm_search"], remediation: { cancelStuck: true, retryFailed: true, maxRetries: 2 } } },
  });
  const policy = resolvePolicy(policies, { project: "alpha", api: "classic", agentId: "asst_a", tags: {} });

  test("a failure after a completed side-effecting call is flagged and raised one severity; never for completed runs", () => {
    const steps = [step("s1", "crm_search", 1, 2), step("s2", "create_refund", 3, 4)];
    expect(partialSideEffectFields("failed", steps, policy)).toEqual({ partialSideEffects: true, severity: "high", sideEffectCalls: [{ name: "create_refund", status: "completed", stepId: "s2", at: s(4) }] });
    expect(partialSideEffectFields("stalled-queued", steps, policy)).toEqual({});
    expect(partialSideEffectFields("failed", [step("s1", "crm_search", 1, 2), step("s2", "create_refund", 3, 4, "failed")], policy)).toEqual({});
  });

  test("cancel a stuck run; retry a failed read-only run up to maxRetries; nothing when the policy is silent", () => {
    const h = head("run_r", { status: "failed" });
    expect(planRemediation(h, [{ reason: "stalled-requires-action" }], policy, undefined).map((p) => p.action)).toEqual(["cancel"]);
    expect(planRemediation(h, [{ reason: "failed" }], policy, [step("s1", "crm_search", 1, 2)])).toMatchObject([{ action: "retry", attempt: 1, rootRunId: "run_r" }]);
    expect(planRemediation(h, [{ reason: "failed" }], policy, [step("s2", "create_refund", 3, 4)])).toEqual([]);
    expect(planRemediation(h, [{ reason: "failed" }], policy, undefined)).toEqual([]);
    const third = head("run_r2", { tags: { "remediation.retryOf": "run_r", "remediation.attempt": "2" } });
    expect(planRemediation(third, [{ reason: "failed" }], policy, [])).toEqual([]);
    const off = resolvePolicy(parsePolicySet({}), { project: "alpha", api: "classic", tags: {} });
    expect(planRemediation(h, [{ reason: "failed" }, { reason: "stalled-queued" }], off, [])).toEqual([]);
  });

  test("the outbox row of an escalation records the plan; a run whose steps may have been cut to 50 is not retried", () => {
    const readOnly = Array.from({ length: 49 }, (_, i) => step(`s${i}`, "crm_search", i, i + 1));
    expect(remediationFor(head("run_r", { steps: readOnly }), "failed", policy)).toEqual({ remediation: { action: "retry", rootRunId: "run_r", attempt: 1, agentId: "asst_a" } });
    expect(remediationFor(head("run_r", { steps: [...readOnly, step("s49", "crm_search", 49, 50)] }), "failed", policy)).toEqual({});
    expect(remediationFor(head("run_r"), "stalled-queued", policy)).toEqual({ remediation: { action: "cancel", rootRunId: "run_r", attempt: 1 } });
    expect(remediationFor(head("run_v2", { ref: { project: "alpha", api: "responses", runId: "resp_1", threadId: "conv_1" } }), "stalled-queued", policy)).toEqual({});
  });
});
