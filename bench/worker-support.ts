// Small pieces both workers share: reading the simulator's request counts, waiting for a moment
// on the real clock, peak RSS, progress reports to the parent.

import os from "node:os";
import { performance } from "node:perf_hooks";
import { fetchTrustingCa } from "../shared/foundry/tls-fetch.js";
import type { SimStats } from "../local/foundry-sim/index.js";
import type { WorkerMessage } from "./protocol.js";

export function send(message: WorkerMessage): void {
  process.send?.(message);
}

export function progress(phase: string, done: number, total: number): void {
  send({ type: "progress", phase, done, total });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function sleepUntil(epochMs: number): Promise<void> {
  await sleep(epochMs - Date.now());
}

/** The high-water mark of this process's resident memory, in MB. */
export function peakRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

/** The simulator's counters for one project, read over HTTPS from its control endpoint. */
export async function simulatorStats(control: string, caPem: string, project: string): Promise<SimStats> {
  const res = await fetchTrustingCa(caPem)(`${control}/stats`);
  if (!res.ok) throw new Error(`simulator stats: HTTP ${res.status}`);
  const body = (await res.json()) as { projects: Record<string, SimStats> };
  return body.projects[project] ?? { requests: {}, faults: {} };
}

/** Requests by kind made between two snapshots. */
export function statsDelta(before: SimStats, after: SimStats): { calls: number; rateLimited: number; byKind: Record<string, number> } {
  const byKind: Record<string, number> = {};
  let calls = 0;
  for (const [kind, n] of Object.entries(after.requests)) {
    const d = (n ?? 0) - ((before.requests as Record<string, number | undefined>)[kind] ?? 0);
    if (d > 0) {
      byKind[kind] = d;
      calls += d;
    }
  }
  const rateLimited = (after.faults.rateLimited ?? 0) - (before.faults.rateLimited ?? 0);
  return { calls, rateLimited, byKind };
}

export const round = (x: number, digits = 4): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** CPU this process spent and how busy its event loop was, between start() and stop(). */
export interface CpuFigures {
  /** CPU milliseconds (user + system) per run read. */
  cpuMsPerRead: number;
  /** Share of wall time the event loop was busy (1 = saturated: the process, not Foundry, was the limit). */
  eventLoopUtilization: number;
  /** The machine's 1-minute load average when the measurement ended. */
  loadavg1: number;
}

export class CpuMeter {
  private cpu = process.cpuUsage();
  private elu = performance.eventLoopUtilization();
  private spentUs = 0;
  private busy = 0;
  private total = 0;

  /** Counts from now (call at the start of each measured stretch). */
  start(): void {
    this.cpu = process.cpuUsage();
    this.elu = performance.eventLoopUtilization();
  }

  /** Adds the stretch since start(). */
  stop(): void {
    const c = process.cpuUsage(this.cpu);
    this.spentUs += c.user + c.system;
    const e = performance.eventLoopUtilization(this.elu);
    this.busy += e.active;
    this.total += e.idle + e.active;
  }

  figures(reads: number): CpuFigures {
    return {
      cpuMsPerRead: round(this.spentUs / 1000 / Math.max(1, reads), 3),
      eventLoopUtilization: round(this.total > 0 ? this.busy / this.total : 0, 3),
      loadavg1: round(os.loadavg()[0], 2),
    };
  }
}
