// Runs scenarios through the monitor's real core (register → poll → outbox → publish → ticket
// handler) with Application Insights telemetry on, then flushes and exits. Spawned by the
// telemetry tests (runTelemetryChild) so NODE_EXTRA_CA_CERTS can trust their ingestion endpoint.
// argv[2]: a TelemetryChildJob as JSON. stdout: one TelemetryChildReport as JSON.
import { ServiceBusClient } from "@azure/service-bus";
import { ServiceBusEscalationPublisher, type EscalationPublisher } from "../../shared/bus/publisher.js";
import { sanitize } from "../../shared/sanitize/index.js";
import { MemoryRunStore } from "../../shared/store/memory-store.js";
import type { OutboxItem } from "../../shared/store/types.js";
import { reportDeadLettered, telemetryEvents, telemetryFromSettings, telemetryMetrics, instrumentSink, withTraceparent, type Telemetry } from "../../shared/telemetry/index.js";
import { MemoryTicketLedger } from "../../shared/tickets/ledger.js";
import { handleEscalationMessage, handleTicketMessage, type TicketDeps } from "../../shared/tickets/open-ticket.js";
import { SinkError, type TicketSink } from "../../shared/tickets/sinks/types.js";
import { VirtualClock } from "../../shared/tracking/clock.js";
import { insightsHook } from "../../shared/insights/hook.js";
import { MemoryInsightsStore } from "../../shared/insights/store.js";
import type { MonitorEvents, TrackerDeps } from "../../shared/tracking/deps.js";
import { pollShard } from "../../shared/tracking/poll-shard.js";
import { publishOutbox } from "../../shared/tracking/publish.js";
import { RateLimiter } from "../../shared/tracking/rate-limiter.js";
import { registerRun } from "../../shared/tracking/register.js";
import { shardsToPoll } from "../../shared/tracking/sweep.js";
import { createSimulation } from "../../local/foundry-sim/index.js";
import { MemoryEscalationTopic } from "../../local/memory-bus.js";
import { MemoryTicketSink } from "../../local/memory-sink.js";
import { loadScenario, type Scenario } from "../../local/scenario/schema.js";
import { startServiceBusBroker } from "../../local/service-bus/broker.js";
import { policiesOf, projectOf, type ScenarioForEngine } from "../../local/simulate/engine.js";
import { InProcessRunSource } from "../../local/simulate/in-process-source.js";

export interface TelemetryChildJob {
  scenarios: string[];
  /** Escalations travel through the local AMQP broker (real Service Bus client) or an in-memory topic. */
  bus: "broker" | "memory";
  /** A second sink whose first call fails with this message (a target's error that quotes user data). */
  flakySinkMessage?: string;
  /** Also report a system error with this message and a dead-letter count. */
  systemErrorMessage?: string;
}

export interface TelemetryChildReport {
  published: { messageId: string; kind: string; traceparent?: string }[];
  /** What the tickets subscription delivered (broker only). */
  delivered: { messageId: string; diagnosticId?: string; cloudEventTraceparent?: string }[];
  tickets: { runId: string; action: string }[];
  sinkFailures: number;
}

const TOPIC = "run-escalations";

/** A sink that fails the first call it gets, like a ticket desk answering one 503. */
class FlakySink implements TicketSink {
  readonly name = "flaky-desk";
  private failed = false;
  private readonly inner = new MemoryTicketSink();
  constructor(private readonly message: string) {}
  private maybeFail(): void {
    if (this.failed) return;
    this.failed = true;
    throw new SinkError(this.name, this.message, { permanent: false, status: 503 });
  }
  async open(t: Parameters<TicketSink["open"]>[0]) {
    this.maybeFail();
    return this.inner.open(t);
  }
  async update(id: string, t: Parameters<TicketSink["update"]>[1], note: string) {
    this.maybeFail();
    return this.inner.update(id, t, note);
  }
  async resolve(id: string, t: Parameters<TicketSink["update"]>[1]) {
    return this.inner.resolve(id, t);
  }
}

/** The simulate engine's loop (local/simulate/engine.ts), with metrics in the tracker deps. */
async function drive(scenario: Scenario, deps: TrackerDeps, clock: VirtualClock): Promise<void> {
  const s = scenario as unknown as ScenarioForEngine;
  const start = Date.parse(s.start);
  const end = start + s.duration * 1000;
  const registrations = [...s.runs].sort((a, b) => a.registerAt - b.registerAt);
  let r = 0;
  let nextSweep = start;
  while (nextSweep <= end) {
    const nextRegistration = r < registrations.length ? start + registrations[r].registerAt * 1000 : Infinity;
    if (nextRegistration <= nextSweep) {
      clock.advanceTo(nextRegistration);
      const run = registrations[r++];
      await registerRun(deps, { project: projectOf(run), api: run.api, runId: run.runId, threadId: run.threadId, agentId: run.agentId, session: run.session, tags: run.tags });
      continue;
    }
    clock.advanceTo(nextSweep);
    for (const { shard } of await shardsToPoll(deps.store, deps.metrics)) await pollShard(deps, shard);
    await publishOutbox(deps);
    nextSweep += s.monitor.pollIntervalSeconds * 1000;
  }
  await publishOutbox(deps);
}

async function runScenarioWithTelemetry(path: string, job: TelemetryChildJob, extraSinks: TicketSink[], telemetry: Telemetry, report: TelemetryChildReport): Promise<void> {
  const scenario = loadScenario(path);
  const s = scenario as unknown as ScenarioForEngine;
  const start = Date.parse(s.start);
  const clock = new VirtualClock(start);
  const store = new MemoryRunStore();
  await store.init();
  const source = new InProcessRunSource(createSimulation(scenario, { seed: 1 }), start, () => clock.now());
  const broker = job.bus === "broker" ? await startServiceBusBroker({ entities: { topics: [{ name: TOPIC, duplicateDetectionWindowMs: 600_000, subscriptions: [{ name: "tickets", lockDurationMs: 30_000, maxDeliveryCount: 5 }] }] } }) : undefined;
  const memoryTopic = new MemoryEscalationTopic(["tickets"]);
  const publisher: EscalationPublisher = broker ? new ServiceBusEscalationPublisher({ connectionString: broker.connectionString }, { topic: TOPIC }) : memoryTopic;
  const monitorEvents = telemetryEvents(telemetry);
  const events: MonitorEvents = {
    ...monitorEvents,
    published(item, at) {
      report.published.push({ messageId: item.messageId, kind: item.kind, ...(item.traceparent ? { traceparent: item.traceparent } : {}) });
      monitorEvents.published(item, at);
    },
  };
  const deps: TrackerDeps = {
    store,
    source,
    publisher,
    policies: policiesOf(s),
    clock,
    limiter: new RateLimiter(s.foundry?.rateLimitPerSecond ?? 1_000_000, clock),
    events,
    metrics: telemetryMetrics(telemetry),
    settings: { pollIntervalSeconds: s.monitor.pollIntervalSeconds, shardCount: 8, concurrency: 1, maxActiveRunsPerProject: 1_000_000, projects: [...new Set(s.runs.map(projectOf))], pollAttempts: 4 },
    sanitize,
  };
  // Insights as services.ts installs them: each counted tool call becomes ToolCalls / ToolCallDurationMs.
  deps.onCommitted = insightsHook({ store: new MemoryInsightsStore(), source, metrics: deps.metrics });
  const sinks = [new MemoryTicketSink(), ...extraSinks].map((k) => instrumentSink(k, telemetry));
  const tickets: TicketDeps = {
    store,
    ledger: new MemoryTicketLedger(),
    source,
    sinksFor: () => sinks,
    evidencePolicy: {},
    links: () => ({}),
    now: () => clock.now(),
    onTicket: (e) => report.tickets.push({ runId: e.runId, action: e.action }),
    retryBackoff: { baseMs: 1, maxMs: 1 },
    continueTrace: withTraceparent,
  };
  const publishedBefore = report.published.length;
  try {
    await drive(scenario, deps, clock);
    // Redeliveries after a sink failure, as Service Bus would.
    const handle = async (work: () => Promise<unknown>): Promise<void> => {
      for (let delivery = 0; delivery < 3; delivery++) {
        try {
          await work();
          return;
        } catch {
          report.sinkFailures++;
        }
      }
    };
    if (broker) {
      const client = new ServiceBusClient(broker.connectionString);
      const receiver = client.createReceiver(TOPIC, "tickets", { receiveMode: "receiveAndDelete" });
      const expected = new Set(report.published.slice(publishedBefore).map((p) => p.messageId));
      const deadline = Date.now() + 15_000;
      let got = 0;
      while (got < expected.size && Date.now() < deadline) {
        for (const m of await receiver.receiveMessages(50, { maxWaitTimeInMs: 1000 })) {
          got++;
          const body = m.body as { id?: string; traceparent?: string };
          report.delivered.push({ messageId: String(body.id), diagnosticId: m.applicationProperties?.["Diagnostic-Id"] as string | undefined, cloudEventTraceparent: body.traceparent });
          await handle(() => handleTicketMessage(tickets, m.body, { deliveryCount: m.deliveryCount }));
        }
      }
      await receiver.close();
      await client.close();
    } else {
      for (const item of memoryTopic.drain("tickets") as OutboxItem[]) await handle(() => handleEscalationMessage(tickets, item));
    }
  } finally {
    await publisher.close();
    await broker?.dispose();
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as TelemetryChildJob;
  // A fixed-token credential: ingestion must see it as a bearer token (Entra ID auth, as in Azure).
  const credential = { getToken: async () => ({ token: "local-ingestion-token", expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const telemetry = await telemetryFromSettings(process.env, { credential, offlineStorage: false });
  const report: TelemetryChildReport = { published: [], delivered: [], tickets: [], sinkFailures: 0 };
  const flaky = job.flakySinkMessage ? [new FlakySink(job.flakySinkMessage)] : [];
  for (const path of job.scenarios) {
    const t0 = Date.now();
    await runScenarioWithTelemetry(path, job, flaky, telemetry, report);
    process.stderr.write(`${path}: ${Date.now() - t0} ms\n`);
  }
  if (job.systemErrorMessage) {
    telemetry.trackException(new Error(job.systemErrorMessage), { where: "telemetry-child" });
    reportDeadLettered(telemetry, `${TOPIC}/Subscriptions/tickets`, 2);
  }
  const t1 = Date.now();
  await telemetry.flush();
  await telemetry.shutdown();
  process.stderr.write(`flush+shutdown: ${Date.now() - t1} ms\n`);
  process.stdout.write(JSON.stringify(report) + "\n");
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(String(e instanceof Error ? e.stack : e) + "\n");
    process.exit(1);
  },
);
