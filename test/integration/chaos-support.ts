// Shared by the chaos-*.test.ts files: what a store and a subscription hold after a run, in a form
// that compares directly against the uninterrupted reference run (local/chaos/reference.ts).
import { spawn } from "node:child_process";
import path from "node:path";
import type { ServiceBusClient } from "@azure/service-bus";
import { parseEscalationEvent } from "../../shared/bus/cloud-event.js";
import type { RunStore } from "../../shared/store/types.js";
import type { Scenario } from "../../local/scenario/schema.js";
import { repoRoot, sharedDir } from "../support/paths.js";
import { builtCli } from "./foundry-sim-check.js";

export interface RunRecord {
  runId: string;
  /** `seq from→to @at` per transition row, in seq order. */
  transitions: string[];
  seqs: number[];
  /** messageId → status of every outbox row. */
  outbox: Record<string, "pending" | "sent">;
  /** `(reason, episode, kind)` keys of the outbox rows, one per row. */
  outboxKeys: string[];
  headSeq: number;
  pendingOutbox: string[];
  terminal: boolean;
}

export async function recordsOf(store: RunStore, scenario: Scenario): Promise<Map<string, RunRecord>> {
  const out = new Map<string, RunRecord>();
  for (const run of scenario.runs) {
    const stored = await store.getHead(run.project, run.runId);
    const transitions = await store.listTransitions(run.project, run.runId);
    const outbox = await store.listOutbox(run.project, run.runId);
    out.set(run.runId, {
      runId: run.runId,
      transitions: transitions.map((t) => `${t.seq} ${t.from ?? "∅"}→${t.to} @${new Date(t.at).toISOString()}`),
      seqs: transitions.map((t) => t.seq),
      outbox: Object.fromEntries(outbox.map((o) => [o.messageId, o.status])),
      outboxKeys: outbox.map((o) => `${o.reason}:${o.episode}:${o.kind}`),
      headSeq: stored?.head.seq ?? -1,
      pendingOutbox: stored?.head.pendingOutbox ?? ["(no head)"],
      terminal: stored?.head.terminal ?? false,
    });
  }
  return out;
}

/** Run IDs in the active index, over every shard (a run listed twice shows up twice). */
export async function indexedRunIds(store: RunStore, shardCount: number): Promise<string[]> {
  const ids: string[] = [];
  for (let shard = 0; shard < shardCount; shard++) for (const e of await store.listShard(shard)) ids.push(e.head.ref.runId);
  return ids.sort();
}

export interface Delivery {
  messageId: string;
  /** `runId reason episode kind` from the CloudEvent body. */
  key: string;
}

/** Takes everything waiting on a subscription (receive-and-delete) until it stays empty. */
export async function drainSubscription(client: ServiceBusClient, topic: string, subscription: string): Promise<Delivery[]> {
  const receiver = client.createReceiver(topic, subscription, { receiveMode: "receiveAndDelete" });
  const got: Delivery[] = [];
  try {
    for (let empty = 0; empty < 2; ) {
      const batch = await receiver.receiveMessages(200, { maxWaitTimeInMs: 400 });
      if (batch.length === 0) empty++;
      else empty = 0;
      for (const m of batch) {
        const e = parseEscalationEvent(m.body);
        got.push({ messageId: String(m.messageId), key: `${e.data.runId} ${e.data.reason} ${e.data.episode} ${e.data.kind}` });
      }
    }
  } finally {
    await receiver.close();
  }
  return got;
}

export function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

/** Every (run, reason, episode, kind) carried by one messageId only. */
export function keysWithSeveralIds(deliveries: Delivery[]): string[] {
  const ids = new Map<string, Set<string>>();
  for (const d of deliveries) ids.set(d.key, (ids.get(d.key) ?? new Set()).add(d.messageId));
  return [...ids].filter(([, s]) => s.size > 1).map(([k, s]) => `${k}: ${[...s].join(", ")}`);
}

/** Gaps, repeats or a wrong start in a run's transition sequence numbers. */
export function seqProblems(r: RunRecord): string | undefined {
  const ok = r.seqs.every((s, i) => s === i + 1) && r.headSeq === r.seqs.length;
  return ok ? undefined : `${r.runId}: transition seqs [${r.seqs.join(",")}], head seq ${r.headSeq}`;
}

/**
 * ../shared/tools/check-scenario.mjs on an example scenario (or a copy of it at `scenarioPath`)
 * and its expectation file, running this build's `simulate --quiet ARGS`.
 */
export function checkScenario(name: string, simulateArgs: string[], scenarioPath?: string): Promise<{ code: number | null; output: string }> {
  const dir = path.join(sharedDir(), "contracts", "scenarios");
  const checker = path.join(sharedDir(), "tools", "check-scenario.mjs");
  const args = [checker, scenarioPath ?? path.join(dir, `${name}.json`), path.join(dir, `${name}.expect.json`), "--", process.execPath, builtCli(), "simulate", "--quiet", ...simulateArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}
