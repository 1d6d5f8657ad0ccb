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
const STANDBY = 3;
const KILLS = Number(process.env.CHAOS_KILLS ?? 60);
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const workerPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "local", "chaos", "worker.js");

let azurite: AzuriteInstance;
let broker: ServiceBusBroker;
let sim: FoundrySimulator;
let scenario: Scenario;
let tmp: string;
const workers = new Set<ChildProcess>();

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
  for (const w of workers) w.kill("SIGKILL");
  await broker?.dispose();
  await sim?.close();
  await azurite?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A kill point; `cap` also kills after that many Table writes, so a publish point with no publish in sight cannot run far ahead. */
type Plan = { kind: "table-write" | "poll" | "publish"; n: number; cap?: number } | { kind: "wall"; ms: number } | { kind: "none" };

interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Worker {
  /** Resolves once the process has loaded its modules and waits for go(). */
  warm: Promise<void>;
  go(plan: Plan): void;
  exit: Promise<WorkerExit>;
  child: ChildProcess;
}

/** Starts a monitor process on standby: module loading (seconds on a busy machine) overlaps the previous worker's run. */
function spawnWorker(): Worker {
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
      CHAOS_STANDBY: "1",
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  workers.add(child);
  let stdout = "";
  let stderr = "";
  let onWarm: () => void = () => undefined;
  let wallMs: number | undefined;
  const warm = new Promise<void>((resolve) => (onWarm = resolve));
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (stdout.startsWith("warm")) onWarm();
    if (wallMs !== undefined && /^ready/m.test(stdout)) {
      setTimeout(() => child.kill("SIGKILL"), wallMs).unref();
      wallMs = undefined; // one timer
    }
  });
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin!.on("error", () => undefined);
  const exit = new Promise<WorkerExit>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      workers.delete(child);
      onWarm();
      resolve({ code, signal, stdout, stderr });
    });
  });
  const go = (plan: Plan): void => {
    if (plan.kind === "wall") wallMs = plan.ms;
    const points = plan.kind === "table-write" || plan.kind === "poll" || plan.kind === "publish" ? [`${plan.kind}:${plan.n}`, ...(plan.cap ? [`table-write:${plan.cap}`] : [])] : [];
    child.stdin!.write(`go ${points.join(",")}\n`);
  };
  return { warm, go, exit, child };
}

function cursor(): number {
  const file = path.join(tmp, "cursor.json");
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as { next: number }).next : 0;
}

/**
 * Kill points drawn from the seed: mostly right after a write, a read or a publish, a third at a
 * random moment. A worker behind an even spread of kills over the schedule gets a later kill point,
 * so the kills cover the whole scenario rather than its first steps.
 */
function planFor(i: number, step: number, steps: number): Plan {
  if (i >= KILLS) return { kind: "none" };
  const u = (what: string) => uniform(SEED, i, what);
  const scale = step < Math.floor((steps * (i + 1)) / (KILLS + 10)) ? 4 : 1;
  const pick = u("kind");
  if (pick < 0.45) return { kind: "table-write", n: 1 + Math.floor(u("n") * 10 * scale) };
  if (pick < 0.6) return { kind: "poll", n: 1 + Math.floor(u("n") * 10 * scale), cap: 10 + Math.floor(u("cap") * 20 * scale) };
  // Publishes come at the end of a sweep, after its writes: a roomier cap lets most of these land.
  if (pick < 0.7) return { kind: "publish", n: 1 + Math.floor(u("n") * scale), cap: 40 + Math.floor(u("cap") * 60 * scale) };
  return { kind: "wall", ms: Math.floor(u("n") * 100 * scale) };
}

describe("monitor process killed -9 at random points", () => {
  it(`publishes every escalation exactly once and loses or doubles no transition (seed ${SEED})`, async () => {
    const began = Date.now();
    const schedule = scheduleOf(scenario);
    const kills: { point: string; step: number }[] = [];
    let finished = false;
    let lastRun = "";
    // Workers on standby: starting a process that loads the Azure SDKs takes longer than most runs
    // until their kill, so the next few load while the current one runs.
    const standby = Array.from({ length: STANDBY }, () => spawnWorker());
    for (let i = 0; !finished; i++) {
      const current = standby.shift()!;
      standby.push(spawnWorker());
      await current.warm;
      const plan = planFor(i, cursor(), schedule.length);
      const t0 = Date.now();
      current.go(plan);
      const exit = await current.exit;
      if (process.env.CHAOS_DEBUG) process.stderr.write(`spawn ${i} ${JSON.stringify(plan)} → ${exit.signal ?? exit.code} at step ${cursor()} in ${Date.now() - t0} ms ${exit.stdout.trim().replace(/\n/g, " | ")}\n`);
      if (exit.signal === "SIGKILL") {
        kills.push({ point: /^kill (\S+?):/m.exec(exit.stdout)?.[1] ?? "wall-clock", step: cursor() });
        continue;
      }
      if (exit.code !== 0) throw new Error(`worker failed (plan ${JSON.stringify(plan)}, exit ${exit.code}):\n${exit.stderr.slice(-3000)}`);
      finished = true;
      lastRun = exit.stdout.trim().split("\n").pop() ?? "";
    }
    for (const w of standby) w.child.kill("SIGKILL"); // never started: they touched nothing
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
    const byKind = countBy(kills, (k) => k.point);
    const steps = kills.map((k) => k.step);
    // One line for the log: what was measured.
    console.log(
      `chaos crash (seed ${SEED}): ${kills.length} kills (${[...byKind].map(([k, n]) => `${k} ${n}`).join(", ")}) at steps ${Math.min(...steps)}–${Math.max(...steps)} of ${schedule.length}; ` +
        `${deliveries.length} messages delivered (${expectedIds.length} expected), ${stats.duplicates} re-sends dropped by duplicate detection, ${stats.accepted} accepted; ` +
        `last worker: ${lastRun}; workers ${workerSeconds.toFixed(1)} s, total ${((Date.now() - began) / 1000).toFixed(1)} s`,
    );
    expect(kills.length).toBeGreaterThanOrEqual(50);
  }, Number(process.env.CHAOS_TIMEOUT_MS ?? 240_000));
});
