import https from "node:https";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { AgentsClient } from "@azure/ai-agents";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { parseScenario } from "../../local/scenario/schema.js";
import { startFoundrySimulator, type FoundrySimulator } from "../../local/foundry-sim/index.js";

/** A parsed JSON body, read loosely in assertions. */
type Json = ReturnType<typeof JSON.parse>;

const T0 = Date.parse("2026-03-02T09:00:00Z") / 1000;
const credential: TokenCredential = { getToken: async (): Promise<AccessToken> => ({ token: "any-token", expiresOnTimestamp: Date.now() + 3600_000 }) };

const scenario = parseScenario({
  name: "server",
  start: "2026-03-02T09:00:00Z",
  duration: 600,
  foundry: { latencyMs: 40, faults: [{ from: 500, to: 600, kind: "timeout", ratio: 1 }] },
  runs: [
    {
      api: "classic",
      runId: "run_srv",
      threadId: "thread_srv",
      agentId: "asst_srv",
      timeline: [
        { at: 0, status: "queued" },
        { at: 5, status: "in_progress" },
        { at: 20, step: { type: "tool_calls", tool: "lookup", status: "completed" } },
        { at: 30, status: "requires_action", toolCalls: [{ id: "call_srv", name: "approve" }], expiresAt: 400 },
        { at: 60, status: "queued" },
        { at: 62, status: "in_progress" },
        { at: 70, step: { type: "message_creation", status: "completed" } },
        { at: 80, status: "completed" },
      ],
      finalMessage: "Approved.",
    },
    { api: "responses", runId: "resp_srv", threadId: "conv_srv", agentId: "kb", timeline: [{ at: 0, status: "queued" }, { at: 10, status: "completed" }], finalMessage: "Hi." },
  ],
});

/** A raw HTTPS request trusting only the simulator's certificate. */
function request(sim: FoundrySimulator, method: string, url: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; json: Json; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca: sim.caPem, headers: { authorization: "Bearer whatever", "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : undefined, ms: Date.now() - started }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe("foundry-sim over HTTPS (manual clock)", () => {
  let sim: FoundrySimulator;
  let agents: AgentsClient;

  beforeAll(async () => {
    sim = await startFoundrySimulator({ scenario, clock: "manual", project: "proj-a", timeoutHoldMs: 300 });
    agents = new AgentsClient(sim.endpoint, credential, { retryOptions: { maxRetries: 0 }, tlsOptions: { ca: sim.caPem } });
  });
  afterAll(async () => {
    await sim?.close();
  });

  test("announces an endpoint, a CA file and a control URL", () => {
    expect(sim.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/api\/projects\/proj-a$/);
    expect(sim.control).toBe(`https://127.0.0.1:${sim.port}/_sim`);
    expect(fs.readFileSync(sim.ca, "utf8")).toBe(sim.caPem);
  });

  test("the classic SDK reads a run as the clock moves", async () => {
    await expect(agents.runs.get("thread_srv", "run_srv")).resolves.toMatchObject({ status: "queued", threadId: "thread_srv", assistantId: "asst_srv" });
    sim.setClock(31);
    const waiting = await agents.runs.get("thread_srv", "run_srv");
    expect(waiting.status).toBe("requires_action");
    expect(waiting.createdAt.getTime() / 1000).toBe(T0);
    expect(waiting.startedAt?.getTime()).toBe((T0 + 5) * 1000);
    expect(waiting.expiresAt?.getTime()).toBe((T0 + 400) * 1000);
    const calls = waiting.requiredAction?.type === "submit_tool_outputs" ? (waiting.requiredAction as Json).submitToolOutputs.toolCalls : [];
    expect(calls.map((c: { id: string }) => c.id)).toEqual(["call_srv"]);
  });

  test("the classic SDK lists steps and the final message", async () => {
    sim.setClock(81);
    const steps = [];
    for await (const s of agents.runSteps.list("thread_srv", "run_srv")) steps.push(s);
    expect(steps.map((s) => s.type).sort()).toEqual(["message_creation", "tool_calls"]);
    const messages = [];
    for await (const m of agents.messages.list("thread_srv")) messages.push(m);
    expect(messages).toHaveLength(1);
    expect(messages[0].content[0]).toMatchObject({ type: "text", text: { value: "Approved." } });
    await expect(agents.getAgent("asst_srv")).resolves.toMatchObject({ id: "asst_srv" });
  });

  test("unknown runs are a 404 RestError", async () => {
    await expect(agents.runs.get("thread_srv", "run_nope")).rejects.toMatchObject({ statusCode: 404 });
  });

  test("v2 routes answer with the response body; latency is applied", async () => {
    const r = await request(sim, "GET", `${sim.endpoint}/openai/v1/responses/resp_srv?api-version=v1`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: "resp_srv", object: "response", status: "completed" });
    expect(r.ms).toBeGreaterThanOrEqual(35);
  });

  test("the control clock: GET reads it, POST sets it, bad input is a 400", async () => {
    await expect(request(sim, "POST", `${sim.control}/clock`, { at: 90 })).resolves.toMatchObject({ status: 200, json: { at: 90 } });
    await expect(request(sim, "GET", `${sim.control}/clock`)).resolves.toMatchObject({ status: 200, json: { at: 90 } });
    await expect(request(sim, "POST", `${sim.control}/clock`, { at: "soon" })).resolves.toMatchObject({ status: 400 });
    await expect(request(sim, "POST", `${sim.control}/clock`, { at: -1 })).resolves.toMatchObject({ status: 400 });
  });

  test("a timeout fault holds the request, then drops it unanswered", async () => {
    sim.setClock(510);
    const started = Date.now();
    await expect(request(sim, "GET", `${sim.endpoint}/threads/thread_srv/runs/run_srv`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    sim.setClock(90); // back outside the fault window
    await expect(agents.runs.get("thread_srv", "run_srv")).resolves.toMatchObject({ status: "completed" });
  });

  test("cancel through the SDK on a fresh simulator, and close() frees a held request", async () => {
    const other = await startFoundrySimulator({
      scenario: parseScenario({ ...scenarioJson(), foundry: { faults: [{ from: 100, to: 200, kind: "timeout", ratio: 1 }] } }),
      clock: "manual",
      timeoutHoldMs: 60_000,
    });
    try {
      const client = new AgentsClient(other.endpoint, credential, { retryOptions: { maxRetries: 0 }, tlsOptions: { ca: other.caPem } });
      other.setClock(10);
      await expect(client.runs.cancel("thread_long", "run_long")).resolves.toMatchObject({ status: "cancelling" });
      other.setClock(20);
      await expect(client.runs.get("thread_long", "run_long")).resolves.toMatchObject({ status: "cancelled" });
      other.setClock(150);
      const held = request(other, "GET", `${other.endpoint}/threads/thread_long/runs/run_long`).then(
        () => "answered",
        (e: Error) => e.message,
      );
      await new Promise((r) => setTimeout(r, 200));
      const closing = Date.now();
      await other.close();
      expect(Date.now() - closing).toBeLessThan(2000);
      expect(await held).toMatch(/socket hang up|ECONNRESET/);
      expect(fs.existsSync(other.ca)).toBe(false);
    } finally {
      await other.close();
    }
  });
});

function scenarioJson() {
  return {
    name: "cancel",
    start: "2026-03-02T09:00:00Z",
    duration: 600,
    runs: [{ api: "classic", runId: "run_long", threadId: "thread_long", agentId: "asst", timeline: [{ at: 0, status: "queued" }, { at: 1, status: "in_progress" }] }],
  };
}

describe("foundry-sim over HTTPS (real clock)", () => {
  test("scenario second 0 is the start; the clock cannot be set", async () => {
    const sim = await startFoundrySimulator({ scenario, clock: "real" });
    try {
      const r = await request(sim, "GET", `${sim.control}/clock`);
      expect(r.json.at).toBeGreaterThanOrEqual(0);
      expect(r.json.at).toBeLessThan(5);
      await expect(request(sim, "POST", `${sim.control}/clock`, { at: 100 })).resolves.toMatchObject({ status: 400 });
      // the endpoint defaults to the scenario's first project
      expect(sim.endpoint).toMatch(/\/api\/projects\/default$/);
    } finally {
      await sim.close();
    }
  });
});
