// The real @azure/ai-agents and @azure/ai-projects (openai) clients, over real TLS sockets, against
// recorded Foundry bodies served by a local HTTPS server: every PollOutcome the monitor relies on.

import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ClassicRunSource } from "../../shared/foundry/classic-run-source.js";
import { FoundryReadError } from "../../shared/foundry/classify-outcome.js";
import { localSimulatorCredential } from "../../shared/foundry/credential.js";
import { ProjectRunSources, UnknownProjectError } from "../../shared/foundry/project-run-sources.js";
import { ResponsesRunSource } from "../../shared/foundry/responses-run-source.js";
import type { PollOutcome, RunRef } from "../../shared/model/run.js";
import { startFixtureServer, type FixtureServer } from "../support/fixture-server.js";
import { sharedDir } from "../support/paths.js";

const fixture = (rel: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(sharedDir(), "fixtures", "foundry", rel), "utf8"));

let server: FixtureServer;
beforeAll(async () => {
  server = await startFixtureServer();
});
afterAll(async () => {
  await server.close();
});

const observed = (o: PollOutcome) => {
  if (o.kind !== "observed") throw new Error(`expected an observation, got ${JSON.stringify(o)}`);
  return o.observation;
};
const requestsTo = (p: string) => server.requests.filter((r) => r.path === p).length;

describe("ClassicRunSource through AgentsClient", () => {
  const project = "/api/projects/p1";
  const source = () => new ClassicRunSource({ endpoint: server.origin + project, credential: localSimulatorCredential, ca: server.ca, timeoutMs: 600 });
  let n = 0;
  /** A fresh run per test, so answers and request counts never mix. */
  const newRun = (): { ref: RunRef; runPath: string; stepsPath: string } => {
    n += 1;
    const ref: RunRef = { project: "p1", api: "classic", threadId: `thread_t${n}`, runId: `run_r${n}` };
    const runPath = `${project}/threads/${ref.threadId}/runs/${ref.runId}`;
    return { ref, runPath, stepsPath: `${runPath}/steps` };
  };
  const runBody = (name: string, ref: RunRef) => ({ ...fixture(`classic/${name}`), id: ref.runId, thread_id: ref.threadId });

  test("an in-progress run with its steps: bearer token, api-version, one page of 100 newest steps", async () => {
    const { ref, runPath, stepsPath } = newRun();
    server.answer("GET", runPath, { body: runBody("run-in_progress.json", ref) });
    server.answer("GET", stepsPath, { body: fixture("classic/run-steps-list.json") });
    const o = observed(await source().poll(ref, { steps: true }));
    expect(o.ref).toEqual(ref);
    expect(o.status).toBe("in_progress");
    expect(o.startedAt).toBe(1749159556_000);
    expect(o.steps?.map((s) => s.type)).toEqual(["tool_calls", "message_creation"]);
    expect(o.lastProgressAt).toBe(1749596943_000);
    expect(o.progressMarker).toBe("2:step_y0UREOEXZ32nqtgyBuVCRmME:completed");
    const run = server.requests.find((r) => r.path === runPath)!;
    expect(run.authorization).toBe("Bearer local");
    expect(run.query.get("api-version")).toBe("v1");
    const steps = server.requests.find((r) => r.path === stepsPath)!;
    expect([steps.query.get("limit"), steps.query.get("order")]).toEqual(["100", "desc"]);
  });

  test("requires_action: pending tool calls, steps read", async () => {
    const { ref, runPath, stepsPath } = newRun();
    server.answer("GET", runPath, { body: runBody("run-requires_action.json", ref) });
    server.answer("GET", stepsPath, { body: fixture("classic/list-empty-page.json") });
    const o = observed(await source().poll(ref, { steps: true }));
    expect(o.requiredAction?.toolCalls).toEqual([{ id: "call_Nc0WYAnka8BG3hz1b7n6kw3L", type: "function", name: "getCurrentDateTime" }]);
    expect(o.progressMarker).toBe("0");
  });

  test("queued and completed runs cost one call even with steps asked for", async () => {
    for (const name of ["run-queued.json", "run-completed.json"]) {
      const { ref, runPath, stepsPath } = newRun();
      server.answer("GET", runPath, { body: runBody(name, ref) });
      const o = observed(await source().poll(ref, { steps: true }));
      expect(o.steps).toBeUndefined();
      expect(requestsTo(stepsPath)).toBe(0);
    }
  });

  test("the recorded function-tool sequence, polled in order", async () => {
    const { ref, runPath } = newRun();
    const bodies = (fixture("classic/poll-sequence-function-tool.json") as unknown as { body: Record<string, unknown> }[]).map((e) => ({ body: { ...e.body, id: ref.runId, thread_id: ref.threadId } }));
    server.answer("GET", runPath, bodies);
    const seen: string[] = [];
    const s = source();
    for (let i = 0; i < bodies.length; i++) seen.push(observed(await s.poll(ref)).status);
    expect(seen).toEqual(["queued", "requires_action", "queued", "completed"]);
  });

  test("404 → not-found", async () => {
    const { ref } = newRun();
    expect(await source().poll(ref)).toEqual({ kind: "not-found" });
  });

  test("429 → throttled with Retry-After honoured, and no SDK retry", async () => {
    const a = newRun();
    server.answer("GET", a.runPath, { status: 429, headers: { "retry-after": "3" }, body: { error: { code: "rate_limit_exceeded", message: "slow down" } } });
    expect(await source().poll(a.ref)).toEqual({ kind: "throttled", retryAfterMs: 3000 });
    expect(requestsTo(a.runPath)).toBe(1);
    const b = newRun();
    server.answer("GET", b.runPath, { status: 429, headers: { "retry-after-ms": "250" } });
    expect(await source().poll(b.ref)).toEqual({ kind: "throttled", retryAfterMs: 250 });
  });

  test("5xx → transient, one request", async () => {
    const { ref, runPath } = newRun();
    server.answer("GET", runPath, { status: 503, body: { error: { code: "server_error", message: "down" } } });
    expect(await source().poll(ref)).toMatchObject({ kind: "transient", cause: "http-5xx" });
    expect(requestsTo(runPath)).toBe(1);
  });

  test("no answer → transient timeout within the configured time", async () => {
    const { ref, runPath } = newRun();
    server.answer("GET", runPath, { hang: true });
    const started = Date.now();
    expect(await source().poll(ref)).toMatchObject({ kind: "transient", cause: "timeout" });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test("the caller's abort ends the read too", async () => {
    const { ref, runPath } = newRun();
    server.answer("GET", runPath, { hang: true });
    const slow = new ClassicRunSource({ endpoint: server.origin + project, credential: localSimulatorCredential, ca: server.ca, timeoutMs: 30_000 });
    const started = Date.now();
    expect(await slow.poll(ref, { signal: AbortSignal.timeout(300) })).toMatchObject({ kind: "transient", cause: "timeout" });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test("200 with a body that is not a run → transient malformed", async () => {
    const cases: { body: unknown; headers?: Record<string, string> }[] = [
      { body: fixture("classic/thread.json") },
      { body: { ...fixture("classic/run-queued.json"), status: "thinking" } },
      { body: "<html>gateway</html>", headers: { "content-type": "application/json" } },
      { body: "<html>gateway</html>", headers: { "content-type": "text/html" } },
      { body: "" },
      { body: { ...fixture("classic/run-queued.json"), id: "run_someone_else" } },
    ];
    for (const c of cases) {
      const { ref, runPath } = newRun();
      server.answer("GET", runPath, c);
      expect(await source().poll(ref)).toMatchObject({ kind: "transient", cause: "malformed" });
    }
  });

  test("steps that fail make the poll fail; steps that 404 leave the run observed without them", async () => {
    const a = newRun();
    server.answer("GET", a.runPath, { body: runBody("run-in_progress.json", a.ref) });
    server.answer("GET", a.stepsPath, { status: 500 });
    expect(await source().poll(a.ref, { steps: true })).toMatchObject({ kind: "transient", cause: "http-5xx" });
    const b = newRun();
    server.answer("GET", b.runPath, { body: runBody("run-in_progress.json", b.ref) });
    const o = observed(await source().poll(b.ref, { steps: true }));
    expect(o.steps).toBeUndefined();
  });

  test("evidence: steps and the final message", async () => {
    const { ref, stepsPath } = newRun();
    server.answer("GET", stepsPath, { body: fixture("classic/run-steps-list.json") });
    server.answer("GET", `${project}/threads/${ref.threadId}/messages`, { body: fixture("classic/messages-list-with-citation.json") });
    expect((await source().listSteps(ref)).map((s) => s.id)).toEqual(["step_oJYuKsWSGT5TYO7LukUwaWnk", "step_y0UREOEXZ32nqtgyBuVCRmME"]);
    const m = await source().finalMessage(ref);
    expect(m?.id).toBe("msg_r9BsOUXCDSTRto75Wh7NiGX1");
    expect(m?.role).toBe("assistant");
    const messages = server.requests.find((r) => r.path.endsWith(`/threads/${ref.threadId}/messages`))!;
    expect(messages.query.get("run_id")).toBe(ref.runId);
  });

  test("evidence reads throw FoundryReadError on Foundry trouble", async () => {
    const { ref, stepsPath } = newRun();
    server.answer("GET", stepsPath, { status: 502 });
    await expect(source().listSteps(ref)).rejects.toBeInstanceOf(FoundryReadError);
  });

  test("a certificate nobody trusts is a network failure, not an observation", async () => {
    const { ref, runPath } = newRun();
    server.answer("GET", runPath, { body: runBody("run-queued.json", ref) });
    const untrusting = new ClassicRunSource({ endpoint: server.origin + project, credential: localSimulatorCredential, timeoutMs: 2000 });
    expect(await untrusting.poll(ref)).toMatchObject({ kind: "transient", cause: "network" });
  });
});

describe("ResponsesRunSource through AIProjectClient.getOpenAIClient()", () => {
  const project = "/api/projects/p2";
  const source = () => new ResponsesRunSource({ endpoint: server.origin + project, credential: localSimulatorCredential, ca: server.ca, timeoutMs: 600 });
  let n = 0;
  const newResponse = (threadId = "") => {
    n += 1;
    const ref: RunRef = { project: "p2", api: "responses", runId: `resp_${n}`, threadId };
    return { ref, path: `${project}/openai/v1/responses/${ref.runId}` };
  };
  const body = (name: string, ref: RunRef) => ({ ...fixture(`responses/${name}`), id: ref.runId });

  test("a completed response: the wire JSON normalized, conversation from the body", async () => {
    const { ref, path: p } = newResponse();
    server.answer("GET", p, { body: body("response-completed.json", ref) });
    const o = observed(await source().poll(ref, { steps: true }));
    expect(o.status).toBe("completed");
    expect(o.ref.threadId).toBe("conv_c2d97b40f305681900piix31Vu8cfA6kszXjS30LSEZg3TzxBC");
    expect(o.usage).toEqual({ promptTokens: 29, completionTokens: 71, totalTokens: 100 });
    expect(o.agentName).toBe("my-agent-basic");
    expect(o.finalMessageId).toBe("msg_c2d97b40f30568190069a88a79aca4819095fb22e0eeb43f93");
    expect(server.requests.filter((r) => r.path === p).map((r) => r.authorization)).toEqual(["Bearer local"]);
  });

  test("an in-progress background response; the registered conversation wins", async () => {
    const { ref, path: p } = newResponse("conv_registered");
    server.answer("GET", p, { body: { ...body("response-completed.json", ref), status: "in_progress", background: true, output: [], completed_at: null } });
    const o = observed(await source().poll(ref));
    expect(o.status).toBe("in_progress");
    expect(o.ref).toEqual(ref);
    expect(o.progressMarker).toBe("0");
  });

  test("404 → not-found", async () => {
    const { ref, path: p } = newResponse();
    server.answer("GET", p, { status: 404, body: { error: { code: "not_found", message: "Response not found" } } });
    expect(await source().poll(ref)).toEqual({ kind: "not-found" });
  });

  test("429 → throttled with Retry-After (seconds or HTTP date), no client retry", async () => {
    const a = newResponse();
    server.answer("GET", a.path, { status: 429, headers: { "retry-after": "2" }, body: { error: { code: "rate_limit", message: "slow" } } });
    expect(await source().poll(a.ref)).toEqual({ kind: "throttled", retryAfterMs: 2000 });
    expect(requestsTo(a.path)).toBe(1);
    const b = newResponse();
    server.answer("GET", b.path, { status: 429, headers: { "retry-after": new Date(Date.now() + 60_000).toUTCString() } });
    const t = await source().poll(b.ref);
    expect(t.kind).toBe("throttled");
    expect(t.kind === "throttled" && t.retryAfterMs).toBeGreaterThan(55_000);
  });

  test("5xx → transient, one request", async () => {
    const { ref, path: p } = newResponse();
    server.answer("GET", p, { status: 500, body: { error: { code: "server_error", message: "oops" } } });
    expect(await source().poll(ref)).toMatchObject({ kind: "transient", cause: "http-5xx" });
    expect(requestsTo(p)).toBe(1);
  });

  test("no answer → transient timeout", async () => {
    const { ref, path: p } = newResponse();
    server.answer("GET", p, { hang: true });
    const started = Date.now();
    expect(await source().poll(ref)).toMatchObject({ kind: "transient", cause: "timeout" });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test("200 with something that is not a response → transient malformed", async () => {
    const cases: { body: unknown; headers?: Record<string, string> }[] = [
      { body: fixture("responses/conversation.json") },
      { body: { ...fixture("responses/response-completed.json"), status: "requires_action" } },
      { body: "{not json", headers: { "content-type": "application/json" } },
      { body: "<html>gateway</html>", headers: { "content-type": "text/html" } },
    ];
    for (const c of cases) {
      const { ref, path: p } = newResponse();
      server.answer("GET", p, c);
      const outcome = await source().poll(ref);
      expect({ sent: c.body, outcome }).toMatchObject({ sent: c.body, outcome: { kind: "transient", cause: "malformed" } });
    }
  });

  test("evidence: output items and the final message", async () => {
    const { ref, path: p } = newResponse();
    server.answer("GET", p, { body: body("response-completed-after-function-output.json", ref) });
    expect((await source().listSteps(ref)).map((s) => s.type)).toEqual(["message"]);
    expect((await source().finalMessage(ref))?.id).toBe("msg_062784c370dc75e50069a88a8112748194b0511ce973b9e259");
    const gone = newResponse();
    expect(await source().finalMessage(gone.ref)).toBeUndefined();
  });

  test("without the simulator's certificate the client refuses the server", async () => {
    const { ref, path: p } = newResponse();
    server.answer("GET", p, { body: body("response-completed.json", ref) });
    const untrusting = new ResponsesRunSource({ endpoint: server.origin + project, credential: localSimulatorCredential, timeoutMs: 2000 });
    expect(await untrusting.poll(ref)).toMatchObject({ kind: "transient", cause: "network" });
    expect(requestsTo(p)).toBe(0);
  });
});

describe("ProjectRunSources routes by project and API", () => {
  const sources = () =>
    new ProjectRunSources(
      [
        { name: "p1", endpoint: `${server.origin}/api/projects/p1`, api: "classic", discovery: false },
        { name: "p2", endpoint: `${server.origin}/api/projects/p2`, api: "both", discovery: false },
      ],
      { credential: localSimulatorCredential, ca: server.ca, timeoutMs: 600 },
    );

  test("each ref reaches its own project's endpoint through the right client", async () => {
    const classic: RunRef = { project: "p1", api: "classic", threadId: "thread_route", runId: "run_route" };
    const v2: RunRef = { project: "p2", api: "responses", threadId: "", runId: "resp_route" };
    server.answer("GET", "/api/projects/p1/threads/thread_route/runs/run_route", { body: { ...fixture("classic/run-completed.json"), id: "run_route", thread_id: "thread_route" } });
    server.answer("GET", "/api/projects/p2/openai/v1/responses/resp_route", { body: { ...fixture("responses/response-completed.json"), id: "resp_route" } });
    const s = sources();
    expect(observed(await s.poll(classic)).ref.api).toBe("classic");
    expect(observed(await s.poll(v2)).ref.api).toBe("responses");
    expect(s.sourceFor(classic)).toBe(s.sourceFor(classic));
  });

  test("an unknown project or an API the project does not use is named in the error", async () => {
    const s = sources();
    await expect(s.poll({ project: "nope", api: "classic", threadId: "t", runId: "r" })).rejects.toThrow(UnknownProjectError);
    await expect(s.poll({ project: "nope", api: "classic", threadId: "t", runId: "r" })).rejects.toThrow(/"nope"/);
    await expect(s.poll({ project: "p1", api: "responses", threadId: "", runId: "r" })).rejects.toThrow(/"p1".*classic/);
  });
});
