// Crash test: the monitor runs as a child process (local/chaos/worker.ts) against the real local
// parts — Azurite Tables, the AMQP broker through @azure/service-bus, the HTTPS Foundry simulator
// through the SDK adapters — and is kill -9'd at least 50 times at random points: right after the
// Nth Table write (between a commit and its index refresh, a registration and its index entry, a
// markPublished and the index update…), right after the Nth Foundry read (between poll and
// write), right after a publish (between send and "marked sent"), or at a random wall-clock
// moment. Each restart resumes the scenario at the step it was killed in. At the end, what is in
// Azurite and on the `tickets` subscription must equal what one uninterrupted run produces:
// every escalation delivered exactly once, every outbox row sent, every transition once, in order.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ServiceBusClient } from "@azure/service-bus";
import { chaosScenarioJson } from "../../local/chaos/scenario.js";
import { runReference } from "../../local/chaos/reference.js";
import { scheduleOf } from "../../local/chaos/schedule.js";
import { startFoundrySimulator, type FoundrySimulator } from "../../local/foundry-sim/index.js";
import { uniform } from "../../local/foundry-sim/prng.js";
import { parseScenario, type Scenario } from "../../local/scenario/schema.js";
import { startServiceBusBroker, type ServiceBusBroker } from "../../local/service-bus/broker.js";
import { createTableRunStore } from "../../shared/store/table-store.js";
import { startAzurite, type AzuriteInstance } from "../support/azurite.js";
import { countBy, drainSubscription, indexedRunIds, keysWithSeveralIds, recordsOf, seqProblems } from "./chaos-support.js";

const TOPIC = "run-escalations";
const TABLE_PREFIX = "chaos";
const SHARDS = 4;
const KILLS = Number(process.env.CHAOS_KILLS ?? 60);
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const workerPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "local", "chaos", "worker.js");

let azurite: AzuriteInstance;
let broker: ServiceBusBroker;
let sim: FoundrySimulator;
let scenario: Scenario;
let tmp: string;
let live: ChildProcess | undefined;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "chaos-crash-"));
  const json = chaosScenarioJson();
  fs.writeFileSync(path.join(tmp, "scenario.json"), JSON.stringify(json));
  scenario = parseScenario(json);
  [azurite, sim, broker] = await Promise.all([
    startAzurite(),
    startFoundrySimulator({ scenario, clock: "manual", port: 0 }),
    startServiceBusBroker({
      entities: { topics: [{ name: TOPIC, duplicateDetectionWindowMs: 30 * 60_000, subscriptions: [{ name: "tickets", maxDeliveryCount: 10, lockDurationMs: 60_000 }] }] },
    }),
  ]);
}, 60_000);

afterAll(async () => {
  live?.kill("SIGKILL");
  await broker?.dispose();
  await sim?.close();
  await azurite?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

type Plan = { kind: "table-write" | "poll" | "publish"; n: number } | { kind: "wall"; ms: number } | { kind: "none" };

interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runWorker(plan: Plan): Promise<WorkerExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [workerPath], {
      env: {
        ...process.env,
        CHAOS_TABLES: azurite.connectionString,
        CHAOS_TABLE_PREFIX: TABLE_PREFIX,
        CHAOS_BUS: broker.connectionString,
        CHAOS_TOPIC: TOPIC,
        CHAOS_FOUNDRY: new URL(sim.endpoint).origin,
        CHAOS_CA: sim.ca,
        CHAOS_SCENARIO: path.join(tmp, "scenario.json"),
        CHAOS_CURSOR: path.join(tmp, "cursor.json"),
        CHAOS_KILL_AFTER: plan.kind === "table-write" || plan.kind === "poll" || plan.kind === "publish" ? `${plan.kind}:${plan.n}` : "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    live = child;
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (plan.kind === "wall" && stdout.startsWith("ready")) setTimeout(() => child.kill("SIGKILL"), plan.ms).unref();
    });
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      live = undefined;
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function cursor(): number {
  const file = path.join(tmp, "cursor.json");
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as { next: number }).next : 0;
}

/** Kill points drawn from the seed: mostly right after a write, a read or a publish, a third at a random moment. */
function planFor(i: number): Plan {
  const u = (what: string) => uniform(SEED, i, what);
  const pick = u("kind");
  if (pick < 0.4) return { kind: "table-write", n: 1 + Math.floor(u("n") * 16) };
  if (pick < 0.55) return { kind: "poll", n: 1 + Math.floor(u("n") * 24) };
  if (pick < 0.7) return { kind: "publish", n: 1 + Math.floor(u("n") * 2) };
  return { kind: "wall", ms: Math.floor(u("n") * 200) };
}

describe("monitor process killed -9 at random points", () => {
  it(`publishes every escalation exactly once and loses or doubles no transition (seed ${SEED})`, async () => {
    const began = Date.now();
    const schedule = scheduleOf(scenario);
    const kills: { plan: Plan; step: number }[] = [];
    let finished = false;
    let lastRun = "";
    for (let i = 0; kills.length < KILLS; i++) {
      const plan = planFor(i);
      const exit = await runWorker(plan);
      if (exit.signal === "SIGKILL") {
        kills.push({ plan, step: cursor() });
        continue;
      }
      if (exit.code !== 0) throw new Error(`worker failed (plan ${JSON.stringify(plan)}, exit ${exit.code}):\n${exit.stderr.slice(-3000)}`);
      finished = true;
      lastRun = exit.stdout.trim().split("\n").pop() ?? "";
      break;
    }
    if (!finished) {
      const last = await runWorker({ kind: "none" });
      if (last.code !== 0) throw new Error(`final worker failed (exit ${last.code}, signal ${last.signal}):\n${last.stderr.slice(-3000)}`);
      lastRun = last.stdout.trim().split("\n").pop() ?? "";
    }
    expect(cursor()).toBe(schedule.length);
    const workerSeconds = (Date.now() - began) / 1000;

    // What one uninterrupted monitor does with the same schedule.
    const reference = await runReference(scenario);
    const expected = await recordsOf(reference.store, scenario);
    const store = createTableRunStore({ connectionString: azurite.connectionString, tablePrefix: TABLE_PREFIX });
    const actual = await recordsOf(store, scenario);

    // Transitions: the same rows, seq 1..n without gaps or repeats, as an uninterrupted run writes.
    const seqIssues = [...actual.values()].map(seqProblems).filter(Boolean);
    expect(seqIssues).toEqual([]);
    for (const [runId, want] of expected) expect({ runId, transitions: actual.get(runId)!.transitions }).toEqual({ runId, transitions: want.transitions });

    // Outbox: the same rows, all sent, one row per (run, reason, episode, kind), nothing left pending.
    const expectedIds = [...expected.values()].flatMap((r) => Object.keys(r.outbox)).sort();
    for (const [runId, want] of expected) {
      const got = actual.get(runId)!;
      expect({ runId, outbox: got.outbox, pending: got.pendingOutbox }).toEqual({ runId, outbox: Object.fromEntries(Object.keys(want.outbox).map((id) => [id, "sent"])), pending: [] });
      expect(new Set(got.outboxKeys).size).toBe(got.outboxKeys.length);
    }
    expect(await store.listPendingOutbox()).toEqual([]);

    // The active index holds exactly the runs an uninterrupted run leaves active, each once.
    expect(await indexedRunIds(store, SHARDS)).toEqual(await indexedRunIds(reference.store, SHARDS));

    // The subscription: every expected message delivered exactly once, nothing else.
    const bus = new ServiceBusClient(broker.connectionString);
    const deliveries = await drainSubscription(bus, TOPIC, "tickets").finally(() => bus.close());
    const perId = countBy(deliveries, (d) => d.messageId);
    expect([...perId].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...perId.keys()].sort()).toEqual(expectedIds);
    expect(keysWithSeveralIds(deliveries)).toEqual([]);
    const reasons = new Set(deliveries.filter((d) => d.key.endsWith(" escalation")).map((d) => d.key.split(" ")[1]));
    expect([...reasons].sort()).toEqual(["cancelled", "expired", "failed", "incomplete", "max-runtime", "stalled-cancelling", "stalled-in-progress", "stalled-queued", "stalled-requires-action", "vanished"]);

    const stats = broker.stats();
    const byKind = countBy(kills, (k) => k.plan.kind);
    const steps = kills.map((k) => k.step);
    // One line for the log: what was measured.
    console.log(
      `chaos crash (seed ${SEED}): ${kills.length} kills (${[...byKind].map(([k, n]) => `${k} ${n}`).join(", ")}) at steps ${Math.min(...steps)}–${Math.max(...steps)} of ${schedule.length}; ` +
        `${deliveries.length} messages delivered (${expectedIds.length} expected), ${stats.duplicates} re-sends dropped by duplicate detection, ${stats.accepted} accepted; ` +
        `last worker: ${lastRun}; workers ${workerSeconds.toFixed(1)} s, total ${((Date.now() - began) / 1000).toFixed(1)} s`,
    );
    expect(kills.length).toBeGreaterThanOrEqual(50);
  }, 170_000);
});
