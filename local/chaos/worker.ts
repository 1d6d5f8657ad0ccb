// The monitor as a process the crash test can kill -9: the real Table store on Azurite, the real
// SDK adapters against the HTTPS Foundry simulator, the real Service Bus publisher against the local
// broker. It runs the scenario's schedule from the step a small cursor file names, on a virtual
// clock set to that step's time, and advances the cursor after each step — so a restarted worker
// redoes the step it was killed in, at the same virtual time.
//
// CHAOS_KILL_AFTER=KIND:N[,KIND:N] makes it SIGKILL itself right after the Nth operation of that
// kind answered (whichever comes first), before its caller sees the answer:
//   table-write  any write request to Table storage (transaction, create, update, upsert, delete):
//                lands between a commit and its index refresh, a registration and its index entry,
//                a markPublished and the index update…
//   poll         a Foundry read: between poll and write
//   publish      a publish that sent something: between send and "marked sent"
//
// Environment: CHAOS_TABLES (connection string), CHAOS_TABLE_PREFIX, CHAOS_BUS (connection string),
// CHAOS_TOPIC, CHAOS_FOUNDRY (simulator origin), CHAOS_CA (PEM file), CHAOS_SCENARIO (file),
// CHAOS_CURSOR (file), CHAOS_STANDBY (1: wait for a line on stdin before starting). Prints
// `ready {"step":K}` once connected and `done {...counters}` at the end.
import fs from "node:fs";
import https from "node:https";
import { TableClient } from "@azure/data-tables";
import { ServiceBusEscalationPublisher, type EscalationPublisher, type PublishResult } from "../../shared/bus/publisher.js";
import { localSimulatorCredential } from "../../shared/foundry/credential.js";
import { ProjectRunSources } from "../../shared/foundry/project-run-sources.js";
import type { RunSource } from "../../shared/foundry/run-source.js";
import type { PollOutcome, RunRef, StepSummary } from "../../shared/model/run.js";
import { TableRunStore } from "../../shared/store/table-store.js";
import type { OutboxItem } from "../../shared/store/types.js";
import { VirtualClock } from "../../shared/tracking/clock.js";
import type { MonitorEvents } from "../../shared/tracking/deps.js";
import { loadScenario } from "../scenario/schema.js";
import { chaosTrackerDeps, runStep, scheduleOf } from "./schedule.js";

export type KillKind = "table-write" | "poll" | "publish";
const KILL_KINDS: readonly KillKind[] = ["table-write", "poll", "publish"];

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

/** `KIND:N[,KIND:N…]`: killed at whichever comes first. */
function parseKill(spec: string | undefined): { kind: KillKind; n: number }[] {
  if (!spec) return [];
  return spec.split(",").map((part) => {
    const m = /^([a-z-]+):(\d+)$/.exec(part.trim());
    if (!m || !KILL_KINDS.includes(m[1] as KillKind) || Number(m[2]) < 1) throw new Error(`CHAOS_KILL_AFTER: expected KIND:N[,KIND:N] with KIND one of ${KILL_KINDS.join(", ")}, got ${JSON.stringify(spec)}`);
    return { kind: m[1] as KillKind, n: Number(m[2]) };
  });
}

let killAfter = parseKill(process.env.CHAOS_KILL_AFTER);
const counts: Record<KillKind, number> = { "table-write": 0, poll: 0, publish: 0 };

function tick(kind: KillKind): void {
  counts[kind]++;
  if (killAfter.some((k) => k.kind === kind && counts[kind] === k.n)) {
    process.stdout.write(`kill ${kind}:${counts[kind]}\n`); // synchronous on a pipe (Linux): the test learns which point fired
    process.kill(process.pid, "SIGKILL");
  }
}

const TABLE_WRITES = new Set(["submitTransaction", "createEntity", "updateEntity", "upsertEntity", "deleteEntity"]);

/** The real TableClient, with a kill point after each write request Azurite answered (success or refusal). */
function killableTableClient(client: TableClient): TableClient {
  return new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (typeof prop !== "string" || !TABLE_WRITES.has(prop)) return fn.bind(target);
      return async (...args: unknown[]) => {
        try {
          return await fn.apply(target, args);
        } finally {
          tick("table-write");
        }
      };
    },
  });
}

/** POSTs the simulator's manual clock (it lives in the test process, which keeps it across our restarts). */
function simClockSetter(origin: string, ca: string): (seconds: number) => Promise<void> {
  const agent = new https.Agent({ ca, keepAlive: true });
  return (seconds) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ at: seconds });
      const req = https.request(`${origin}/_sim/clock`, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`simulator clock: HTTP ${res.statusCode}`))));
      });
      req.on("error", reject);
      req.end(body);
    });
}

/** The SDK adapters, with the simulator's clock moved to the monitor's virtual time first, and a kill point after each read. */
class ChaosRunSource implements RunSource {
  private syncedAt = Number.NaN;
  private syncing: Promise<void> = Promise.resolve();
  constructor(private readonly inner: RunSource, private readonly setSimClock: (s: number) => Promise<void>, private readonly start: number, private readonly clock: VirtualClock) {}
  private sync(): Promise<void> {
    const at = (this.clock.now() - this.start) / 1000;
    if (at !== this.syncedAt) {
      this.syncedAt = at;
      this.syncing = this.setSimClock(at);
    }
    return this.syncing;
  }
  async poll(ref: RunRef, options?: { steps?: boolean; signal?: AbortSignal }): Promise<PollOutcome> {
    await this.sync();
    const outcome = await this.inner.poll(ref, options);
    tick("poll");
    return outcome;
  }
  async listSteps(ref: RunRef): Promise<StepSummary[]> {
    await this.sync();
    return this.inner.listSteps(ref);
  }
  async finalMessage(ref: RunRef): Promise<{ id: string; role: string; text: string } | undefined> {
    await this.sync();
    return this.inner.finalMessage(ref);
  }
}

class KillablePublisher implements EscalationPublisher {
  constructor(private readonly inner: EscalationPublisher) {}
  async publish(items: OutboxItem[]): Promise<PublishResult> {
    const result = await this.inner.publish(items);
    if (result.sent.length > 0) tick("publish");
    return result;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function readCursor(file: string): number {
  if (!fs.existsSync(file)) return 0;
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { next: number }).next;
}

/** Write-then-rename: a kill mid-write leaves the previous cursor, never half a file. */
function writeCursor(file: string, next: number): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify({ next }));
  fs.renameSync(`${file}.tmp`, file);
}

/**
 * With CHAOS_STANDBY=1 the worker loads its modules, says `warm` and waits for a line on stdin,
 * `go` or `go KIND:N` (a kill point chosen when it starts): the test keeps the next monitor
 * processes warm while the current one runs.
 */
async function standby(): Promise<void> {
  if (process.env.CHAOS_STANDBY !== "1") return;
  process.stdout.write("warm\n");
  const line = await new Promise<string>((resolve) => {
    let text = "";
    process.stdin.on("data", (d: Buffer) => {
      text += d.toString();
      if (text.includes("\n")) resolve(text.slice(0, text.indexOf("\n")));
    });
    process.stdin.once("end", () => process.exit(0));
  });
  process.stdin.pause();
  killAfter = parseKill(line.replace(/^go\s*/, "").trim() || undefined);
}

async function main(): Promise<void> {
  await standby();
  const scenario = loadScenario(env("CHAOS_SCENARIO"));
  const cursorFile = env("CHAOS_CURSOR");
  const schedule = scheduleOf(scenario);
  const first = readCursor(cursorFile);
  if (first >= schedule.length) {
    process.stdout.write(`done ${JSON.stringify({ steps: 0, counts })}\n`);
    return;
  }
  const start = Date.parse(scenario.start);
  const clock = new VirtualClock(schedule[first].at);
  const ca = fs.readFileSync(env("CHAOS_CA"), "utf8");
  const origin = env("CHAOS_FOUNDRY");
  const tables = env("CHAOS_TABLES");
  const store = new TableRunStore((name) => killableTableClient(TableClient.fromConnectionString(tables, name, { allowInsecureConnection: true })), env("CHAOS_TABLE_PREFIX"));
  const projects = [...new Set(scenario.runs.map((r) => r.project))].map((name) => ({ name, endpoint: `${origin}/api/projects/${name}`, api: "both" as const, discovery: false }));
  const source = new ChaosRunSource(new ProjectRunSources(projects, { credential: localSimulatorCredential, ca, timeoutMs: 5000 }), simClockSetter(origin, ca), start, clock);
  const publisher = new KillablePublisher(new ServiceBusEscalationPublisher({ connectionString: env("CHAOS_BUS") }, { topic: env("CHAOS_TOPIC"), publishTimeoutMs: 5000 }));
  const seen = { published: 0, degraded: 0 };
  const events: MonitorEvents = { registered() {}, transition() {}, published: () => void seen.published++, degraded: () => void seen.degraded++ };
  const deps = chaosTrackerDeps(scenario, { store, source, publisher, clock, events });
  await store.init();
  process.stdout.write(`ready ${JSON.stringify({ step: first })}\n`);
  for (let k = first; k < schedule.length; k++) {
    await runStep(deps, clock, schedule[k]);
    writeCursor(cursorFile, k + 1);
  }
  await publisher.close();
  process.stdout.write(`done ${JSON.stringify({ steps: schedule.length - first, counts, ...seen })}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`chaos worker: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
