// The benchmark's parent process: for each size it serves the generated scenario from the Foundry
// simulator over loopback HTTPS (set latency and rate limit) and runs the monitor, then the naive
// baseline, each in a worker process of its own, then puts the figures side by side.

import { fork } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { progressBar } from "../cli/progress.js";
import { startFoundrySimulator } from "../local/foundry-sim/index.js";
import { queryPages } from "../shared/store/store-rules.js";
import type { BenchJob, JobResult, Mode, StoreKind, TrackingKnobs, WorkerMessage } from "./protocol.js";
import { benchScenario, withStart, type BenchPlan } from "./scenario.js";
import { sleepUntil } from "./worker-support.js";

export interface BenchSettings {
  quick: boolean;
  /** Active runs per size, each with the memory store. */
  sizes: number[];
  /** Sizes also run through Azurite with the Table store. */
  tableSizes: number[];
  latencyMs: number;
  rateLimitPerSecond: number;
  knobs: Omit<TrackingKnobs, "limiterPerSecond">;
  /** API searches by thread ID timed on the largest memory size. */
  searchQueries: number;
}

// The Functions app's defaults: SHARD_COUNT 16, POLL_CONCURRENCY 32, and host.json's queue
// batchSize 4 + newBatchThreshold 2 = up to 6 poll-shard invocations at once on one instance.
const APP_KNOBS = { shardCount: 16, concurrency: 32, parallelShards: 6 };

export function defaultSettings(quick: boolean): BenchSettings {
  return quick
    ? { quick, sizes: [300, 1500], tableSizes: [300], latencyMs: 50, rateLimitPerSecond: 500, knobs: { ...APP_KNOBS }, searchQueries: 200 }
    : { quick, sizes: [1000, 10_000, 100_000], tableSizes: [10_000], latencyMs: 50, rateLimitPerSecond: 500, knobs: { ...APP_KNOBS }, searchQueries: 1000 };
}

/** Reads per second the setup allows at best: the rate limit, or what the reads in flight can do at the set latency. */
export function ceilingOf(s: BenchSettings): number {
  const inFlight = s.knobs.parallelShards * s.knobs.concurrency;
  return Math.min(s.rateLimitPerSecond, inFlight / (s.latencyMs / 1000));
}

export function planFor(s: BenchSettings, runs: number, mode: Mode, store: StoreKind): BenchPlan {
  const ceiling = ceilingOf(s);
  // An interval the sweep fits in with a quarter to spare, in whole tens of seconds, at least 30 s.
  const pollIntervalSeconds = s.quick ? 5 : Math.max(30, Math.ceil((1.25 * runs) / ceiling / 10) * 10);
  // Registration (not measured) must end before the first measured sweep; rates seen on 2 cores.
  const registrationSeconds = store === "table" ? runs / 60 : runs / 2500;
  const measureFromSeconds = mode === "naive" ? pollIntervalSeconds + 2 : Math.ceil(5 + 1.5 * registrationSeconds);
  return {
    runs,
    latencyMs: s.latencyMs,
    rateLimitPerSecond: s.rateLimitPerSecond,
    pollIntervalSeconds,
    measureFromSeconds,
    eventIntervals: s.quick || runs >= 100_000 ? 1 : 3,
    failShare: 0.005,
    stallShare: 0.005,
    stallSeconds: Math.min(30, measureFromSeconds),
  };
}

export interface Figures {
  pollsPerSecond: number;
  throughputToCeiling: number;
  foundryCallsPerRunPerSweep: number;
  tableTxPerUnchangedRunPerSweep: number;
  detectionP50Ms: number | null;
  detectionP99Ms: number | null;
  peakRssMb: number;
  /** Store requests one search by thread ID costs. */
  searchRequests: number;
  searchP99Ms: number | null;
}

export interface SizeReport {
  runs: number;
  store: StoreKind;
  pollIntervalSeconds: number;
  ceilingPerSecond: number;
  monitor: Figures;
  naive: Figures;
  /** monitor ÷ naive for each figure (below 1 = the monitor spends or waits less). */
  ratios: Record<keyof Figures, number | null>;
}

export interface TargetCheck {
  target: string;
  runs: number;
  store: StoreKind;
  value: number | null;
  limit: number;
  pass: boolean;
}

export interface BenchReport {
  benchmark: "foundry-run-monitor";
  quick: boolean;
  startedAt: string;
  seconds: number;
  machine: { cpus: number; model: string; node: string; loadavgStart: number[]; loadavgEnd: number[] };
  settings: BenchSettings & { ceilingPerSecond: number };
  sizes: SizeReport[];
  targets: TargetCheck[];
  jobs: JobResult[];
}

function figuresOf(r: JobResult, ceiling: number): Figures {
  return {
    pollsPerSecond: r.pollsPerSecond,
    throughputToCeiling: Math.round((r.pollsPerSecond / ceiling) * 1000) / 1000,
    foundryCallsPerRunPerSweep: r.foundry.callsPerRunPerSweep,
    tableTxPerUnchangedRunPerSweep: r.table.txPerUnchangedRunPerSweep,
    detectionP50Ms: r.detection.p50Ms ?? null,
    detectionP99Ms: r.detection.p99Ms ?? null,
    peakRssMb: r.peakRssMb,
    // The naive status table is keyed by run: a thread lookup scans every row, a page per 1,000.
    searchRequests: r.search?.requestsPerSearch ?? (r.mode === "naive" ? queryPages(r.runs) : 0),
    searchP99Ms: r.search?.p99Ms ?? null,
  };
}

function ratios(m: Figures, n: Figures): Record<keyof Figures, number | null> {
  const out = {} as Record<keyof Figures, number | null>;
  for (const k of Object.keys(m) as (keyof Figures)[]) {
    const a = m[k];
    const b = n[k];
    out[k] = a === null || b === null || b === 0 ? null : Math.round((a / b) * 10000) / 10000;
  }
  return out;
}

export function checkTargets(sizes: SizeReport[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (target: string, s: SizeReport, value: number | null, limit: number, pass: (v: number) => boolean) =>
    checks.push({ target, runs: s.runs, store: s.store, value, limit, pass: value !== null && pass(value) });
  const largest = Math.max(...sizes.map((s) => s.runs));
  const detectionSize = sizes.some((s) => s.runs === 10_000) ? 10_000 : largest;
  for (const s of sizes) {
    add("throughput ≥ 0.9 × ceiling", s, s.monitor.throughputToCeiling, 0.9, (v) => v >= 0.9);
    add("Foundry calls per run per sweep ≤ 1.05", s, s.monitor.foundryCallsPerRunPerSweep, 1.05, (v) => v <= 1.05);
    add("Table transactions per unchanged run per sweep ≤ 0.01", s, s.monitor.tableTxPerUnchangedRunPerSweep, 0.01, (v) => v <= 0.01);
    if (s.runs === detectionSize) {
      const limit = s.pollIntervalSeconds * 1000 + 2000;
      add(`detection p99 ≤ poll interval + 2 s (${limit} ms)`, s, s.monitor.detectionP99Ms, limit, (v) => v <= limit);
    }
    if (s.runs === largest && s.store === "memory") add("peak RSS ≤ 256 MB", s, s.monitor.peakRssMb, 256, (v) => v <= 256);
  }
  return checks;
}

export interface RunBenchOptions {
  settings: BenchSettings;
  /** Human-readable lines (the JSON line is the caller's). */
  log: (line: string) => void;
  progress: boolean;
}

export async function runBench({ settings, log, progress }: RunBenchOptions): Promise<BenchReport> {
  const started = Date.now();
  const loadavgStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const ceiling = ceilingOf(settings);
  const plans: { runs: number; store: StoreKind }[] = [
    ...settings.sizes.filter((n) => n < Math.max(...settings.sizes)).map((runs) => ({ runs, store: "memory" as const })),
    ...settings.tableSizes.map((runs) => ({ runs, store: "table" as const })),
    { runs: Math.max(...settings.sizes), store: "memory" as const },
  ];
  const largest = Math.max(...settings.sizes);
  const jobs: JobResult[] = [];
  const sizes: SizeReport[] = [];
  log(`bench: ${plans.map((p) => `${p.runs} runs (${p.store})`).join(", ")}; Foundry latency ${settings.latencyMs} ms, rate limit ${settings.rateLimitPerSecond}/s, ceiling ${ceiling} reads/s; load average ${loadavgStart.join(" ")} on ${os.cpus().length} cores`);
  for (const p of plans) {
    const pair: Partial<Record<Mode, JobResult>> = {};
    for (const mode of ["monitor", "naive"] as const) {
      const job: BenchJob = {
        mode,
        store: p.store,
        plan: planFor(settings, p.runs, mode, p.store),
        knobs: { ...settings.knobs, limiterPerSecond: settings.rateLimitPerSecond },
        searchQueries: mode === "monitor" && p.store === "memory" && p.runs === largest ? settings.searchQueries : 0,
      };
      const result = await runJob(job, progress);
      jobs.push(result);
      pair[mode] = result;
      log(describe(result));
    }
    const monitor = figuresOf(pair.monitor!, ceiling);
    const naive = figuresOf(pair.naive!, ceiling);
    sizes.push({ runs: p.runs, store: p.store, pollIntervalSeconds: pair.monitor!.plan.pollIntervalSeconds, ceilingPerSecond: ceiling, monitor, naive, ratios: ratios(monitor, naive) });
  }
  sizes.sort((a, b) => a.runs - b.runs || a.store.localeCompare(b.store));
  return {
    benchmark: "foundry-run-monitor",
    quick: settings.quick,
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "unknown", node: process.version, loadavgStart, loadavgEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    settings: { ...settings, ceilingPerSecond: ceiling },
    sizes,
    targets: checkTargets(sizes),
    jobs,
  };
}

function describe(r: JobResult): string {
  const d = r.detection;
  return [
    `  ${r.mode.padEnd(7)} ${String(r.runs).padStart(6)} runs (${r.store}):`,
    `${r.pollsPerSecond} reads/s,`,
    `${r.foundry.callsPerRunPerSweep} Foundry calls/run/sweep (${r.foundry.rateLimited} answered 429),`,
    `${r.table.txPerUnchangedRunPerSweep} Table tx/unchanged run/sweep,`,
    `detection p50 ${d.p50Ms ?? "-"} ms p99 ${d.p99Ms ?? "-"} ms (${d.detected}/${d.expected}${d.unexpected ? `, ${d.unexpected} unexpected` : ""}),`,
    `peak RSS ${r.peakRssMb} MB`,
    r.search ? `, search p99 ${r.search.p99Ms} ms` : "",
    r.notes.length ? ` [${r.notes.join("; ")}]` : "",
  ].join(" ");
}

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "worker.js");

/** One job: simulator up at a whole second, worker forked, progress relayed, result back. */
async function runJob(job: BenchJob, showProgress: boolean): Promise<JobResult> {
  const scenario = benchScenario(job.plan, Date.now());
  const child = fork(WORKER, [JSON.stringify(job)], { stdio: ["ignore", "pipe", "pipe", "ipc"], execArgv: [] });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const bar = showProgress ? progressBar(`bench ${job.mode} ${job.plan.runs} runs (${job.store})`, 100, "%") : undefined;
  let sim: Awaited<ReturnType<typeof startFoundrySimulator>> | undefined;
  try {
    const result = await new Promise<JobResult>((resolve, reject) => {
      child.on("message", (raw) => {
        const m = raw as WorkerMessage;
        if (m.type === "ready") {
          void (async () => {
            // The simulator's second 0 falls on a whole second, so Foundry's 1 s timestamps are exact.
            const startMs = Math.ceil((Date.now() + 300) / 1000) * 1000;
            withStart(scenario, startMs);
            await sleepUntil(startMs);
            sim = await startFoundrySimulator({ scenario, clock: "real", port: 0 });
            child.send({ type: "go", startMs, endpoint: sim.endpoint, caPem: sim.caPem, control: sim.control });
          })().catch(reject);
        } else if (m.type === "progress") {
          bar?.update(Math.min(100, (m.done / Math.max(1, m.total)) * 100));
        } else if (m.type === "result") resolve(m.result);
        else if (m.type === "failed") reject(new Error(`bench worker (${job.mode}, ${job.plan.runs} runs, ${job.store}) failed: ${m.message}`));
      });
      void exited.then((code) => reject(new Error(`bench worker (${job.mode}, ${job.plan.runs} runs, ${job.store}) exited with ${code} before reporting:\n${output}`)));
    });
    bar?.stop();
    return result;
  } finally {
    if (child.exitCode === null) {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await sim?.close();
  }
}
