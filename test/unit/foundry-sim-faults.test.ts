import { describe, expect, test } from "@jest/globals";
import { parseScenario } from "../../local/scenario/schema.js";
import { createSimulation } from "../../local/foundry-sim/index.js";
import { pickFault } from "../../local/foundry-sim/faults.js";

/** A parsed JSON body, read loosely in assertions. */
type Json = ReturnType<typeof JSON.parse>;

const RUN = "/threads/thread_a/runs/run_a";

function scenarioWith(foundry: unknown) {
  return parseScenario({
    name: "faults",
    start: "2026-03-02T09:00:00Z",
    duration: 1000,
    foundry,
    runs: [
      { api: "classic", runId: "run_a", threadId: "thread_a", agentId: "asst", timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }] },
      { api: "responses", runId: "resp_a", threadId: "conv_a", agentId: "kb", timeline: [{ at: 0, status: "queued" }] },
    ],
  });
}

const outcome = (r: { status: number; fault?: string; body?: unknown }): string => {
  if (r.fault) return r.fault;
  if (r.status !== 200) return String(r.status);
  const b = r.body as { id?: string; status?: string } | string;
  return typeof b === "object" && b?.id && b?.status ? "ok" : "malformed";
};

describe("foundry-sim faults", () => {
  const faulty = scenarioWith({
    faults: [
      { from: 100, to: 200, kind: "http500", ratio: 0.2 },
      { from: 100, to: 200, kind: "http429", ratio: 0.1 },
      { from: 150, to: 300, kind: "timeout", ratio: 0.1 },
      { from: 150, to: 300, kind: "malformed", ratio: 0.1 },
    ],
  });

  test("the same seed replays the same faults; another seed does not", () => {
    const draw = (seed: number) => {
      const sim = createSimulation(faulty, { seed });
      return Array.from({ length: 300 }, (_, i) => outcome(sim.handle({ method: "GET", path: RUN }, 100 + (i % 200))));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  test("each fault hits near its ratio, overlapping windows included, and only inside its window", () => {
    const sim = createSimulation(faulty, { seed: 3 });
    const counts = (at: number, n = 3000) => {
      const c: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const o = outcome(sim.handle({ method: "GET", path: RUN }, at));
        c[o] = (c[o] ?? 0) + 1;
      }
      return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v / n]));
    };
    const early = counts(120);
    expect(early["500"]).toBeCloseTo(0.2, 1);
    expect(early["429"]).toBeCloseTo(0.1, 1);
    expect(early.timeout ?? 0).toBe(0);
    const overlap = counts(160);
    for (const [k, want] of [["500", 0.2], ["429", 0.1], ["timeout", 0.1], ["malformed", 0.1]] as const) expect(Math.abs(overlap[k] - want)).toBeLessThan(0.03);
    expect(counts(50, 500)).toEqual({ ok: 1 });
    expect(counts(300, 500)).toEqual({ ok: 1 });
  });

  test("fault shapes: 500 error body, 429 with Retry-After, timeout, malformed 200", () => {
    const sim = createSimulation(faulty, { seed: 1 });
    const seen = new Map<string, ReturnType<typeof sim.handle>>();
    for (let i = 0; i < 400 && seen.size < 5; i++) {
      const r = sim.handle({ method: "GET", path: "/openai/v1/responses/resp_a" }, 160);
      seen.set(outcome(r), r);
    }
    expect((seen.get("500")?.body as Json).error.code).toBe("server_error");
    expect(Number(seen.get("429")?.headers["retry-after"])).toBeGreaterThan(0);
    expect(seen.get("timeout")?.fault).toBe("timeout");
    expect(seen.get("malformed")?.status).toBe(200);
    expect(seen.get("ok")).toBeDefined();
  });

  test("faults apply to run reads only", () => {
    const sim = createSimulation(scenarioWith({ faults: [{ from: 0, to: 1000, kind: "http500", ratio: 1 }] }));
    expect(sim.handle({ method: "GET", path: RUN }, 10).status).toBe(500);
    expect(sim.handle({ method: "GET", path: `${RUN}/steps` }, 10).status).toBe(200);
    expect(sim.handle({ method: "GET", path: "/threads/thread_a/messages" }, 10).status).toBe(200);
    expect(sim.stats().faults.http500).toBe(1);
  });

  test("pickFault shares the unit interval among the active faults in order", () => {
    const faults = [
      { from: 0, to: 10, kind: "http500" as const, ratio: 0.2 },
      { from: 5, to: 10, kind: "timeout" as const, ratio: 0.3 },
    ];
    expect(pickFault(faults, 6, 0.1)).toBe("http500");
    expect(pickFault(faults, 6, 0.3)).toBe("timeout");
    expect(pickFault(faults, 6, 0.6)).toBeUndefined();
    expect(pickFault(faults, 2, 0.3)).toBeUndefined();
    expect(pickFault(faults, 10, 0.1)).toBeUndefined();
  });
});

describe("foundry-sim rate limit", () => {
  const limited = scenarioWith({ rateLimitPerSecond: 5 });

  test("per scenario second without a real clock", () => {
    const sim = createSimulation(limited);
    const statuses = Array.from({ length: 8 }, () => sim.handle({ method: "GET", path: RUN }, 10.2).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    const refused = sim.handle({ method: "GET", path: `${RUN}/steps` }, 10.9);
    expect(refused.status).toBe(429);
    expect(refused.headers["retry-after"]).toBe("1");
    expect(sim.handle({ method: "GET", path: RUN }, 11).status).toBe(200);
    expect(sim.stats().faults.rateLimited).toBe(4);
  });

  test("per real second (sliding window) when the real time is given", () => {
    const sim = createSimulation(limited);
    const at = (ms: number) => sim.handle({ method: "GET", path: RUN }, 10, ms).status;
    for (let i = 0; i < 5; i++) expect(at(1000 + i * 100)).toBe(200);
    expect(at(1500)).toBe(429);
    expect(at(1999)).toBe(429);
    expect(at(2000)).toBe(200); // the first hit (at 1000) left the window
    expect(at(2050)).toBe(429);
  });
});
