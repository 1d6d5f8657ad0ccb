import { TableClient } from "@azure/data-tables";
import type { TokenCredential } from "@azure/identity";
import { loadSettings, type Settings } from "./config/config.js";
import { serviceBusConnectionFromSettings, ServiceBusEscalationPublisher, type EscalationPublisher } from "./bus/publisher.js";
import { parsePolicySetText } from "./detect/policy.js";
import type { PolicySet } from "./detect/policy-types.js";
import { defaultFoundryCredential } from "./foundry/credential.js";
import { ProjectRunSources } from "./foundry/project-run-sources.js";
import type { DiscoverySource } from "./foundry/discovery-source.js";
import type { RunSource } from "./foundry/run-source.js";
import { sanitize } from "./sanitize/index.js";
import { createTableRunStore } from "./store/table-store.js";
import type { RunStore } from "./store/types.js";
import { TableTicketLedger, type TicketLedger } from "./tickets/ledger.js";
import type { TicketDeps } from "./tickets/open-ticket.js";
import { createSink, parseSinkConfigs, sinkAccepts } from "./tickets/sinks/config.js";
import type { TicketSink } from "./tickets/sinks/types.js";
import { systemClock, type Clock } from "./tracking/clock.js";
import type { MonitorEvents, TrackerDeps } from "./tracking/deps.js";
import { RateLimiter } from "./tracking/rate-limiter.js";
import { telemetryFromSettings } from "./telemetry/from-settings.js";
import { telemetryEvents } from "./telemetry/monitor-events.js";
import { telemetryMetrics } from "./telemetry/metrics.js";
import type { Telemetry } from "./telemetry/telemetry.js";
import { instrumentSink } from "./telemetry/ticket-sinks.js";
import { withTraceparent } from "./telemetry/trace-context.js";
import { buildInsights, type InsightsServices } from "./insights/from-settings.js";
import { registerRun } from "./tracking/register.js";

/** Everything a function needs, built once per process from validated settings. */
export interface Services {
  settings: Settings;
  store: RunStore;
  source: RunSource;
  /** A project's classic thread listings, for discovery (projects with `discovery: true`). */
  discovery: (project: string) => DiscoverySource;
  publisher: EscalationPublisher;
  policies: PolicySet;
  tracker: TrackerDeps;
  ticketLedger: TicketLedger;
  tickets: TicketDeps;
  /** Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set, else a no-op. */
  telemetry: Telemetry;
  insights: InsightsServices;
  close(): Promise<void>;
}

/** What the local stack (or a test) swaps in: a CA for the simulator's certificate, a fixed-token credential, its own clock or events. */
export interface ServiceOverrides {
  foundryCa?: string;
  foundryCredential?: TokenCredential;
  storageCredential?: TokenCredential;
  clock?: Clock;
  events?: MonitorEvents;
  sinks?: TicketSink[];
  log?: (line: string) => void;
  onTicket?: TicketDeps["onTicket"];
  /** Where events and metrics go instead of the configured Application Insights (tests: a capture). */
  telemetry?: Telemetry;
}

/** Tables live under one prefix per deployment: `${prefix}runs`, `${prefix}active`, … and `${prefix}tickets`. */
export const TABLE_PREFIX = "monitor";

function tableClient(settings: Settings, name: string, credential: () => TokenCredential): TableClient {
  if (settings.AzureWebJobsStorage) return TableClient.fromConnectionString(settings.AzureWebJobsStorage, name, { allowInsecureConnection: /UseDevelopmentStorage=true|=http:\/\//i.test(settings.AzureWebJobsStorage) });
  return new TableClient(settings.AzureWebJobsStorage__tableServiceUri!, name, credential());
}

export async function buildServices(settings: Settings, overrides: ServiceOverrides = {}, env: Record<string, string | undefined> = process.env): Promise<Services> {
  let identity: TokenCredential | undefined;
  const credential = (): TokenCredential => (identity ??= overrides.storageCredential ?? defaultFoundryCredential(env));
  const store = settings.AzureWebJobsStorage
    ? createTableRunStore({ connectionString: settings.AzureWebJobsStorage, tablePrefix: TABLE_PREFIX })
    : createTableRunStore({ tableServiceUri: settings.AzureWebJobsStorage__tableServiceUri!, credential: credential(), tablePrefix: TABLE_PREFIX });
  const ticketLedger = new TableTicketLedger(tableClient(settings, `${TABLE_PREFIX}tickets`, credential));
  const source = ProjectRunSources.fromSettings(settings, { credential: overrides.foundryCredential, ca: overrides.foundryCa });
  const publisher = new ServiceBusEscalationPublisher(await serviceBusConnectionFromSettings(settings), { topic: settings.ESCALATION_TOPIC });
  const policies = parsePolicySetText(settings.MONITOR_POLICIES);
  const clock = overrides.clock ?? systemClock;
  const log = overrides.log ?? ((line: string) => console.log(line));
  const telemetry = overrides.telemetry ?? (await telemetryFromSettings({ ...settings, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING }));
  const tracker: TrackerDeps = {
    store,
    source,
    publisher,
    policies,
    clock,
    limiter: new RateLimiter(settings.FOUNDRY_RATE_LIMIT_PER_SECOND, clock, { pace: clock === systemClock }),
    events: overrides.events ?? telemetryEvents(telemetry, log),
    metrics: telemetryMetrics(telemetry),
    settings: {
      pollIntervalSeconds: settings.POLL_INTERVAL_SECONDS,
      shardCount: settings.SHARD_COUNT,
      concurrency: settings.POLL_CONCURRENCY,
      maxActiveRunsPerProject: settings.MAX_ACTIVE_RUNS_PER_PROJECT,
      projects: settings.FOUNDRY_PROJECTS.map((p) => p.name),
      pollAttempts: 3,
    },
    sanitize,
  };
  // Insights (tool calls, trends, usage) hang off every commit; opt-in remediation off every
  // escalation the publisher sends. The Foundry write client exists only when some policy opts in.
  const remediationWanted = [policies.defaults.insights, ...policies.overrides.map((o) => o.insights)].some((i) => i?.remediation?.cancelStuck || i?.remediation?.retryFailed);
  const insights = await buildInsights(settings, {
    source,
    metrics: tracker.metrics,
    now: () => clock.now(),
    tablePrefix: TABLE_PREFIX,
    remediation: remediationWanted,
    register: (r) => registerRun(tracker, r),
    foundryCa: overrides.foundryCa,
    foundryCredential: overrides.foundryCredential,
    storageCredential: overrides.storageCredential,
    log,
  });
  tracker.onCommitted = insights.hook;
  tracker.remediate = insights.remediate;
  const sinkConfigs = parseSinkConfigs(settings.TICKET_SINKS);
  const sinks = (overrides.sinks ?? sinkConfigs.map((c) => createSink(c, (name) => env[name]))).map((s) => instrumentSink(s, telemetry));
  const base = settings.DASHBOARD_BASE_URL?.replace(/\/+$/, "");
  const tickets: TicketDeps = {
    store,
    ledger: ticketLedger,
    source,
    sinksFor: (owner) => (overrides.sinks ? sinks : sinks.filter((_, i) => sinkAccepts(sinkConfigs[i], owner))),
    evidencePolicy: {},
    grouping: settings.TICKET_GROUPING && settings.TICKET_GROUPING.threshold > 0 ? settings.TICKET_GROUPING : undefined,
    links: (head) =>
      base
        ? {
            dashboard: `${base}/api/dashboard/runs/${encodeURIComponent(head.ref.project)}/${encodeURIComponent(head.ref.runId)}`,
            api: `${base}/api/runs/${encodeURIComponent(head.ref.project)}/${encodeURIComponent(head.ref.runId)}`,
          }
        : {},
    now: () => clock.now(),
    onTicket: overrides.onTicket,
    continueTrace: withTraceparent,
  };
  await Promise.all([store.init(), ticketLedger.init()]);
  const discovery = (project: string) => source.discoveryFor(project);
  return { settings, store, source, discovery, publisher, policies, tracker, ticketLedger, tickets, telemetry, insights, close: async () => {
    await publisher.close();
    await telemetry.flush();
  } };
}

let cached: Promise<Services> | undefined;

/** The process-wide services, validated and built on first use (a bad setting fails every invocation with one clear message). */
export function services(): Promise<Services> {
  cached ??= buildServices(loadSettings(process.env)).catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

/** For the local host and tests: use these services instead of building from process.env. */
export function useServices(s: Services | undefined): void {
  cached = s ? Promise.resolve(s) : undefined;
}
