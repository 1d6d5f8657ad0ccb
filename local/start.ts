// `npm start`: the whole monitor on this machine, no Docker and no cloud account. Azurite, the local
// Service Bus broker and the Foundry simulator (real clock, demo scenario) stand in for Azure; the
// exported Functions handlers run unchanged, driven by LocalFunctionsHost the way the Functions host
// drives them in Azure; the dashboard and API answer on http://127.0.0.1:7070.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Timer, InvocationContext } from "@azure/functions";
import { loadSettings } from "../shared/config/config.js";
import { ensureError, InputError } from "../shared/errors.js";
import { subscribeHandler, type HandlerSubscription } from "../shared/bus/receive.js";
import { localSimulatorCredential } from "../shared/foundry/credential.js";
import { remediationReader } from "../shared/remediation/reader.js";
import { buildServices, useServices, type Services } from "../shared/services.js";
import { createSink } from "../shared/tickets/sinks/config.js";
import type { TicketEvent } from "../shared/tickets/open-ticket.js";
import { sanitize } from "../shared/sanitize/index.js";
import type { MonitorEvents } from "../shared/tracking/deps.js";
import { discovers } from "../shared/tracking/discover.js";
import { loggingEvents } from "../shared/tracking/logging-events.js";
import { startAzurite, type AzuriteInstance } from "./azurite.js";
import { startDashboardServer, type DashboardServer, type FunctionsHttpHandler } from "./dashboard/server.js";
import { startFoundrySimulator, type FoundrySimulator } from "./foundry-sim/index.js";
import { encodeQueueMessage, everyMsOfSchedule, LocalFunctionsHost } from "./functions-host.js";
import { loadScenario, type Scenario } from "./scenario/schema.js";
import { startServiceBusBroker, type ServiceBusBroker } from "./service-bus/broker.js";

export const ESCALATION_TOPIC = "run-escalations";
export const REGISTRATION_QUEUE = "run-registrations";
export const POLL_QUEUE = "poll-shards";
export const DEFAULT_DASHBOARD_PORT = 7070;
/** Service Bus duplicate detection window of the local topic (Azure's default is 10 minutes). */
const DUPLICATE_WINDOW_MS = 10 * 60_000;
const PUBLISH_OUTBOX_EVERY_MS = 15_000;
const PURGE_HISTORY_EVERY_MS = 24 * 3600_000;
/** When DISCOVERY_SCHEDULE is a form everyMsOfSchedule does not read: its default, every 5 minutes. */
const DISCOVERY_FALLBACK_EVERY_MS = 5 * 60_000;

export interface LocalStackOptions {
  scenario: Scenario;
  /** Dashboard/API port: 7070 by default, 0 for any free port. */
  port: number;
  /** Where tickets.jsonl, the settings and the simulator's CA are written (default `.run-monitor`). */
  dataDir: string;
  /** One line per transition, escalation, ticket and URL. */
  print: (line: string) => void;
  /** Handler chatter (every sweep and poll) as well, not only warnings and errors. */
  verbose?: boolean;
  /** Turn discovery on for every simulated project (the discover-runs timer then runs too). */
  discovery?: boolean;
}

export interface LocalStackUrls {
  dashboard: string;
  api: string;
  foundryEndpoints: string[];
  foundryCa: string;
  azuriteTables: string;
  azuriteQueues: string;
  serviceBus: string;
  ticketsFile: string;
  settingsFile: string;
}

export interface LocalStack {
  urls: LocalStackUrls;
  /** The app settings the services were built from (local values only: the Azurite key is Azurite's public development key). */
  settings: Record<string, string>;
  services: Services;
  stop(): Promise<void>;
  /** The part being stopped right now, for a message when stopping hangs. */
  stoppingNow(): string | undefined;
}

/** The port is taken: said in one line, before anything else starts. */
export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is already in use (another npm start?): stop that process or run npm start -- --port N`);
    this.name = "PortInUseError";
  }
}

/**
 * The simulator on the real clock reports Foundry timestamps as scenario.start + second; the demo
 * must look like it is happening now, so the scenario's origin moves to this moment.
 */
export function rebaseScenarioToNow(scenario: Scenario, nowMs: number): Scenario {
  return { ...scenario, start: new Date(Math.floor(nowMs / 1000) * 1000).toISOString(), startEpochSeconds: Math.floor(nowMs / 1000) };
}

/** MONITOR_POLICIES for a scenario: its thresholds as the defaults, its policies as overrides (whole seconds, as the setting demands). */
export function policiesSettingOf(scenario: Scenario): string {
  const whole = (t: Record<string, number | undefined> | undefined) =>
    t ? Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Math.max(1, Math.ceil(v as number))])) : undefined;
  return JSON.stringify({
    defaults: { thresholds: whole(scenario.monitor.thresholds), escalateCancelled: scenario.monitor.escalateCancelled },
    overrides: scenario.policies.map((p) => ({ ...p, ...(p.thresholds ? { thresholds: whole(p.thresholds) } : {}) })),
  });
}

/** The app settings of the local stack: the same names as in Azure, local values. */
export function localSettingsFor(parts: { scenario: Scenario; storage: string; serviceBus: string; simulatorOrigin: string; ticketsFile: string; dashboardUrl: string; discovery?: boolean }): Record<string, string> {
  const projects = [...new Set(parts.scenario.runs.map((r) => r.project))];
  const interval = Math.min(3600, Math.max(5, Math.round(parts.scenario.monitor.pollIntervalSeconds)));
  return {
    AzureWebJobsStorage: parts.storage,
    ServiceBusConnection: parts.serviceBus,
    FOUNDRY_PROJECTS: JSON.stringify(projects.map((name) => ({ name, endpoint: `${parts.simulatorOrigin}/api/projects/${encodeURIComponent(name)}`, api: "both", discovery: parts.discovery ?? false }))),
    POLL_INTERVAL_SECONDS: String(interval),
    SWEEP_SCHEDULE: interval < 60 ? `*/${interval} * * * * *` : `0 */${Math.max(1, Math.round(interval / 60))} * * * *`,
    // Every minute rather than Azure's 5: a demo with --discovery shows its effect soon.
    DISCOVERY_SCHEDULE: "0 * * * * *",
    SHARD_COUNT: "4",
    POLL_CONCURRENCY: "8",
    FOUNDRY_RATE_LIMIT_PER_SECOND: String(Math.max(1, Math.floor(parts.scenario.foundry.rateLimitPerSecond ?? 200))),
    FOUNDRY_TIMEOUT_MS: "5000",
    MONITOR_POLICIES: policiesSettingOf(parts.scenario),
    ESCALATION_TOPIC,
    TICKETS_SUBSCRIPTION: "tickets",
    TICKET_SINKS: JSON.stringify([{ name: "local-file", kind: "file", path: parts.ticketsFile }]),
    DASHBOARD_BASE_URL: parts.dashboardUrl,
  };
}

/** The exported Functions handlers. Loaded late, with @azure/functions' "test mode" warnings muted: outside the host `app.*` registers nothing, which is expected here. */
async function loadHandlers() {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = args.map(String).join(" ");
    if (/Skipping call to register|Failed to detect the Azure Functions runtime/.test(text)) return;
    warn(...args);
  };
  try {
    const [sweep, pollShard, publish, register, openTicket, purge, discover, api, dashboard, insights] = await Promise.all([
      import("../functions/sweep.js"),
      import("../functions/poll-shard.js"),
      import("../functions/publish-outbox.js"),
      import("../functions/register-run.js"),
      import("../functions/open-ticket.js"),
      import("../functions/purge-history.js"),
      import("../functions/discover-runs.js"),
      import("../functions/api.js"),
      import("../functions/dashboard.js"),
      import("../functions/insights.js"),
    ]);
    return { sweep, pollShard, publish, register, openTicket, purge, discover, api, dashboard, insights };
  } finally {
    console.warn = warn;
  }
}

/** In Azure, POST /api/runs is the register-run function and GET the search API (one route, two functions): the same here. */
function withRegistration(api: FunctionsHttpHandler, register: FunctionsHttpHandler): FunctionsHttpHandler {
  return (request, context) => (request.method === "POST" && new URL(request.url).pathname.replace(/\/+$/, "") === "/api/runs" ? register(request, context) : api(request, context));
}

/** Starts everything; on any failure what already started is stopped again. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { print } = options;
  const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
  const stopping: { current?: string } = {};
  const stopAll = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        stopping.current = c.name;
        if (options.verbose) print(`stopping ${c.name}…`);
        await c.run();
      } catch (e) {
        print(`stop ${c.name}: ${sanitize(ensureError(e).message)}`);
      }
    }
  };
  try {
    const handlers = await loadHandlers();

    // The dashboard first: a taken port is the likeliest failure and should cost nothing else. The
    // API's dependencies arrive once the services exist; until then it answers 500 "still starting".
    const ready: { services?: Services } = {};
    const api = handlers.api.createApiHttpHandler(async () => {
      const s = ready.services;
      if (!s) throw new Error("the local stack is still starting");
      return { store: s.store, tickets: s.ticketLedger, remediation: remediationReader(s.insights.store), authMode: "local-open", now: () => Date.now() };
    });
    const insights = handlers.insights.createInsightsHttpHandler(async () => {
      const s = ready.services;
      if (!s) throw new Error("the local stack is still starting");
      return { store: s.insights.store, policies: s.policies, authMode: "local-open", now: () => Date.now() };
    });
    let dashboard: DashboardServer;
    try {
      dashboard = await startDashboardServer({
        port: options.port,
        handlers: {
          api: withRegistration(api as FunctionsHttpHandler, handlers.register.registerRunHttp),
          dashboard: handlers.dashboard.createDashboardHandler() as FunctionsHttpHandler,
          insights: insights as FunctionsHttpHandler,
        },
        log: (level, message) => {
          if (options.verbose || level === "error" || level === "warning") print(`[http] ${level}: ${sanitize(message)}`);
        },
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") throw new PortInUseError(options.port);
      throw e;
    }
    cleanups.push({ name: "dashboard", run: () => dashboard.close() });

    fs.mkdirSync(options.dataDir, { recursive: true });
    const ticketsFile = path.join(options.dataDir, "tickets.jsonl");
    // Storage is in memory and starts empty each time: last session's tickets go aside, or the file
    // sink would find their keys and treat this session's runs as already ticketed.
    if (fs.existsSync(ticketsFile)) fs.renameSync(ticketsFile, path.join(options.dataDir, "tickets.previous.jsonl"));

    const scenario = rebaseScenarioToNow(options.scenario, Date.now());
    const [azurite, broker, sim] = await Promise.all([
      startAzurite().then((a: AzuriteInstance) => (cleanups.push({ name: "Azurite", run: () => a.stop() }), a)),
      startServiceBusBroker({
        entities: {
          topics: [
            {
              name: ESCALATION_TOPIC,
              duplicateDetectionWindowMs: DUPLICATE_WINDOW_MS,
              subscriptions: [
                { name: "tickets", maxDeliveryCount: 10, lockDurationMs: 60_000 },
                { name: "sre-alerts", filter: "severity IN ('high','critical')", maxDeliveryCount: 10, lockDurationMs: 60_000 },
              ],
            },
          ],
        },
      }).then((b: ServiceBusBroker) => (cleanups.push({ name: "Service Bus broker", run: () => b.dispose() }), b)),
      startFoundrySimulator({ scenario, clock: "real", port: 0 }).then((s: FoundrySimulator) => (cleanups.push({ name: "Foundry simulator", run: () => s.close() }), s)),
    ]);
    const caFile = path.join(options.dataDir, "foundry-sim-ca.pem");
    fs.writeFileSync(caFile, sim.caPem);

    const origin = new URL(sim.endpoint).origin;
    const settingsEnv = localSettingsFor({ scenario, storage: azurite.connectionString, serviceBus: broker.connectionString, simulatorOrigin: origin, ticketsFile, dashboardUrl: dashboard.url, discovery: options.discovery });
    const settingsFile = path.join(options.dataDir, "local.settings.json");
    fs.writeFileSync(settingsFile, JSON.stringify({ IsEncrypted: false, Values: { FUNCTIONS_WORKER_RUNTIME: "node", ...settingsEnv } }, null, 2) + "\n");

    const iso = (t: number) => new Date(t).toISOString().slice(11, 19);
    const onTicket = (e: TicketEvent) => print(`${iso(e.at)} ticket     ${e.action} ${e.ticketId} for ${e.runId} (${e.reason}) → ${path.basename(ticketsFile)}`);
    const settings = loadSettings(settingsEnv);
    const built = await buildServices(
      settings,
      {
        foundryCa: sim.caPem,
        foundryCredential: localSimulatorCredential,
        sinks: [createSink({ kind: "file", name: "local-file", path: ticketsFile, timeoutMs: 10_000 }, () => undefined)],
        log: (line) => print(formatEventLine(line)),
        events: printedEvents((line) => print(formatEventLine(line))),
        onTicket,
      },
      settingsEnv,
    );
    built.tickets.grouping = scenario.tickets;
    ready.services = built;
    useServices(built);
    cleanups.push({ name: "services", run: async () => (useServices(undefined), await built.close()) });

    const host = new LocalFunctionsHost({
      connectionString: azurite.connectionString,
      log: (line) => {
        if (options.verbose || !/\] (information|debug|trace): /.test(line)) print(sanitize(line));
      },
    });
    await host.ensureQueues([REGISTRATION_QUEUE, POLL_QUEUE]);
    cleanups.push({ name: "functions host", run: () => host.stop() });
    const interval = settings.POLL_INTERVAL_SECONDS * 1000;
    host.timer("sweep", interval, handlers.sweep.sweepHandler, [{ binding: handlers.sweep.pollShardsQueue, queueName: POLL_QUEUE }], true);
    host.queueTrigger("poll-shard", POLL_QUEUE, handlers.pollShard.pollShardHandler);
    host.timer("publish-outbox", PUBLISH_OUTBOX_EVERY_MS, handlers.publish.publishOutboxHandler);
    host.queueTrigger("register-run-queue", REGISTRATION_QUEUE, handlers.register.registerRunQueue);
    host.timer("purge-history", PURGE_HISTORY_EVERY_MS, handlers.purge.purgeHistoryHandler as (t: Timer, c: InvocationContext) => Promise<void>);
    if (settings.FOUNDRY_PROJECTS.some(discovers)) {
      const every = everyMsOfSchedule(settings.DISCOVERY_SCHEDULE) ?? DISCOVERY_FALLBACK_EVERY_MS;
      host.timer("discover-runs", every, async (t, c) => void (await handlers.discover.discoverRunsHandler(t, c)));
    }

    const subscriptions: HandlerSubscription[] = [
      subscribeHandler({
        connectionString: broker.connectionString,
        topic: ESCALATION_TOPIC,
        subscription: "tickets",
        handler: (m) => handlers.openTicket.openTicketHandler(m.body, host.context("open-ticket", { messageId: m.messageId, deliveryCount: m.deliveryCount })),
        onError: (e) => print(`[open-ticket] bus: ${sanitize(e.message)}`),
      }),
      // Stands in for the on-call integration: shows what the severity filter lets through.
      subscribeHandler({
        connectionString: broker.connectionString,
        topic: ESCALATION_TOPIC,
        subscription: "sre-alerts",
        handler: async (m) => {
          const p = m.applicationProperties ?? {};
          print(`${iso(Date.now())} sre-alert  ${String(p.runId ?? m.messageId)} ${String(p.reason ?? "")} (${String(p.severity ?? "")}) → subscription sre-alerts`);
        },
        onError: (e) => print(`[sre-alerts] bus: ${sanitize(e.message)}`),
      }),
    ];
    cleanups.push({ name: "Service Bus subscriptions", run: () => Promise.all(subscriptions.map((s) => s.stop())) });

    // The app side: each run is registered at its registerAt the way an agent app would, by
    // putting a registration on the storage queue the register-run function listens on.
    const registrations = host.queue(REGISTRATION_QUEUE);
    const startedAt = Date.now() - sim.now() * 1000;
    const timers = scenario.runs.map((run) =>
      setTimeout(
        () => {
          const message = { project: run.project, api: run.api, runId: run.runId, threadId: run.threadId || undefined, agentId: run.agentId, session: run.session, tags: run.tags };
          registrations.sendMessage(encodeQueueMessage(message)).catch((e: unknown) => print(`register ${run.runId}: queue send failed: ${sanitize(ensureError(e).message)}`));
        },
        Math.max(0, startedAt + run.registerAt * 1000 - Date.now()),
      ),
    );
    cleanups.push({ name: "registrations", run: async () => timers.forEach(clearTimeout) });

    const urls: LocalStackUrls = {
      dashboard: `${dashboard.url}/dashboard/`,
      api: `${dashboard.url}/api/runs`,
      foundryEndpoints: settings.FOUNDRY_PROJECTS.map((p) => p.endpoint),
      foundryCa: caFile,
      azuriteTables: azurite.tableUrl,
      azuriteQueues: azurite.queueUrl,
      serviceBus: `sb://127.0.0.1:${broker.port}`,
      ticketsFile,
      settingsFile,
    };
    return { urls, settings: settingsEnv, services: built, stop: stopAll, stoppingNow: () => stopping.current };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * The monitor's events as log lines, each escalation once: poll-shard invocations running side by
 * side may each publish the same pending outbox row, which Service Bus duplicate detection drops —
 * the log should show what reached the topic, not every attempt.
 */
export function printedEvents(print: (line: string) => void): MonitorEvents {
  const base = loggingEvents(print);
  const seen = new Set<string>();
  return {
    ...base,
    published: (item, at) => {
      if (seen.has(item.messageId)) return;
      if (seen.size > 50_000) seen.clear();
      seen.add(item.messageId);
      base.published(item, at);
    },
  };
}

/** loggingEvents writes `ISO kind …`: shortened to the time of day and aligned, one line per event. */
export function formatEventLine(line: string): string {
  const m = /^(\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)\.\d+Z) (\S+) (.*)$/.exec(line);
  if (!m) return sanitize(line);
  return `${m[2]} ${m[3].padEnd(10)} ${sanitize(m[4])}`;
}

export function describeStack(scenario: Scenario, urls: LocalStackUrls, cwd: string): string[] {
  const rel = (p: string) => path.relative(cwd, p) || p;
  const minutes = Math.round(Math.max(...scenario.runs.map((r) => r.registerAt), 0) / 60);
  return [
    `foundry-run-monitor local stack: scenario "${scenario.name}", ${scenario.runs.length} runs arriving over ${minutes} min`,
    `  Dashboard       ${urls.dashboard}`,
    `  API             ${urls.api}   (local-open: no key or principal needed)`,
    ...urls.foundryEndpoints.map((e, i) => `  ${i === 0 ? "Foundry sim    " : "               "} ${e}`),
    `  Simulator CA    ${rel(urls.foundryCa)}`,
    `  Azurite         tables ${urls.azuriteTables}  queues ${urls.azuriteQueues}`,
    `  Service Bus     ${urls.serviceBus}  topic ${ESCALATION_TOPIC} → tickets, sre-alerts (severity high/critical)`,
    `  Tickets         ${rel(urls.ticketsFile)}`,
    `  Settings        ${rel(urls.settingsFile)}   (check them: npx run-monitor doctor --settings ${rel(urls.settingsFile)} --ca ${rel(urls.foundryCa)})`,
    `Transitions, escalations and tickets follow as they happen. Ctrl-C stops everything.`,
  ];
}

interface StartArgs {
  scenarioPath: string;
  port: number;
  dataDir: string;
  verbose: boolean;
  discovery: boolean;
}

const DEMO_SCENARIO = fileURLToPath(new URL("./demo/demo.json", import.meta.url));

/** The demo scenario is a source file: found beside this file, or in local/demo of the project root when running from dist/. */
export function demoScenarioPath(): string {
  if (fs.existsSync(DEMO_SCENARIO)) return DEMO_SCENARIO;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "local", "demo", "demo.json");
    if (fs.existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new InputError("local/demo/demo.json not found: run npm start from the project folder or pass --scenario FILE");
    dir = up;
  }
}

export function parseStartArgs(argv: string[]): StartArgs {
  const args: StartArgs = { scenarioPath: "", port: DEFAULT_DASHBOARD_PORT, dataDir: ".run-monitor", verbose: false, discovery: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new InputError(`${a}: expected a value`);
      return v;
    };
    if (a === "--scenario") args.scenarioPath = value();
    else if (a === "--port") {
      const v = value();
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 65535) throw new InputError(`--port: expected a port number between 0 and 65535, got ${JSON.stringify(v)}`);
      args.port = n;
    } else if (a === "--data-dir") args.dataDir = value();
    else if (a === "--verbose") args.verbose = true;
    else if (a === "--discovery") args.discovery = true;
    else if (a === "--help" || a === "-h") throw new InputError("usage: npm start -- [--scenario FILE] [--port N (default 7070, 0 = any free port)] [--data-dir DIR (default .run-monitor)] [--verbose] [--discovery]");
    else throw new InputError(`unknown option ${JSON.stringify(a)} (expected --scenario, --port, --data-dir, --verbose or --discovery)`);
  }
  return args;
}

async function main(): Promise<void> {
  let args: StartArgs;
  let scenario: Scenario;
  try {
    args = parseStartArgs(process.argv.slice(2));
    scenario = loadScenario(args.scenarioPath || demoScenarioPath());
  } catch (e) {
    process.stderr.write(`npm start: ${ensureError(e).message}\n`);
    process.exit(2);
  }
  const print = (line: string) => process.stdout.write(line + "\n");
  let stack: LocalStack;
  try {
    print(`starting Azurite, the Service Bus broker, the Foundry simulator and the function handlers…`);
    stack = await startLocalStack({ scenario, port: args.port, dataDir: path.resolve(args.dataDir), print, verbose: args.verbose, discovery: args.discovery });
  } catch (e) {
    process.stderr.write(`npm start: ${sanitize(ensureError(e).message)}\n`);
    process.exit(e instanceof PortInUseError ? 2 : 1);
  }
  for (const line of describeStack(scenario, stack.urls, process.cwd())) print(line);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    print(`${signal}: stopping…`);
    // A second Ctrl-C should not be needed, but a hung close must not keep the terminal either.
    const force = setTimeout(() => {
      process.stderr.write(`npm start: still stopping ${stack.stoppingNow() ?? "?"} after 30 s; exiting anyway\n`);
      process.exit(1);
    }, 30_000);
    force.unref();
    stack.stop().then(
      () => {
        print("stopped: nothing is left running.");
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
