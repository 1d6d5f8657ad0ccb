// Shared by the tracking*/functions* integration tests: the real local stack (Azurite, the HTTPS
// Foundry simulator on a manual clock, the AMQP broker) and the app's services built from settings
// the way the Functions host builds them, installed with useServices so the exported handlers run
// unchanged.
import functions, { type InvocationContext } from "@azure/functions";
import { randomUUID } from "node:crypto";
import { localSimulatorCredential } from "../../shared/foundry/credential.js";
import { loadSettings } from "../../shared/config/config.js";
import type { Instant } from "../../shared/model/run.js";
import { buildServices, useServices, type Services } from "../../shared/services.js";
import type { Clock } from "../../shared/tracking/clock.js";
import type { DegradedReason, MonitorEvents } from "../../shared/tracking/deps.js";
import type { OutboxItem, RunHead, Transition } from "../../shared/store/types.js";
import { startFoundrySimulator, type FoundrySimulator } from "../../local/foundry-sim/index.js";
import { LocalFunctionsHost } from "../../local/functions-host.js";
import { parseScenario, type Scenario } from "../../local/scenario/schema.js";
import { startServiceBusBroker, type ServiceBusBroker } from "../../local/service-bus/broker.js";
import { startAzurite, type AzuriteInstance } from "../support/azurite.js";

export const SCENARIO_START = "2026-03-02T09:00:00Z";
const START_MS = Date.parse(SCENARIO_START);

/**
 * The monitor's time follows the simulator's manual clock (scenario second → epoch ms), plus a
 * skip a test can add to jump days ahead (history retention) without moving Foundry.
 */
export class SimulatorClock implements Clock {
  skipMs = 0;
  constructor(private readonly sim: FoundrySimulator) {}
  now(): Instant {
    return START_MS + Math.round(this.sim.now() * 1000) + this.skipMs;
  }
  // Backoff and rate-limit waits: time is the test's to move, so a wait only yields.
  async sleep(): Promise<void> {
    await new Promise((r) => setImmediate(r));
  }
}

/** What the tracking core reported, kept for assertions. */
export class RecordingEvents {
  readonly registeredRuns: string[] = [];
  readonly transitions: Transition[] = [];
  readonly published: OutboxItem[] = [];
  readonly degradations: { reason: DegradedReason; detail: string }[] = [];
  readonly sink: MonitorEvents = {
    registered: (head: RunHead) => void this.registeredRuns.push(head.ref.runId),
    transition: (t: Transition) => void this.transitions.push(t),
    published: (item: OutboxItem) => void this.published.push(item),
    degraded: (reason: DegradedReason, detail: string) => void this.degradations.push({ reason, detail }),
  };
}

export interface TrackingStack {
  azurite: AzuriteInstance;
  sim: FoundrySimulator;
  broker: ServiceBusBroker;
  services: Services;
  clock: SimulatorClock;
  events: RecordingEvents;
  logs: string[];
  /** FOUNDRY_PROJECTS as configured (every project is served by the one simulator). */
  projects: { name: string; endpoint: string }[];
  /** Sets the simulator's scenario second (the monitor's clock follows). */
  at(seconds: number): void;
  stop(): Promise<void>;
}

export const ESCALATION_TOPIC = "run-escalations";

export function scenarioOf(runs: unknown[], extra: Record<string, unknown> = {}): Scenario {
  return parseScenario({ name: "tracking-test", start: SCENARIO_START, duration: 3600, ...extra, runs });
}

/** Starts Azurite, the simulator and the broker, builds the services from settings and installs them. */
export async function startTrackingStack(options: { scenario: Scenario; projects: string[]; env?: Record<string, string>; discovery?: string[] }): Promise<TrackingStack> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    useServices(undefined);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const azurite = await startAzurite();
    cleanups.push(() => azurite.stop());
    const sim = await startFoundrySimulator({ scenario: options.scenario, clock: "manual", port: 0, timeoutHoldMs: 500 });
    cleanups.push(() => sim.close());
    const broker = await startServiceBusBroker({
      entities: { topics: [{ name: ESCALATION_TOPIC, duplicateDetectionWindowMs: 600_000, subscriptions: [{ name: "tickets", maxDeliveryCount: 10, lockDurationMs: 30_000 }] }] },
    });
    cleanups.push(() => broker.dispose());
    const origin = new URL(sim.endpoint).origin;
    const projects = options.projects.map((name) => ({ name, endpoint: `${origin}/api/projects/${name}`, api: "both", discovery: options.discovery?.includes(name) ?? false }));
    const settings = loadSettings({
      AzureWebJobsStorage: azurite.connectionString,
      ServiceBusConnection: broker.connectionString,
      FOUNDRY_PROJECTS: JSON.stringify(projects),
      FOUNDRY_TIMEOUT_MS: "2000",
      FOUNDRY_RATE_LIMIT_PER_SECOND: "10000",
      SHARD_COUNT: "4",
      POLL_CONCURRENCY: "8",
      HISTORY_RETENTION_DAYS: "1",
      ...options.env,
    });
    const clock = new SimulatorClock(sim);
    const events = new RecordingEvents();
    const logs: string[] = [];
    const services = await buildServices(settings, { foundryCa: sim.caPem, foundryCredential: localSimulatorCredential, clock, events: events.sink, log: (l) => logs.push(l) }, {});
    cleanups.push(() => services.close());
    useServices(services);
    return { azurite, sim, broker, services, clock, events, logs, projects, at: (s) => sim.setClock(s), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The local Functions host on the stack's Azurite, with the poll-shards queue ready (timer and queue triggers as in Azure). */
export async function startLocalHost(stack: TrackingStack, logs: string[]): Promise<LocalFunctionsHost> {
  const host = new LocalFunctionsHost({ connectionString: stack.azurite.connectionString, visibilityTimeoutSeconds: 5, log: (l) => logs.push(l) });
  await host.ensureQueues(["poll-shards"]);
  return host;
}

/** A real InvocationContext whose log lines land in `logs`. */
export function contextFor(functionName: string, logs: string[] = []): InvocationContext {
  return new functions.InvocationContext({
    invocationId: randomUUID(),
    functionName,
    logHandler: (level, ...args) => logs.push(`${level}: ${args.map(String).join(" ")}`),
  });
}
