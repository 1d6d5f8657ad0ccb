import { describe, expect, test } from "@jest/globals";
import { percentile } from "../../bench/detection.js";
import { benchChartSvg } from "../../bench/chart.js";
import { checkTargets, type SizeReport } from "../../bench/run-bench.js";
import { benchRun, benchScenario, knownEvents, type BenchPlan } from "../../bench/scenario.js";
import { SWEEP_OVERHEAD_METHODS, StoreLedger, sumTallies } from "../../bench/store-ledger.js";
import { createMemoryRunStore } from "../../shared/store/memory-store.js";
import type { RunHead } from "../../shared/store/types.js";

const plan: BenchPlan = { runs: 1000, latencyMs: 50, rateLimitPerSecond: 500, pollIntervalSeconds: 30, measureFromSeconds: 40, eventIntervals: 3, failShare: 0.005, stallShare: 0.005, stallSeconds: 30 };

describe("bench scenario generator", () => {
  test("is valid for the scenario loader and puts every known event inside the measured window", () => {
    const scenario = benchScenario(plan, Date.parse("2026-03-02T09:00:00Z"));
    expect(scenario.runs).toHaveLength(1000);
    const events = knownEvents(plan);
    expect([...events.values()].filter((e) => e.reason === "failed")).toHaveLength(5);
    expect([...events.values()].filter((e) => e.reason === "stalled-in-progress")).toHaveLength(5);
    for (const e of events.values()) {
      expect(e.trueAt).toBeGreaterThanOrEqual(plan.measureFromSeconds);
      expect(e.trueAt).toBeLessThan(plan.measureFromSeconds + plan.eventIntervals * plan.pollIntervalSeconds);
    }
    // every other run stays queued or in progress, far inside its thresholds
    const quiet = scenario.runs.filter((r) => !events.has(r.runId));
    expect(quiet.every((r) => r.timeline.every((e) => "status" in e && (e.status === "queued" || e.status === "in_progress")))).toBe(true);
    expect(scenario.monitor.thresholds.inProgressSeconds).toBeGreaterThan(3600);
  });

  test("a run is the same whether the parent or a worker generates it", () => {
    expect(benchRun(plan, 123)).toEqual(benchRun({ ...plan }, 123));
    expect(benchRun(plan, 10).api).toBe("responses");
    expect(benchRun(plan, 11).api).toBe("classic");
  });
});

describe("bench measuring parts", () => {
  test("the store ledger files each request under the method that sent it, with calls in flight", async () => {
    const inner = createMemoryRunStore();
    const ledger = new StoreLedger(inner);
    const head: RunHead = { ref: { project: "p", api: "classic", runId: "run_1", threadId: "thread_1" }, tags: {}, registeredAt: 1, episodes: {}, seq: 0, terminal: false, pendingOutbox: [], shard: 3, updatedAt: 1 };
    await ledger.store.createRun({ head, transitions: [], outbox: [] });
    ledger.take();
    await Promise.all([ledger.store.listShard(3), ledger.store.nonEmptyShards(), ledger.scoped("timer", () => ledger.store.listPendingOutbox()), ledger.store.getHead("p", "run_1")]);
    const tallies = ledger.take();
    expect(tallies).toEqual({ listShard: { reads: 1, writes: 0 }, nonEmptyShards: { reads: 1, writes: 0 }, "timer/listPendingOutbox": { reads: 1, writes: 0 }, getHead: { reads: 1, writes: 0 } });
    expect(sumTallies(tallies, (m) => SWEEP_OVERHEAD_METHODS.has(m))).toEqual({ reads: 2, writes: 0 });
    expect(inner.counters.reads).toBeGreaterThan(0);
  });

  test("percentiles are nearest-rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([], 99)).toBeUndefined();
  });

  test("targets and chart come from the figures", () => {
    const figures = { pollsPerSecond: 450, throughputToCeiling: 0.9, throughputToLimiter: 1, foundryCallsPerRunPerSweep: 1.01, tableTxPerUnchangedRunPerSweep: 0.002, detectionP50Ms: 15000, detectionP99Ms: 31000, peakRssMb: 200, searchRequests: 2, searchP99Ms: 1 };
    const naive = { ...figures, tableTxPerUnchangedRunPerSweep: 1, peakRssMb: 150 };
    const sizes: SizeReport[] = [1000, 10_000].map((runs) => ({ runs, store: "memory", pollIntervalSeconds: 30, ceilingPerSecond: 500, monitor: figures, naive, ratios: {} as SizeReport["ratios"] }));
    const checks = checkTargets(sizes);
    expect(checks.find((c) => c.target.startsWith("detection"))).toMatchObject({ runs: 10_000, limit: 32_000, pass: true });
    expect(checks.find((c) => c.target.startsWith("peak RSS"))).toMatchObject({ runs: 10_000, pass: true });
    const svg = benchChartSvg({ sizes, startedAt: "2026-03-02T09:00:00.000Z", machine: { cpus: 2, model: "x", node: "v20", loadavgStart: [1, 1, 1], loadavgEnd: [1, 1, 1] }, settings: { latencyMs: 50, rateLimitPerSecond: 500 } as never });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("Table transactions per unchanged run per sweep");
  });
});
