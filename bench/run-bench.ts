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
import { measureSanitizerThroughput, type SanitizerThroughput } from "./sanitize-throughput.js";
import { benchScenario, type BenchPlan } from "./scenario.js";
import { round } from "./worker-support.js";

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
  /**
   * FOUNDRY_RATE_LIMIT_PER_SECOND as a share of Foundry's limit. Both count a sliding second, but
   * Foundry counts arrivals and the monitor grants: reads held up by a GC pause or a busy CPU
   * arrive bunched, so a deployment leaves Foundry some headroom (5 % absorbs a ~50 ms stall).
   */
  limiterShare: number;
  /** --max-old-space-size for the workers (MB), as languageWorkers__node__arguments would set it; undefined: Node's default. */
  heapCapMb?: number;
}

export function limiterOf(s: BenchSettings): number {
  return Math.max(1, Math.floor(s.rateLimitPerSecond * s.limiterShare));
}

// SHARD_COUNT 16 and POLL_CONCURRENCY 32 are the app's defaults; four poll-shard invocations at
// once is host.json's queues batchSize (the host may run up to 6 with newBatchThreshold 2). One at a
// time cannot reach the rate limit: every shard pass ends in a tail with fewer than 32 reads in
// flight, and each read takes longer than the bare latency once TLS and the SDK are counted.
// The rate limiter is per instance and paced, so more shards in parallel never means more than
// FOUNDRY_RATE_LIMIT_PER_SECOND, and escalations are published as each run is written.
const APP_KNOBS = { shardCount: 16, concurrency: 32, parallelShards: 4 };

// V8 grows its heap lazily and gives little back: uncapped, 100k runs in the memory store (118 MB
// live after registration) sit in a 450+ MB process. The cap is the app setting
// languageWorkers__node__arguments=--max-old-space-size=192, for the monitor's worker.
const HEAP_CAP_MB = 192;

export function defaultSettings(quick: boolean): BenchSettings {
  return quick
    ? { quick, sizes: [1000], tableSizes: [300], latencyMs: 50, rateLimitPerSecond: 500, knobs: { ...APP_KNOBS }, searchQueries: 200, limiterShare: 0.95, heapCapMb: HEAP_CAP_MB }
    : { quick, sizes: [1000, 10_000, 100_000], tableSizes: [10_000], latencyMs: 50, rateLimitPerSecond: 500, knobs: { ...APP_KNOBS }, searchQueries: 1000, limiterShare: 0.95, heapCapMb: HEAP_CAP_MB };
}

/** Reads per second the setup allows at best: the rate limit, or what the reads in flight can do at the set latency. */
export function ceilingOf(s: BenchSettings): number {
  const inFlight = s.knobs.parallelShards * s.knobs.concurrency;
  return Math.min(s.rateLimitPerSecond, inFlight / (s.latencyMs / 1000));
}

/** The plan of one job; `measureFromSeconds` is fixed by the parent once the worker has registered its runs. */
export function planFor(s: BenchSettings, runs: number): BenchPlan {
  const ceiling = ceilingOf(s);
  // An interval a sweep at the monitor's own limiter fits in with 40 % to spare (a sweep that
  // overruns skips the next one, and known events then fall outside the measured sweeps), in whole
  // tens of seconds, at least 30 s: 30 s at 10k runs, 300 s at 100k.
  const pollIntervalSeconds = s.quick ? 5 : Math.max(30, Math.ceil((1.4 * runs) / Math.min(ceiling, limiterOf(s)) / 10) * 10);
  return {
    runs,
    latencyMs: s.latencyMs,
    rateLimitPerSecond: s.rateLimitPerSecond,
    pollIntervalSeconds,
    measureFromSeconds: 0,
    eventIntervals: s.quick || runs >= 100_000 ? 1 : 3,
    failShare: 0.005,
    stallShare: 0.005,
    stallSeconds: s.quick ? 5 : 30,
  };
}

/**
 * Seconds after second 0 at which measuring starts: after registration, far enough that every
 * known stall's run enters in_progress after it too, plus time to build the scenario and start
 * the simulator; the naive baseline needs one interval for every timer to have fired once.
 */
function measureFromSecondsFor(plan: BenchPlan, mode: Mode, elapsedSeconds: number): number {
  const warm = mode === "naive" ? plan.pollIntervalSeconds + 2 : plan.stallSeconds + 2 + plan.runs / 10_000;
  return Math.ceil(elapsedSeconds + warm);
}

export interface Figures {
  pollsPerSecond: number;
  /** Against min(Foundry's rate limit, reads in flight / latency), as the targets define it. */
  throughputToCeiling: number;
  /** Against the monitor's own FOUNDRY_RATE_LIMIT_PER_SECOND (limiterShare of Foundry's limit). */
  throughputToLimiter: number;
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
  /** The size and store it was measured at (none for the sanitizer). */
  runs?: number;
  store?: StoreKind;
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
  /** sanitize() throughput in MB of text per CPU second, measured in this process after the sizes. */
  sanitizer: SanitizerThroughput;
  targets: TargetCheck[];
  jobs: JobResult[];
}

function figuresOf(r: JobResult, ceiling: number): Figures {
  return {
    pollsPerSecond: r.pollsPerSecond,
    throughputToCeiling: Math.round((r.pollsPerSecond / ceiling) * 1000) / 1000,
    throughputToLimiter: Math.round((r.pollsPerSecond / Math.min(ceiling, r.knobs.limiterPerSecond)) * 1000) / 1000,
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
  log(`bench: ${plans.map((p) => `${p.runs} runs (${p.store})`).join(", ")}; Foundry latency ${settings.latencyMs} ms, rate limit ${settings.rateLimitPerSecond}/s (the monitor's limiter ${limiterOf(settings)}/s), ceiling ${ceiling} reads/s; load average ${loadavgStart.join(" ")} on ${os.cpus().length} cores`);
  for (const p of plans) {
    const pair: Partial<Record<Mode, JobResult>> = {};
    for (const mode of ["monitor", "naive"] as const) {
      const job: BenchJob = {
        mode,
        store: p.store,
        plan: planFor(settings, p.runs),
        knobs: { ...settings.knobs, limiterPerSecond: limiterOf(settings) },
        searchQueries: mode === "monitor" && p.store === "memory" && p.runs === largest ? settings.searchQueries : 0,
        // The cap is the monitor's deployment setting; the baseline runs as teams deploy it (at 10k
        // runs its timers, closures and SDK objects outgrow a 192 MB heap).
        heapCapMb: mode === "monitor" ? settings.heapCapMb : undefined,
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
  // Last, on a machine the workers have left: CPU seconds, but a busy neighbour still slows the JIT.
  const sanitizer = roundSanitizer(measureSanitizerThroughput({ megabytes: settings.quick ? 10 : 20 }));
  log(`  sanitizer: ${sanitizer.perRowMBps} MB/CPU-s one row at a time, ${sanitizer.perPieceMBps} MB/CPU-s in 64 KB pieces (${sanitizer.textMB} MB of text)`);
  return {
    benchmark: "foundry-run-monitor",
    quick: settings.quick,
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "unknown", node: process.version, loadavgStart, loadavgEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    settings: { ...settings, ceilingPerSecond: ceiling },
    sizes,
    sanitizer,
    targets: [...checkTargets(sizes), { target: "sanitize() ≥ 10 MB/s on one core (per row)", value: sanitizer.perRowMBps, limit: 10, pass: sanitizer.perRowMBps >= 10 }],
    jobs,
  };
}

function roundSanitizer(t: SanitizerThroughput): SanitizerThroughput {
  const r = (x: number) => round(x, 2);
  return { perRowMBps: r(t.perRowMBps), perPieceMBps: r(t.perPieceMBps), textMB: r(t.textMB), loadAverage: t.loadAverage.map(r) };
}

function describe(r: JobResult): string {
  const d = r.detection;
  return [
    `  ${r.mode.padEnd(7)} ${String(r.runs).padStart(6)} runs (${r.store}):`,
    `${r.pollsPerSecond} reads/s,`,
    `${r.foundry.callsPerRunPerSweep} Foundry calls/run/sweep (${r.foundry.rateLimited} answered 429),`,
    `${r.table.txPerUnchangedRunPerSweep} Table tx/unchanged run/sweep,`,
    `detection p50 ${d.p50Ms ?? "-"} ms p99 ${d.p99Ms ?? "-"} ms (${d.detected}/${d.expected}${d.unexpected ? `, ${d.unexpected} unexpected` : ""}),`,
    `peak RSS ${r.peakRssMb} MB,`,
    `CPU ${r.cpu.cpuMsPerRead} ms/read, event loop ${Math.round(r.cpu.eventLoopUtilization * 100)} % busy, load ${r.cpu.loadavg1}`,
    r.search ? `, search p99 ${r.search.p99Ms} ms` : "",
    r.notes.length ? ` [${r.notes.join("; ")}]` : "",
  ].join(" ");
}

/** BENCH_CPU_PROFILE_DIR=DIR writes a V8 CPU profile of every worker there (open it in Chrome DevTools). */
function workerExecArgv(job: BenchJob): string[] {
  const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
  return [...(job.heapCapMb ? [`--max-old-space-size=${job.heapCapMb}`] : []), ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [])];
}

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "worker.js");

/** One job: worker forked and its runs registered, then the scenario built around that, simulator up, result back. */
async function runJob(job: BenchJob, showProgress: boolean): Promise<JobResult> {
  const child = fork(WORKER, [JSON.stringify(job)], { stdio: ["ignore", "pipe", "pipe", "ipc"], execArgv: workerExecArgv(job) });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const bar = showProgress ? progressBar(`bench ${job.mode} ${job.plan.runs} runs (${job.store})`, 100, "%") : undefined;
  let sim: Awaited<ReturnType<typeof startFoundrySimulator>> | undefined;
  let clockTicker: NodeJS.Timeout | undefined;
  try {
    const result = await new Promise<JobResult>((resolve, reject) => {
      child.on("message", (raw) => {
        const m = raw as WorkerMessage;
        if (m.type === "registered") {
          void (async () => {
            const plan = { ...job.plan, measureFromSeconds: measureFromSecondsFor(job.plan, job.mode, (Date.now() - m.startMs) / 1000) };
            const scenario = benchScenario(plan, m.startMs);
            // Second 0 is in the past (the worker registered against it), so the simulator runs on a
            // manual clock that this process keeps on real time since second 0.
            sim = await startFoundrySimulator({ scenario, clock: "manual", port: 0 });
            const s = sim;
            const follow = () => s.setClock(Math.max(0, (Date.now() - m.startMs) / 1000));
            follow();
            clockTicker = setInterval(follow, 5);
            child.send({ type: "go", startMs: m.startMs, measureFromSeconds: plan.measureFromSeconds, endpoint: sim.endpoint, caPem: sim.caPem, control: sim.control });
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
    clearInterval(clockTicker);
    if (child.exitCode === null) {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await sim?.close();
  }
}
