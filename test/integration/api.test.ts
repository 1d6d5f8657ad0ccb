// The API's exported Functions handler over a MemoryRunStore filled the way the tracker fills it.
import { beforeAll, describe, expect, test } from "@jest/globals";
import functions from "@azure/functions";
import { createApiHttpHandler, type HttpHandler } from "../../functions/api.js";
import type { ApiDeps, TicketLedgerReader } from "../../shared/api/types.js";
import { MemoryRunStore } from "../../shared/store/memory-store.js";
import { BULK_RUNS, IDS, T0, fillStore } from "./api-fixtures.js";

const BASE = "https://func-runmon.example.net";
const NOW = T0 + 4 * 3_600_000;

function principal(roles: string[]): string {
  const claims = [{ typ: "name", val: "reviewer@contoso.com" }, ...roles.map((val) => ({ typ: "roles", val }))];
  return Buffer.from(JSON.stringify({ auth_typ: "aad", name_typ: "name", role_typ: "roles", claims })).toString("base64");
}
const READER = principal(["Reader"]);

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(handler: HttpHandler, path: string, opts: { method?: string; principal?: string | null; query?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(path, BASE);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = {};
  const p = opts.principal === undefined ? READER : opts.principal;
  if (p !== null) headers["x-ms-client-principal"] = p;
  const request = new functions.HttpRequest({ method: opts.method ?? "GET", url: url.toString(), headers });
  const context = new functions.InvocationContext({ invocationId: "test", functionName: "api", logHandler: () => {} });
  const res = await handler(request, context);
  const text = typeof res.body === "string" ? res.body : "";
  const hs: Record<string, string> = {};
  new Headers(res.headers as ConstructorParameters<typeof Headers>[0]).forEach((v, k) => (hs[k] = v));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status ?? 200, headers: hs, text, json };
}

let store: MemoryRunStore;
let api: HttpHandler;
let deps: ApiDeps;

beforeAll(async () => {
  store = new MemoryRunStore();
  await fillStore(store);
  deps = { store, authMode: "principal", now: () => NOW };
  api = createApiHttpHandler(deps);
});

describe("search", () => {
  test("finds a run by each kind of ID", async () => {
    const byRun = await call(api, "/api/runs", { query: { runId: IDS.failed.runId } });
    expect(byRun.status).toBe(200);
    expect(byRun.json.runs.map((r: { runId: string }) => r.runId)).toEqual([IDS.failed.runId]);
    expect(byRun.json.runs[0]).toMatchObject({ project: "prod", threadId: IDS.failed.threadId, agentId: "asst_payments", status: "failed", reasons: ["failed"], owner: "payments-team" });

    const byConversation = await call(api, "/api/runs", { query: { threadId: IDS.response.threadId } });
    expect(byConversation.json.runs.map((r: { runId: string }) => r.runId)).toEqual([IDS.response.runId]);

    const bySession = await call(api, "/api/runs", { query: { session: IDS.stalled.session } });
    expect(bySession.json.runs.map((r: { runId: string }) => r.runId)).toEqual([IDS.stalled.runId]);

    const byAgent = await call(api, "/api/runs", { query: { agentId: "asst_support" } });
    expect(byAgent.json.runs.map((r: { runId: string }) => r.runId)).toEqual([IDS.waiting.runId, IDS.stalled.runId]);
  });

  test("a thread with two runs answers both, newest first", async () => {
    const r = await call(api, "/api/runs", { query: { threadId: IDS.failed.threadId } });
    expect(r.json.runs.map((x: { runId: string }) => x.runId)).toEqual([IDS.retry.runId, IDS.failed.runId]);
    expect(r.headers["cache-control"]).toBe("no-store");
  });

  test("filters by owner, status, reason and time range", async () => {
    const owner = await call(api, "/api/runs", { query: { owner: "support-team" } });
    expect(owner.json.runs.map((x: { runId: string }) => x.runId)).toEqual([IDS.waiting.runId, IDS.stalled.runId]);
    const waiting = await call(api, "/api/runs", { query: { project: "prod", status: "requires_action" } });
    expect(waiting.json.runs.map((x: { runId: string }) => x.runId)).toEqual([IDS.waiting.runId]);
    const stalled = await call(api, "/api/runs", { query: { reason: "stalled-in-progress" } });
    expect(stalled.json.runs.map((x: { runId: string }) => x.runId)).toEqual([IDS.stalled.runId]);
    const window = await call(api, "/api/runs", { query: { from: new Date(T0 + 5 * 60_000).toISOString(), to: new Date(T0 + 35 * 60_000).toISOString() } });
    expect(window.json.runs.map((x: { runId: string }) => x.runId)).toEqual([IDS.response.runId, IDS.stalled.runId, IDS.retry.runId]);
  });

  test("pages with continuation tokens, newest first, without gaps or repeats", async () => {
    const seen: string[] = [];
    const times: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await call(api, "/api/runs", { query: { project: "bulk", limit: "50", ...(token ? { continuationToken: token } : {}) } });
      expect(r.status).toBe(200);
      pages++;
      seen.push(...r.json.runs.map((x: { runId: string }) => x.runId));
      times.push(...r.json.runs.map((x: { registeredAt: string }) => x.registeredAt));
      token = r.json.continuationToken;
    } while (token && pages < 10);
    expect(pages).toBe(Math.ceil(BULK_RUNS / 50));
    expect(seen).toHaveLength(BULK_RUNS);
    expect(new Set(seen).size).toBe(BULK_RUNS);
    expect(seen[0]).toBe(`run_Bulk${String(BULK_RUNS - 1).padStart(4, "0")}`);
    expect([...times].sort().reverse()).toEqual(times);
  });
});

describe("one run", () => {
  test("head answers the run's details with ISO times", async () => {
    const r = await call(api, `/api/runs/prod/${IDS.failed.runId}`);
    expect(r.status).toBe(200);
    expect(r.json.run).toMatchObject({
      runId: IDS.failed.runId,
      status: "failed",
      model: "gpt-4o",
      timestamps: { failed: new Date(T0 + 130_000).toISOString() },
      usage: { totalTokens: 2045 },
      lastError: { code: "server_error" },
      episodes: { failed: { episode: 1, active: true } },
    });
    expect(r.json.run).not.toHaveProperty("shard");
    expect(r.json.run).not.toHaveProperty("pendingOutbox");
  });

  test("an unknown run is a 404 with the error body", async () => {
    const r = await call(api, "/api/runs/prod/run_Nope");
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: { code: "not-found", message: expect.stringContaining("run_Nope") } });
    expect((await call(api, "/api/runs/prod/run_Nope/timeline")).status).toBe(404);
    expect((await call(api, "/api/runs/prod/run_Nope/evidence")).status).toBe(404);
  });

  test("timeline merges transitions, steps, escalations and recoveries in time order", async () => {
    const r = await call(api, `/api/runs/prod/${IDS.stalled.runId}/timeline`);
    expect(r.status).toBe(200);
    const kinds = r.json.events.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(["registered", "transition", "transition", "escalation", "step", "step", "recovered", "transition"]);
    expect(r.json.transitions.map((t: { from: string | null; to: string }) => `${t.from}->${t.to}`)).toEqual(["null->queued", "queued->in_progress", "in_progress->completed"]);
    expect(r.json.escalations.map((e: { kind: string; reason: string }) => `${e.kind}:${e.reason}`)).toEqual(["escalation:stalled-in-progress", "recovered:stalled-in-progress"]);
    expect(r.json.steps[0].toolCalls[0].name).toBe("kb_lookup");
    expect(r.json.tickets).toBeNull();
    const at = r.json.events.map((e: { at: string }) => e.at);
    expect([...at].sort()).toEqual(at);
  });

  test("timeline lists tickets when a ledger is connected", async () => {
    const ledger: TicketLedgerReader = {
      async ticketsForRun(project, runId) {
        return project === "prod" && runId === IDS.failed.runId ? [{ ticketId: runId, sink: "jira", externalId: "OPS-17", url: "https://contoso.atlassian.net/browse/OPS-17", reason: "failed", action: "opened", at: T0 + 133_000 }] : [];
      },
    };
    const withLedger = createApiHttpHandler({ ...deps, tickets: ledger });
    const r = await call(withLedger, `/api/runs/prod/${IDS.failed.runId}/timeline`);
    expect(r.json.tickets).toEqual([{ ticketId: IDS.failed.runId, sink: "jira", externalId: "OPS-17", url: "https://contoso.atlassian.net/browse/OPS-17", reason: "failed", action: "opened", at: new Date(T0 + 133_000).toISOString() }]);
    expect(r.json.events.at(-1)).toMatchObject({ kind: "ticket", ticketId: IDS.failed.runId, url: "https://contoso.atlassian.net/browse/OPS-17" });
    const none = await call(withLedger, `/api/runs/prod/${IDS.stalled.runId}/timeline`);
    expect(none.json.tickets).toEqual([]);
  });

  test("evidence as JSON is the sanitized ticket bundle with links", async () => {
    const r = await call(api, `/api/runs/prod/${IDS.failed.runId}/evidence`, { query: { format: "json" } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      schema: "foundry-run-monitor/evidence@1",
      generatedAt: new Date(NOW).toISOString(),
      run: { runId: IDS.failed.runId, threadId: IDS.failed.threadId, agentId: "asst_payments", status: "failed", session: "sess-42" },
      error: { code: "server_error" },
      usage: { promptTokens: 1834, completionTokens: 211, totalTokens: 2045 },
      finalMessage: { id: "msg_Final0001" },
      escalations: [{ reason: "failed", episode: 1 }],
      links: { dashboard: `${BASE}/api/dashboard/runs/prod/${IDS.failed.runId}`, api: `${BASE}/api/runs/prod/${IDS.failed.runId}/evidence` },
    });
    expect(r.json.toolCalls).toEqual([expect.objectContaining({ name: "crm_search", status: "failed", durationMs: 7_250 })]);
    expect(r.text).not.toContain("jane.doe@contoso.com");
  });

  test("evidence as Markdown reads like the ticket", async () => {
    const r = await call(api, `/api/runs/prod/${IDS.failed.runId}/evidence`, { query: { format: "md" } });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/markdown/);
    for (const s of [IDS.failed.runId, IDS.failed.threadId, "asst_payments", "`failed`", "crm\\_search", "### Status timeline"]) expect(r.text).toContain(s);
    expect(r.text).not.toContain("jane.doe@contoso.com");
  });

  test("evidence of a run that never escalated says so instead of naming a reason", async () => {
    const r = await call(api, `/api/runs/staging/${IDS.response.runId}/evidence`, { query: { format: "md" } });
    expect(r.status).toBe(200);
    expect(r.text).toContain("It has not escalated.");
    expect(r.text).not.toContain("was escalated as");
    expect(r.text).not.toContain("**Reason:**");
    expect(r.text).toContain("conv_Gamma0004");
  });
});

describe("stats", () => {
  test("counts runs by status and reason per bucket", async () => {
    const r = await call(api, "/api/stats", { query: { from: new Date(T0).toISOString(), to: new Date(T0 + 4 * 3_600_000 - 1).toISOString(), bucket: "1h" } });
    expect(r.status).toBe(200);
    expect(r.json.buckets).toHaveLength(4);
    expect(r.json.buckets[0]).toEqual({ start: new Date(T0).toISOString(), total: 5, byStatus: { failed: 1, completed: 3, requires_action: 1 }, byReason: { failed: 1, "stalled-in-progress": 1, "stalled-requires-action": 1 } });
    expect(r.json.totals.runs).toBe(5 + BULK_RUNS);
    expect(r.json.totals.byReason.failed).toBe(1 + BULK_RUNS / 10);
    expect(r.json.truncated).toBe(false);
  });

  test("defaults to the last 24 hours before now", async () => {
    const r = await call(api, "/api/stats");
    expect(r.status).toBe(200);
    expect(r.json.to).toBe(new Date(NOW).toISOString());
    expect(r.json.from).toBe(new Date(NOW - 86_400_000).toISOString());
  });
});

describe("bad requests", () => {
  test.each([
    [{ thread: "thread_x" }, "thread: unknown parameter"],
    [{ status: "stuck" }, "status: expected one of queued"],
    [{ reason: "slow" }, "reason: expected one of failed"],
    [{ from: "yesterday" }, "from: expected an ISO-8601 time"],
    [{ to: "2026-13-45" }, "to: expected an ISO-8601 time"],
    [{ limit: "0" }, "limit: expected an integer from 1 to 200"],
    [{ limit: "201" }, "limit: expected an integer from 1 to 200"],
    [{ continuationToken: "not a token!" }, "continuationToken: not a token"],
    [{ continuationToken: "bm90LWpzb24" }, "continuationToken: not a token"],
  ])("%j → 400", async (query, problem) => {
    const r = await call(api, "/api/runs", { query: query as Record<string, string> });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("bad-request");
    expect(r.json.error.problems.join("\n")).toContain(problem);
  });

  test("all problems at once, and the function key's `code` is not one", async () => {
    const r = await call(api, "/api/runs", { query: { status: "stuck", limit: "x", code: "the-key" } });
    expect(r.status).toBe(400);
    expect(r.json.error.problems).toHaveLength(2);
  });

  test("evidence format, stats bucket and unknown routes", async () => {
    const fmt = await call(api, `/api/runs/prod/${IDS.failed.runId}/evidence`, { query: { format: "pdf" } });
    expect(fmt.status).toBe(400);
    expect(fmt.json.error.problems).toEqual(['format: expected json or md, got "pdf"']);
    const bucket = await call(api, "/api/stats", { query: { bucket: "1w" } });
    expect(bucket.status).toBe(400);
    const tooMany = await call(api, "/api/stats", { query: { from: "2026-01-01", to: "2026-03-01", bucket: "5m" } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.problems[0]).toMatch(/^bucket: /);
    const unknown = await call(api, "/api/runs/prod/run_x/steps");
    expect(unknown.status).toBe(404);
  });
});

describe("authorization", () => {
  test("no principal → 401", async () => {
    const r = await call(api, "/api/runs", { principal: null, query: { runId: IDS.failed.runId } });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe("unauthenticated");
  });

  test("a header that is not a principal → 401", async () => {
    const r = await call(api, "/api/runs", { principal: "%%%not-base64-json" });
    expect(r.status).toBe(401);
  });

  test("a principal without the role → 403", async () => {
    const r = await call(api, `/api/runs/prod/${IDS.failed.runId}/evidence`, { principal: principal(["Viewer"]) });
    expect(r.status).toBe(403);
    expect(r.json.error).toMatchObject({ code: "forbidden", message: expect.stringContaining("Reader") });
    expect(r.text).not.toContain(IDS.failed.threadId);
  });

  test("Reader and Operator may read", async () => {
    expect((await call(api, `/api/runs/prod/${IDS.failed.runId}`, { principal: READER })).status).toBe(200);
    expect((await call(api, `/api/runs/prod/${IDS.failed.runId}`, { principal: principal(["Operator"]) })).status).toBe(200);
  });

  test("changing state needs Operator (and nothing changes state yet)", async () => {
    const asReader = await call(api, `/api/runs/prod/${IDS.failed.runId}`, { method: "POST" });
    expect(asReader.status).toBe(403);
    expect(asReader.json.error.message).toContain("Operator");
    const asOperator = await call(api, `/api/runs/prod/${IDS.failed.runId}`, { method: "POST", principal: principal(["Operator"]) });
    expect(asOperator.status).toBe(405);
    expect(asOperator.headers.allow).toBe("GET");
  });

  test("local-open lets the local dashboard in without a principal", async () => {
    const open = createApiHttpHandler({ ...deps, authMode: "local-open" });
    expect((await call(open, "/api/runs", { principal: null })).status).toBe(200);
  });

  test("a misconfigured auth mode refuses every call with 500", async () => {
    const broken = createApiHttpHandler(async () => {
      throw new Error("API_AUTH_MODE: local-open is refused in Azure (WEBSITE_SITE_NAME is set); remove the setting");
    });
    const r = await call(broken, "/api/runs");
    expect(r.status).toBe(500);
    expect(r.json.error).toMatchObject({ code: "misconfigured", message: expect.stringContaining("API_AUTH_MODE") });
  });
});
