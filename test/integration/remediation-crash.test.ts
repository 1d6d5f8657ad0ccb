// kill -9 and opt-in remediation: the monitor runs as a child process (remediation-child.ts) on the
// real local parts and is killed at every point of the remediation path — after the commit that
// decided it, after the ledger claim, after Foundry answered the cancel or the create-run, after the
// ledger update, after the escalation was sent — each time restarted to redo the command it died
// in, as the Functions host redelivers a poll and the publish-outbox timer comes back. The
// simulator counts the requests it served: the stuck run is cancelled with one request and the
// failed run retried with one new run; the escalations reach the `tickets` subscription once each,
// carrying the outcome into the ticket; the runs' timelines show what the monitor did.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import functions from "@azure/functions";
import { ServiceBusClient } from "@azure/service-bus";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { timelineText } from "../../cli/commands/timeline.js";
import { createApiHttpHandler } from "../../functions/api.js";
import { MemoryTicketSink } from "../../local/memory-sink.js";
import { startFoundrySimulator, type FoundrySimulator } from "../../local/foundry-sim/index.js";
import { startServiceBusBroker, type ServiceBusBroker } from "../../local/service-bus/broker.js";
import type { TimelineBody } from "../../shared/api/views.js";
import { parseEscalationEvent } from "../../shared/bus/cloud-event.js";
import { loadSettings } from "../../shared/config/config.js";
import { localSimulatorCredential } from "../../shared/foundry/credential.js";
import { remediationReader } from "../../shared/remediation/reader.js";
import { buildServices, type Services } from "../../shared/services.js";
import { handleTicketMessage } from "../../shared/tickets/open-ticket.js";
import { startAzurite, type AzuriteInstance } from "../support/azurite.js";
import { contextFor, ESCALATION_TOPIC, SCENARIO_START, scenarioOf } from "./tracking-stack.js";

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "remediation-child.js");
const scenario = scenarioOf([
  { api: "classic", project: "alpha", runId: "run_stuck", threadId: "thread_stuck", agentId: "asst_a", timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, { at: 10, status: "requires_action", toolCalls: [{ id: "call_x", name: "crm_search" }] }] },
  {
    api: "classic", project: "alpha", runId: "run_flaky", threadId: "thread_flaky", agentId: "asst_a",
    timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, { at: 10, step: { type: "tool_calls", tool: "crm_search", status: "completed" } }, { at: 40, status: "failed", lastError: { code: "server_error", message: "x" } }],
  },
]);
const POLICIES = { defaults: { thresholds: { requiresActionSeconds: 60 }, insights: { readOnlyTools: ["crm_search"], remediation: { cancelStuck: true, retryFailed: true, maxRetries: 1 } } } };

// What the Functions host would do: a poll every so often, the publish-outbox timer in between.
// run_flaky fails at 40 (escalated, retry planned, at the poll of 45); run_stuck waits for tool
// output from 10, first seen so at 30, stalled 60 s later (escalated, cancel planned, at 95).
// A remediation row left "started" by a killed executor is taken over once 60 s old.
const SCRIPT: [string, number][] = [
  ["register", 1], ["poll", 8], ["poll", 30], ["poll", 45], ["publish", 45], ["poll", 60], ["publish", 60],
  ["poll", 95], ["publish", 95], ["publish", 110], ["publish", 125], ["publish", 140], ["publish", 160],
  ["poll", 170], ["publish", 170], ["poll", 180], ["publish", 180],
];
// In the order the script reaches them; each child process dies at one, the last runs to the end.
const KILLS = ["commit", "claim", "foundry:cancel", "foundry:retry", "finish", "publish"];

let azurite: AzuriteInstance;
let sim: FoundrySimulator;
let broker: ServiceBusBroker;
let services: Services;
let tmp: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "remediation-crash-"));
  [azurite, sim, broker] = await Promise.all([
    startAzurite(),
    startFoundrySimulator({ scenario, clock: "manual", port: 0 }),
    startServiceBusBroker({ entities: { topics: [{ name: ESCALATION_TOPIC, duplicateDetectionWindowMs: 600_000, subscriptions: [{ name: "tickets", maxDeliveryCount: 10, lockDurationMs: 30_000 }] }] } }),
  ]);
  fs.writeFileSync(path.join(tmp, "ca.pem"), sim.caPem);
}, 30_000);

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await services?.close().catch(() => undefined);
  await broker?.dispose();
  await sim?.close();
  await azurite?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const projects = () => JSON.stringify([{ name: "alpha", endpoint: `${new URL(sim.endpoint).origin}/api/projects/alpha`, api: "both", discovery: false }]);

interface Child {
  /** Runs one script line: "ok", or the kill point it died at. */
  run(command: string): Promise<{ ok: true } | { ok: false; killedAt: string | undefined; signal: NodeJS.Signals | null; stderr: string }>;
  ready: Promise<void>;
  stop(): void;
}

/** A monitor process, started ahead of its turn (loading the Azure SDKs takes a while on a busy machine). */
function spawnChild(crashAt: string | undefined): Child {
  const proc = spawn(process.execPath, [CHILD], {
    env: {
      PATH: process.env.PATH ?? "",
      CHILD_TABLES: azurite.connectionString,
      CHILD_BUS: broker.connectionString,
      CHILD_PROJECTS: projects(),
      CHILD_POLICIES: JSON.stringify(POLICIES),
      CHILD_CA: path.join(tmp, "ca.pem"),
      CHILD_SCENARIO_START: SCENARIO_START,
      CHILD_RUNS: JSON.stringify(scenario.runs.map((r) => ({ project: r.project, api: "classic", runId: r.runId, threadId: r.threadId, agentId: r.agentId }))),
      ...(crashAt ? { CRASH_AT: crashAt } : {}),
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.add(proc);
  let stderr = "";
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  proc.stdin!.on("error", () => undefined);
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  readline.createInterface({ input: proc.stdout! }).on("line", (l) => {
    lines.push(l);
    waiters.splice(0).forEach((w) => w());
  });
  const exited = new Promise<void>((resolve) => proc.on("close", () => (children.delete(proc), waiters.splice(0).forEach((w) => w()), resolve())));
  const next = async (): Promise<string | undefined> => {
    while (!lines.length && proc.exitCode === null && proc.signalCode === null) await new Promise<void>((r) => waiters.push(r));
    return lines.shift();
  };
  const ready = next().then((l) => {
    if (l !== "ready") throw new Error(`monitor process did not start (${l ?? "exited"}):\n${stderr.slice(-3000)}`);
  });
  return {
    ready,
    stop: () => proc.stdin!.end(),
    async run(command) {
      proc.stdin!.write(`${command}\n`);
      const l = await next();
      if (l === `ok ${command}`) return { ok: true };
      await exited;
      return { ok: false, killedAt: /^kill (\S+)$/.exec(l ?? "")?.[1], signal: proc.signalCode, stderr };
    },
  };
}

const served = () => {
  const r = sim.simulation("alpha").stats().requests;
  return { cancel: r["run.cancel"] ?? 0, create: r["run.create"] ?? 0 };
};

test("cancel and retry act exactly once per run although the monitor is killed -9 at every step of remediation", async () => {
  const kills: { at: string; command: string }[] = [];
  let line = 0;
  let current = spawnChild(KILLS[0]);
  for (let i = 0; i <= KILLS.length; i++) {
    const upcoming = i < KILLS.length ? spawnChild(KILLS[i + 1]) : undefined;
    await current.ready;
    for (; line < SCRIPT.length; line++) {
      const [name, at] = SCRIPT[line];
      sim.setClock(at);
      const r = await current.run(`${name} ${at}`);
      if (r.ok) continue;
      if (r.signal !== "SIGKILL") throw new Error(`monitor process failed at "${name} ${at}":\n${r.stderr.slice(-3000)}`);
      kills.push({ at: r.killedAt ?? "?", command: `${name} ${at}` });
      break; // the next process redoes this line
    }
    if (line === SCRIPT.length) current.stop();
    if (!upcoming) break;
    current = upcoming;
  }
  expect(line).toBe(SCRIPT.length);
  // Every point fired, in order, each in the step the timeline predicts.
  expect(kills).toEqual([
    { at: "commit", command: "poll 45" },
    { at: "claim", command: "publish 45" },
    { at: "foundry:cancel", command: "poll 95" },
    { at: "foundry:retry", command: "publish 110" },
    { at: "finish", command: "publish 110" },
    { at: "publish", command: "publish 110" },
  ]);
  expect(served()).toEqual({ cancel: 1, create: 1 });

  // Read back from a fresh process's view of the same tables and topic.
  services = await buildServices(
    loadSettings({ AzureWebJobsStorage: azurite.connectionString, ServiceBusConnection: broker.connectionString, FOUNDRY_PROJECTS: projects(), MONITOR_POLICIES: JSON.stringify(POLICIES), SHARD_COUNT: "2" }),
    { foundryCa: sim.caPem, foundryCredential: localSimulatorCredential, log: () => {} },
    {},
  );
  const head = async (runId: string) => (await services.store.getHead("alpha", runId))!.head;
  expect((await head("run_stuck")).status).toBe("cancelled");
  const [cancel] = await services.insights.store.listRemediation("alpha", "run_stuck");
  const [retry, ...moreRetries] = await services.insights.store.listRemediation("alpha", "run_flaky");
  expect(cancel).toMatchObject({ action: "cancel", state: "done", detail: "found cancelled when resumed" });
  expect(retry).toMatchObject({ action: "retry", attempt: 1, state: "done" });
  expect(moreRetries).toEqual([]);
  // the retry run was registered although the process that created it died first, and it completed
  const retried = await head(retry.newRunId!);
  expect(retried).toMatchObject({ status: "completed", tags: { "remediation.retryOf": "run_flaky", "remediation.attempt": "1" } });
  expect(await services.store.listPendingOutbox()).toEqual([]);

  // Each escalation on the subscription once, with the outcome; its ticket says what the monitor did.
  const bus = new ServiceBusClient(broker.connectionString);
  const receiver = bus.createReceiver(ESCALATION_TOPIC, "tickets", { receiveMode: "receiveAndDelete" });
  const sink = new MemoryTicketSink();
  const messages = [];
  try {
    for (let batch = await receiver.receiveMessages(50, { maxWaitTimeInMs: 1500 }); batch.length; batch = await receiver.receiveMessages(50, { maxWaitTimeInMs: 500 })) messages.push(...batch);
  } finally {
    await receiver.close();
    await bus.close();
  }
  const escalations = messages.map((m) => parseEscalationEvent(m.body)).filter((e) => e.data.kind === "escalation");
  expect(escalations.map((e) => e.id).sort()).toEqual(["run_flaky:failed:1", "run_stuck:stalled-requires-action:1"]);
  expect(escalations.find((e) => e.data.runId === "run_flaky")!.data.remediation).toMatchObject({ action: "retry", state: "done", newRunId: retry.newRunId });
  expect(escalations.find((e) => e.data.runId === "run_stuck")!.data.remediation).toMatchObject({ action: "cancel", state: "done" });
  for (const m of messages) await handleTicketMessage({ ...services.tickets, sinksFor: () => [sink] }, m.body);
  const ticket = (runId: string) => sink.received.find((t) => t.action === "open" && t.body.includes(runId))!.body;
  expect(ticket("run_stuck")).toContain("Remediation by the monitor");
  expect(ticket("run_stuck")).toContain("Cancelled the run");
  expect(ticket("run_flaky")).toContain("Started the agent again on the same thread (retry 1 of");
  expect(ticket("run_flaky")).toContain(retry.newRunId!);

  // The timelines (API, and `run-monitor timeline` as it prints them) show each action once.
  const api = createApiHttpHandler({ store: services.store, remediation: remediationReader(services.insights.store), authMode: "local-open", now: () => Date.now() });
  const timeline = async (runId: string) => {
    const res = await api(new functions.HttpRequest({ method: "GET", url: `http://127.0.0.1/api/runs/alpha/${runId}/timeline` }), contextFor("api-run"));
    return JSON.parse(String(res.body)) as TimelineBody;
  };
  const events = async (runId: string) => (await timeline(runId)).events.filter((e) => e.kind === "remediation").map((e) => e.summary);
  expect(await events("run_stuck")).toEqual(["monitor cancelled the run (because stalled-requires-action): done (found cancelled when resumed)"]);
  expect(await events("run_flaky")).toEqual([`monitor retried the run (attempt 1, because failed) as ${retry.newRunId}: done`]);
  expect(await events(retry.newRunId!)).toEqual(["started by the monitor as retry 1 of run_flaky (because failed)"]);
  expect(timelineText(await timeline("run_flaky"))).toMatch(new RegExp(`remediation\\s+monitor retried the run \\(attempt 1, because failed\\) as ${retry.newRunId}: done`));
}, 120_000);
