// register-run through its exported Functions handlers, against Azurite, the HTTPS Foundry
// simulator (real SDK clients) and the local Service Bus broker: the HTTP answers the issue asks
// for, and the queue path through the local host's retry/poison semantics on Azurite queues.
import functions, { type HttpResponseInit } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { registerRunHttp, registerRunQueue } from "../../functions/register-run.js";
import { encodeQueueMessage, LocalFunctionsHost } from "../../local/functions-host.js";
import { contextFor, scenarioOf, startTrackingStack, type TrackingStack } from "./tracking-stack.js";

const classic = (runId: string, threadId: string, project?: string) => ({
  api: "classic",
  ...(project ? { project } : {}),
  runId,
  threadId,
  agentId: "asst_helper",
  timeline: [
    { at: 0, status: "queued" },
    { at: 20, status: "in_progress" },
  ],
});
const scenario = scenarioOf([
  classic("run_alpha1", "thread_alpha1", "alpha"),
  classic("run_queued1", "thread_queued1", "alpha"),
  { api: "responses", project: "alpha", runId: "resp_alpha2", threadId: "conv_alpha2", agentId: "helper-v2", timeline: [{ at: 0, status: "in_progress" }] },
  ...[1, 2, 3, 4, 5].map((i) => classic(`run_beta${i}`, `thread_beta${i}`, "beta")),
]);

let stack: TrackingStack;
beforeAll(async () => {
  stack = await startTrackingStack({ scenario, projects: ["alpha", "beta"], env: { MAX_ACTIVE_RUNS_PER_PROJECT: "4" } });
  stack.at(1);
}, 30_000);
afterAll(async () => {
  await stack?.stop();
});

async function post(body: unknown): Promise<HttpResponseInit & { jsonBody: Record<string, unknown> }> {
  const request = new functions.HttpRequest({ method: "POST", url: "http://127.0.0.1/api/runs", body: { string: typeof body === "string" ? body : JSON.stringify(body) } });
  const response = await registerRunHttp(request, contextFor("register-run"));
  return response as HttpResponseInit & { jsonBody: Record<string, unknown> };
}
const problemsOf = (r: { jsonBody: Record<string, unknown> }): string[] => (r.jsonBody.error as { problems: string[] }).problems;

describe("POST /api/runs", () => {
  test("201 for a new run: stored with its first status, session and owner tags; 200 for the same project + runId again", async () => {
    const body = { project: "alpha", runId: "run_alpha1", threadId: "thread_alpha1", session: "sess-42", tags: { owner: "payments-team", tier: "gold" } };
    const first = await post(body);
    expect(first.status).toBe(201);
    expect(first.jsonBody).toMatchObject({ project: "alpha", runId: "run_alpha1", status: "queued" });
    const stored = await stack.services.store.getHead("alpha", "run_alpha1");
    expect(stored?.head).toMatchObject({ session: "sess-42", tags: { owner: "payments-team", tier: "gold" }, agentId: "asst_helper", status: "queued", seq: 1, terminal: false });

    const again = await post(body);
    expect(again.status).toBe(200);
    expect(again.jsonBody).toMatchObject({ project: "alpha", runId: "run_alpha1", status: "queued" });
    expect(await stack.services.store.listTransitions("alpha", "run_alpha1")).toEqual([expect.objectContaining({ seq: 1, from: null, to: "queued" })]);
    expect(stack.events.registeredRuns.filter((r) => r === "run_alpha1")).toHaveLength(1);
  });

  test("a v2 response registers without a thread", async () => {
    const r = await post({ project: "alpha", api: "responses", runId: "resp_alpha2" });
    expect(r.status).toBe(201);
    expect(r.jsonBody.status).toBe("in_progress");
  });

  test("400 with one reason per field for missing and malformed IDs", async () => {
    const r = await post({ runId: "run with spaces", api: "classic", session: "s".repeat(300) });
    expect(r.status).toBe(400);
    const problems = problemsOf(r);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^project: is required/),
        expect.stringMatching(/^runId: expected a Foundry ID/),
        expect.stringMatching(/^session: expected a session ID of at most 256/),
        "threadId: is required for classic runs",
      ]),
    );
    // one line per field, no field named twice
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["project", "runId", "session", "threadId"]);

    const noThread = await post({ project: "alpha", runId: "run_alpha1" });
    expect(noThread.status).toBe(400);
    expect(problemsOf(noThread)).toEqual(["threadId: is required for classic runs"]);

    const unknownField = await post({ project: "alpha", runId: "run_alpha1", threadId: "thread_alpha1", colour: "red" });
    expect(unknownField.status).toBe(400);
    expect(problemsOf(unknownField).join("\n")).toMatch(/colour/);
  });

  test("400 for a body that is not JSON", async () => {
    const r = await post("{not json");
    expect(r.status).toBe(400);
    expect(problemsOf(r)).toEqual(["(body): expected a JSON object"]);
  });

  test("400 for an unknown project, naming the configured ones", async () => {
    const r = await post({ project: "gamma", runId: "run_alpha1", threadId: "thread_alpha1" });
    expect(r.status).toBe(400);
    expect(r.jsonBody.error).toMatchObject({ code: "unknown-project" });
    expect(problemsOf(r)).toEqual([expect.stringMatching(/^project: unknown project "gamma"; configured: alpha, beta$/)]);
  });

  test("400 for oversized tags: too many, a name or a value too long", async () => {
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, "v"]));
    const tooMany = await post({ project: "alpha", runId: "run_alpha9", threadId: "thread_alpha9", tags: many });
    expect(tooMany.status).toBe(400);
    expect(problemsOf(tooMany)).toEqual(["tags: expected at most 20 tags"]);

    const longValue = await post({ project: "alpha", runId: "run_alpha9", threadId: "thread_alpha9", tags: { note: "x".repeat(257) } });
    expect(longValue.status).toBe(400);
    expect(problemsOf(longValue)).toEqual(["tags.note: expected tag values of at most 256 characters"]);

    const longName = await post({ project: "alpha", runId: "run_alpha9", threadId: "thread_alpha9", tags: { ["n".repeat(65)]: "v" } });
    expect(longName.status).toBe(400);
    expect(problemsOf(longName)).toEqual([`tags.${"n".repeat(65)}: expected tag names of letters, digits, _ . - (1–64 characters)`]);
    expect(await stack.services.store.getHead("alpha", "run_alpha9")).toBeUndefined();
  });

  test("400 naming the reason for a run Foundry answers 404 for, and nothing stored", async () => {
    const r = await post({ project: "alpha", runId: "run_ghost", threadId: "thread_alpha1" });
    expect(r.status).toBe(400);
    expect(r.jsonBody.error).toMatchObject({ code: "not-found" });
    expect(problemsOf(r)).toEqual(["runId: Foundry project alpha has no run run_ghost on thread thread_alpha1"]);
    expect(await stack.services.store.getHead("alpha", "run_ghost")).toBeUndefined();
  });

  test("429 naming the cap once a project has MAX_ACTIVE_RUNS_PER_PROJECT active runs; repeats of registered runs still 200", async () => {
    for (const i of [1, 2, 3, 4]) expect((await post({ project: "beta", runId: `run_beta${i}`, threadId: `thread_beta${i}` })).status).toBe(201);
    const over = await post({ project: "beta", runId: "run_beta5", threadId: "thread_beta5" });
    expect(over.status).toBe(429);
    expect(over.jsonBody.error).toMatchObject({ code: "over-capacity" });
    expect(problemsOf(over)).toEqual(["project beta already has 4 active runs; the cap MAX_ACTIVE_RUNS_PER_PROJECT is 4"]);
    expect(await stack.services.store.getHead("beta", "run_beta5")).toBeUndefined();
    expect((await post({ project: "beta", runId: "run_beta2", threadId: "thread_beta2" })).status).toBe(200);
    expect(await stack.services.store.countActive("beta")).toBe(4);
  });
});

describe("run-registrations queue through the local Functions host", () => {
  let host: LocalFunctionsHost;
  const hostLog: string[] = [];
  beforeAll(async () => {
    host = new LocalFunctionsHost({ connectionString: stack.azurite.connectionString, maxDequeueCount: 2, visibilityTimeoutSeconds: 1, log: (l) => hostLog.push(l) });
    await host.ensureQueues(["run-registrations"]);
    host.queueTrigger("register-run-queue", "run-registrations", registerRunQueue);
  });
  afterAll(async () => {
    await host?.stop();
  });

  test("a bad message ends in run-registrations-poison after maxDequeueCount with its reason logged; a good one after it is registered", async () => {
    const bad = encodeQueueMessage({ project: "alpha", runId: "x", threadId: "thread_alpha1" });
    const ghost = encodeQueueMessage({ project: "alpha", runId: "run_ghost", threadId: "thread_alpha1" });
    const good = encodeQueueMessage({ project: "alpha", runId: "run_queued1", threadId: "thread_queued1", session: "sess-q" });
    await host.queue("run-registrations").sendMessage(bad);
    await host.queue("run-registrations").sendMessage(ghost);
    await host.queue("run-registrations").sendMessage(good);

    const poison = host.queue("run-registrations-poison");
    const deadline = Date.now() + 20_000;
    let poisoned: string[] = [];
    while (Date.now() < deadline) {
      poisoned = (await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText);
      if (poisoned.length >= 2 && (await stack.services.store.getHead("alpha", "run_queued1"))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(poisoned.sort()).toEqual([bad, ghost].sort());
    expect((await stack.services.store.getHead("alpha", "run_queued1"))?.head).toMatchObject({ session: "sess-q", status: "queued" });

    const moved = hostLog.filter((l) => /moved to run-registrations-poison after 2 attempts/.test(l));
    expect(moved).toHaveLength(2);
    expect(moved.join("\n")).toMatch(/runId: expected a Foundry ID/);
    expect(moved.join("\n")).toMatch(/\(not-found\): runId: Foundry project alpha has no run run_ghost/);
    // the source queue is empty: nothing left to retry
    expect((await host.queue("run-registrations").peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toHaveLength(0);
  }, 30_000);
});
