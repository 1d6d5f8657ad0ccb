// The monitor under test, alone in its process: the real Foundry adapters over HTTPS to the
// simulator, the tracking core (pollShard with real concurrency on the system clock, the shared
// RateLimiter), a MemoryRunStore or the Table store on Azurite, sweeps on a timer, the
// publish-outbox timer, and the API handler for searches afterwards.

import functions from "@azure/functions";
import { createApiHttpHandler } from "../functions/api.js";
import { createSimulation } from "../local/foundry-sim/index.js";
import type { Scenario } from "../local/scenario/schema.js";
import { InProcessRunSource } from "../local/simulate/in-process-source.js";
import { policiesOf, type ScenarioForEngine } from "../local/simulate/engine.js";
import { startAzurite, type AzuriteInstance } from "../local/azurite.js";
import { MemoryEscalationTopic } from "../local/memory-bus.js";
import { localSimulatorCredential } from "../shared/foundry/credential.js";
import { ProjectRunSources } from "../shared/foundry/project-run-sources.js";
import { sanitize } from "../shared/sanitize/index.js";
import { createMemoryRunStore } from "../shared/store/memory-store.js";
import { createTableRunStore } from "../shared/store/table-store.js";
import type { RunStore } from "../shared/store/types.js";
import { systemClock } from "../shared/tracking/clock.js";
import type { DegradedReason, MonitorEvents, TrackerDeps } from "../shared/tracking/deps.js";
import { inPool, pollShard } from "../shared/tracking/poll-shard.js";
import { publishOutbox } from "../shared/tracking/publish.js";
import { RateLimiter } from "../shared/tracking/rate-limiter.js";
import { registerRun } from "../shared/tracking/register.js";
import { DetectionRecorder, percentile } from "./detection.js";
import type { BenchJob, JobResult, ParentMessage, SearchFigures, SweepRecord } from "./protocol.js";
import { BENCH_PROJECT, benchRun, benchScenarioShell, knownEvents, type BenchPlan } from "./scenario.js";
import { SWEEP_OVERHEAD_METHODS, StoreLedger, sumTallies } from "./store-ledger.js";
import { CpuMeter, peakRssMb, progress, round, simulatorStats, sleepUntil, statsDelta } from "./worker-support.js";

/** Runs registered per in-process simulator core: bounds the memory registration needs. */
const REGISTRATION_CHUNK = 2000;
/** The publish-outbox function's timer (functions/publish-outbox.ts): every 15 s. */
const PUBLISH_TIMER_MS = 15_000;

export async function runMonitorJob(job: BenchJob, awaitGo: (startMs: number) => Promise<ParentMessage>): Promise<JobResult> {
  const { knobs } = job;
  const notes: string[] = [];
  let azurite: AzuriteInstance | undefined;
  let raw: RunStore;
  if (job.store === "table") {
    azurite = await startAzurite();
    raw = createTableRunStore({ connectionString: azurite.connectionString, tablePrefix: "bench" });
  } else {
    raw = createMemoryRunStore();
  }
  const publishTimer: { handle?: NodeJS.Timeout } = {};
  try {
    const ledger = new StoreLedger(raw);
    const store = ledger.store;
    await store.init();
    // Foundry's clock origin on a whole second (its timestamps have 1 s resolution), just past.
    const startMs = Math.floor(Date.now() / 1000) * 1000;
    // Until registration is done nobody knows when measuring starts: register against a plan whose
    // events lie far ahead, which is how every run looks at this point anyway.
    const quiet: BenchPlan = { ...job.plan, measureFromSeconds: 10_000_000 };
    const shell = benchScenarioShell(quiet, startMs);
    const degraded: Record<string, number> = {};
    const published: { runId: string; reason: string; at: number; ruleTrueAt?: number }[] = [];
    const events: MonitorEvents = {
      registered() {},
      transition() {},
      published(item, at) {
        if (item.kind === "escalation") published.push({ runId: item.ref.runId, reason: item.reason, at, ruleTrueAt: item.ruleTrueAt });
      },
      degraded(reason: DegradedReason) {
        degraded[reason] = (degraded[reason] ?? 0) + 1;
      },
    };
    const topic = new MemoryEscalationTopic();
    const base: Omit<TrackerDeps, "source"> = {
      store,
      publisher: topic,
      policies: policiesOf({ ...shell, runs: [] } as unknown as ScenarioForEngine),
      clock: systemClock,
      limiter: new RateLimiter(knobs.limiterPerSecond, systemClock, { pace: true }),
      events,
      settings: { pollIntervalSeconds: job.plan.pollIntervalSeconds, shardCount: knobs.shardCount, concurrency: knobs.concurrency, maxActiveRunsPerProject: 10_000_000, projects: [BENCH_PROJECT], pollAttempts: 4 },
      sanitize,
    };

    // Registration is not what is measured: its one Foundry read per run is answered in-process by
    // the same simulator core (same scenario, same clock), so the HTTPS quota is left to the sweeps.
    const registeredAt = Date.now();
    const registerConcurrency = job.store === "table" ? 8 : 4;
    let rejected = 0;
    for (let from = 0; from < quiet.runs; from += REGISTRATION_CHUNK) {
      const indexes = Array.from({ length: Math.min(REGISTRATION_CHUNK, quiet.runs - from) }, (_, k) => from + k);
      const runs = indexes.map((i) => benchRun(quiet, i));
      const core = createSimulation({ ...shell, foundry: { faults: [] }, runs } as Scenario, { project: BENCH_PROJECT });
      const seedDeps: TrackerDeps = { ...base, source: new InProcessRunSource(core, startMs, () => Date.now()), limiter: new RateLimiter(1e9, systemClock) };
      await inPool(runs, registerConcurrency, async (r) => {
        const result = await registerRun(seedDeps, { project: BENCH_PROJECT, api: r.api, runId: r.runId, threadId: r.threadId, agentId: r.agentId, session: r.session, tags: r.tags });
        if (result.kind !== "registered") rejected++;
      });
      progress("register", from + indexes.length, quiet.runs);
    }
    const registrationSeconds = (Date.now() - registeredAt) / 1000;
    if (rejected > 0) notes.push(`${rejected} registrations were not accepted`);

    const go = await awaitGo(startMs);
    const plan: BenchPlan = { ...job.plan, measureFromSeconds: go.measureFromSeconds };
    const recorder = new DetectionRecorder(knownEvents(plan), startMs);
    for (const p of published) recorder.published(p.runId, p.reason, p.at, p.ruleTrueAt);
    events.published = (item, at) => {
      if (item.kind === "escalation") recorder.published(item.ref.runId, item.reason, at, item.ruleTrueAt);
    };
    const deps: TrackerDeps = {
      ...base,
      source: new ProjectRunSources([{ name: BENCH_PROJECT, endpoint: go.endpoint, api: "both", discovery: false }], { credential: localSimulatorCredential, ca: go.caPem, timeoutMs: 10_000 }),
    };
    const intervalMs = plan.pollIntervalSeconds * 1000;
    const measureFrom = startMs + plan.measureFromSeconds * 1000;
    const lastSweep = measureFrom + plan.eventIntervals * intervalMs;
    const planned = (lastSweep - startMs) / 1000 + plan.pollIntervalSeconds;
    const tick = () => progress("monitor", (Date.now() - startMs) / 1000, planned);

    publishTimer.handle = setInterval(() => {
      void ledger.scoped("publish-timer", () => publishOutbox(deps)).catch(() => undefined);
    }, PUBLISH_TIMER_MS);

    // Sweeps at fixed scenario seconds, as the sweep timer fires: warm-up sweeps until
    // measureFrom, then eventIntervals + 1 measured ones. A sweep that overruns delays the next.
    let next = measureFrom;
    while (next - intervalMs >= Date.now()) next -= intervalMs;
    if (next < Date.now()) {
      notes.push(`registration overran the warm-up by ${Math.round((Date.now() - measureFrom) / 1000)} s; the first measured sweep starts late`);
    }
    const measured: SweepRecord[] = [];
    const meter = new CpuMeter();
    let before = undefined as Awaited<ReturnType<typeof simulatorStats>> | undefined;
    const ticker = setInterval(tick, 500);
    try {
      while (next <= lastSweep) {
        const isMeasured = next >= measureFrom;
        await sleepUntil(next);
        if (isMeasured && !before) {
          before = await simulatorStats(go.control, go.caPem, BENCH_PROJECT);
          ledger.take();
        }
        if (isMeasured) meter.start();
        const t0 = Date.now();
        const shards = await store.nonEmptyShards();
        const summaries = await inPool(shards, knobs.parallelShards, (s) => pollShard(deps, s));
        const record: SweepRecord = { at: (t0 - startMs) / 1000, durationMs: Date.now() - t0, read: 0, unchanged: 0, written: 0, unread: 0, attempts: 0 };
        for (const s of summaries) {
          record.unchanged += s.unchanged;
          record.written += s.written;
          record.unread += s.unread;
          record.attempts += s.polled;
        }
        record.read = record.unchanged + record.written;
        if (isMeasured) {
          meter.stop();
          measured.push(record);
        }
        topic.drain("tickets");
        next = Math.max(next + intervalMs, next + Math.ceil((Date.now() - next) / intervalMs) * intervalMs);
      }
      await ledger.scoped("publish-timer", () => publishOutbox(deps));
    } finally {
      clearInterval(ticker);
      clearInterval(publishTimer.handle);
    }
    const after = await simulatorStats(go.control, go.caPem, BENCH_PROJECT);
    const tallies = ledger.take();
    const foundry = statsDelta(before ?? after, after);

    const read = measured.reduce((n, s) => n + s.read, 0);
    const swept = measured.reduce((n, s) => n + s.read + s.unread, 0);
    const unchanged = measured.reduce((n, s) => n + s.unchanged, 0);
    const changed = measured.reduce((n, s) => n + s.written, 0);
    const sweepingMs = measured.reduce((n, s) => n + s.durationMs, 0);
    const isOverhead = (m: string) => SWEEP_OVERHEAD_METHODS.has(m) || m.startsWith("publish-timer");
    const overhead = sumTallies(tallies, isOverhead);
    const change = sumTallies(tallies, (m) => !isOverhead(m));

    const search = job.searchQueries > 0 ? await timeSearches(raw, plan, job.searchQueries) : undefined;
    return {
      mode: "monitor",
      store: job.store,
      runs: plan.runs,
      plan,
      knobs,
      sweeps: measured,
      pollsPerSecond: round(read / (sweepingMs / 1000), 1),
      foundry: { ...foundry, callsPerRunPerSweep: round(foundry.calls / Math.max(1, swept)) },
      table: {
        txPerUnchangedRunPerSweep: round((overhead.reads + overhead.writes) / Math.max(1, unchanged), 5),
        writesPerUnchangedRunPerSweep: round(overhead.writes / Math.max(1, unchanged), 5),
        txPerChangedRun: round((change.reads + change.writes) / Math.max(1, changed), 2),
        unchangedPolls: unchanged,
        changedPolls: changed,
        byMethod: tallies,
      },
      detection: recorder.summary(),
      search,
      peakRssMb: peakRssMb(),
      cpu: meter.figures(read),
      registrationSeconds: round(registrationSeconds, 1),
      degraded,
      notes,
    };
  } finally {
    clearInterval(publishTimer.handle);
    await azurite?.stop();
  }
}

/** Searches by thread ID through the API's Functions handler, one at a time, over every stored run. */
async function timeSearches(store: RunStore, plan: BenchPlan, queries: number): Promise<SearchFigures> {
  const handler = createApiHttpHandler({ store, authMode: "local-open", now: () => Date.now() });
  const context = new functions.InvocationContext({ invocationId: "bench", functionName: "api", logHandler: () => {} });
  const times: number[] = [];
  const requestsBefore = store.counters.reads + store.counters.writes;
  for (let q = 0; q < queries; q++) {
    // a prime stride spreads the queries over the whole index range
    const threadId = benchRun(plan, (q * 7919 + 1) % plan.runs).threadId;
    const request = new functions.HttpRequest({ method: "GET", url: `http://127.0.0.1/api/runs?threadId=${encodeURIComponent(threadId)}` });
    const t0 = process.hrtime.bigint();
    const response = await handler(request, context);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const body = JSON.parse(String(response.body)) as { runs?: unknown[] };
    if (response.status !== 200 || body.runs?.length !== 1) throw new Error(`search by thread ${threadId}: HTTP ${response.status}, ${body.runs?.length ?? 0} runs`);
  }
  return {
    storedRuns: plan.runs,
    queries: times.length,
    p50Ms: round(percentile(times, 50) ?? 0, 3),
    p99Ms: round(percentile(times, 99) ?? 0, 3),
    requestsPerSearch: round((store.counters.reads + store.counters.writes - requestsBefore) / Math.max(1, times.length), 2),
  };
}
