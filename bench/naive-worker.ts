// The baseline most teams hand-write: one timer per run, firing every poll interval, that reads the
// run with the SDK as it comes out of the box (its default retries included) and upserts the
// status row every time, changed or not; it escalates a run the first time a read shows it
// failed or over a threshold. Same simulator, same scenario, same thresholds as the monitor.

import { AgentsClient } from "@azure/ai-agents";
import { AIProjectClient } from "@azure/ai-projects";
import { TableClient } from "@azure/data-tables";
import { resolvePolicy } from "../shared/detect/policy.js";
import { localSimulatorCredential } from "../shared/foundry/credential.js";
import { fetchTrustingCa } from "../shared/foundry/tls-fetch.js";
import type { Api } from "../shared/model/run.js";
import { policiesOf, type ScenarioForEngine } from "../local/simulate/engine.js";
import { startAzurite, type AzuriteInstance } from "../local/azurite.js";
import { MemoryEscalationTopic } from "../local/memory-bus.js";
import { DetectionRecorder } from "./detection.js";
import type { BenchJob, JobResult, ParentMessage, SweepRecord } from "./protocol.js";
import { BENCH_PROJECT, benchRun, benchScenarioShell, knownEvents, type BenchPlan } from "./scenario.js";
import { CpuMeter, peakRssMb, progress, round, simulatorStats, sleep, sleepUntil, statsDelta } from "./worker-support.js";

interface NaiveRun {
  api: Api;
  runId: string;
  threadId: string;
  agentId: string;
  owner: string;
  status?: string;
  escalated?: string;
}

/** One status row per run, upserted on every poll (counted at this boundary). */
interface StatusTable {
  writes: number;
  upsert(runId: string, status: string, polledAt: number): Promise<void>;
}

function memoryStatusTable(): StatusTable {
  const rows = new Map<string, { status: string; polledAt: number }>();
  const table: StatusTable = {
    writes: 0,
    async upsert(runId, status, polledAt) {
      table.writes++;
      rows.set(runId, { status, polledAt });
    },
  };
  return table;
}

async function azuriteStatusTable(connectionString: string): Promise<StatusTable> {
  const client = TableClient.fromConnectionString(connectionString, "naivestatus", { allowInsecureConnection: true });
  await client.createTable();
  const table: StatusTable = {
    writes: 0,
    async upsert(runId, status, polledAt) {
      table.writes++;
      await client.upsertEntity({ partitionKey: runId, rowKey: "status", status, polledAt }, "Replace");
    },
  };
  return table;
}

const TERMINAL_ESCALATIONS: Record<string, string> = { failed: "failed", expired: "expired", incomplete: "incomplete" };

export async function runNaiveJob(job: BenchJob, awaitGo: (startMs: number) => Promise<ParentMessage>): Promise<JobResult> {
  let azurite: AzuriteInstance | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    if (job.store === "table") azurite = await startAzurite();
    const table = azurite ? await azuriteStatusTable(azurite.connectionString) : memoryStatusTable();
    const startMs = Math.floor(Date.now() / 1000) * 1000;
    const go = await awaitGo(startMs);
    const plan: BenchPlan = { ...job.plan, measureFromSeconds: go.measureFromSeconds };
    const intervalMs = plan.pollIntervalSeconds * 1000;
    const measureFrom = startMs + plan.measureFromSeconds * 1000;
    const intervals = plan.eventIntervals + 1;
    const measureTo = measureFrom + intervals * intervalMs;
    const shell = benchScenarioShell(plan, startMs);
    const policies = policiesOf({ ...shell, runs: [] } as unknown as ScenarioForEngine);
    const recorder = new DetectionRecorder(knownEvents(plan), startMs);
    const topic = new MemoryEscalationTopic();
    // Clients as the SDK samples build them: default retry policies (429 and 5xx retried, Retry-After honoured).
    const agents = new AgentsClient(go.endpoint, localSimulatorCredential, { tlsOptions: { ca: go.caPem } });
    const openai = new AIProjectClient(go.endpoint, localSimulatorCredential, { tlsOptions: { ca: go.caPem } }).getOpenAIClient().withOptions({ fetch: fetchTrustingCa(go.caPem) });

    const runs: NaiveRun[] = Array.from({ length: plan.runs }, (_, i) => {
      const r = benchRun(plan, i);
      return { api: r.api, runId: r.runId, threadId: r.threadId, agentId: r.agentId, owner: r.tags?.owner ?? "" };
    });
    const window = Array.from({ length: intervals }, (_, k): SweepRecord => ({ at: plan.measureFromSeconds + k * plan.pollIntervalSeconds, durationMs: intervalMs, read: 0, unchanged: 0, written: 0, unread: 0, attempts: 0 }));
    let unchangedWrites = 0;
    const inFlight = new Set<Promise<void>>();

    const poll = async (run: NaiveRun): Promise<void> => {
      const startedAt = Date.now();
      const slot = startedAt >= measureFrom && startedAt < measureTo ? window[Math.floor((startedAt - measureFrom) / intervalMs)] : undefined;
      if (slot) slot.attempts++;
      let status: string;
      let createdAt: number;
      let runStartedAt: number | undefined;
      try {
        if (run.api === "classic") {
          const r = await agents.runs.get(run.threadId, run.runId);
          status = r.status;
          createdAt = r.createdAt.getTime();
          runStartedAt = r.startedAt?.getTime();
        } else {
          const r = await openai.responses.retrieve(run.runId);
          status = r.status ?? "unknown";
          createdAt = r.created_at * 1000;
        }
      } catch {
        if (slot) slot.unread++;
        return;
      }
      const now = Date.now();
      const unchanged = run.status === status;
      run.status = status;
      await table.upsert(run.runId, status, now);
      if (slot) {
        slot.read++;
        if (unchanged) {
          slot.unchanged++;
          unchangedWrites++;
        } else slot.written++;
      }
      const limits = resolvePolicy(policies, { project: BENCH_PROJECT, api: run.api, agentId: run.agentId, threadId: run.threadId, tags: { owner: run.owner } }).thresholds;
      let reason = TERMINAL_ESCALATIONS[status];
      if (!reason && status === "queued" && now - createdAt > limits.queuedSeconds * 1000) reason = "stalled-queued";
      if (!reason && status === "in_progress" && runStartedAt !== undefined && now - runStartedAt > limits.inProgressSeconds * 1000) reason = "stalled-in-progress";
      if (reason && run.escalated !== reason) {
        run.escalated = reason;
        const ref = { project: BENCH_PROJECT, api: run.api, runId: run.runId, threadId: run.threadId };
        await topic.publish([{ messageId: `${run.runId}:${reason}:1`, kind: "escalation", ref, reason: reason as never, episode: 1, severity: "medium", owner: run.owner, at: now, status: "pending" }]);
        recorder.published(run.runId, reason, Date.now());
      }
    };
    const fire = (run: NaiveRun) => {
      const p = poll(run).finally(() => inFlight.delete(p));
      inFlight.add(p);
    };

    // Timers spread evenly over the first interval: the kindest version of "a timer per run".
    const firstAt = Date.now();
    runs.forEach((run, i) => {
      const offset = (i / plan.runs) * intervalMs;
      timers.push(
        setTimeout(() => {
          fire(run);
          timers.push(setInterval(() => fire(run), intervalMs));
        }, offset),
      );
    });
    const planned = (measureTo - startMs) / 1000;
    const ticker = setInterval(() => progress("naive", (Date.now() - startMs) / 1000, planned), 500);
    const meter = new CpuMeter();
    let before: Awaited<ReturnType<typeof simulatorStats>>;
    let after: Awaited<ReturnType<typeof simulatorStats>>;
    try {
      await sleepUntil(measureFrom);
      before = await simulatorStats(go.control, go.caPem, BENCH_PROJECT);
      meter.start();
      await sleepUntil(measureTo);
      meter.stop();
      after = await simulatorStats(go.control, go.caPem, BENCH_PROJECT);
    } finally {
      clearInterval(ticker);
      for (const t of timers) clearInterval(t);
    }
    // let polls already under way finish (they count toward their own interval)
    const drainUntil = Date.now() + 15_000;
    while (inFlight.size > 0 && Date.now() < drainUntil) await sleep(100);
    const foundry = statsDelta(before, after);
    const read = window.reduce((n, s) => n + s.read, 0);
    const unchanged = window.reduce((n, s) => n + s.unchanged, 0);
    const changed = window.reduce((n, s) => n + s.written, 0);
    const notes = [`timers started ${Math.round((firstAt - startMs) / 1000)} s after second 0`];
    return {
      mode: "naive",
      store: job.store,
      runs: plan.runs,
      plan,
      knobs: job.knobs,
      sweeps: window,
      pollsPerSecond: round(read / ((intervals * intervalMs) / 1000), 1),
      foundry: { ...foundry, callsPerRunPerSweep: round(foundry.calls / (plan.runs * intervals)) },
      table: {
        txPerUnchangedRunPerSweep: round(unchangedWrites / Math.max(1, unchanged), 5),
        writesPerUnchangedRunPerSweep: round(unchangedWrites / Math.max(1, unchanged), 5),
        txPerChangedRun: changed > 0 ? 1 : 0,
        unchangedPolls: unchanged,
        changedPolls: changed,
        byMethod: { upsert: { reads: 0, writes: table.writes } },
      },
      detection: recorder.summary(),
      peakRssMb: peakRssMb(),
      cpu: meter.figures(read),
      registrationSeconds: 0,
      degraded: {},
      notes,
    };
  } finally {
    for (const t of timers) clearInterval(t);
    await azurite?.stop();
  }
}
