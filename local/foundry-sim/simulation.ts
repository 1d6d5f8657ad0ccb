// The Foundry simulator's core: answers one project's REST requests at a given scenario second.
// Pure and synchronous (time is an argument), so `simulate --stack memory` calls it in-process on a
// virtual clock and server.ts puts the same object behind HTTPS.

import type { FaultKind, Scenario, TimelineEntry } from "../scenario/schema.js";
import { DEFAULT_PROJECT } from "../scenario/schema.js";
import { assistantBody, classicFinalMessage, classicRunBody, classicStepBody, threadBody } from "./classic-bodies.js";
import { RateLimit, pickFault } from "./faults.js";
import { stableId, uniform } from "./prng.js";
import { conversationBody, responseBody, responseOutputItems } from "./response-bodies.js";
import type { RunView } from "./run-view.js";
import { isActive, isVisible, viewRun } from "./run-view.js";
import type { SimRun } from "./sim-run.js";
import { simRunFrom, stepId } from "./sim-run.js";

export interface SimRequest {
  method: string;
  /** Relative to the project endpoint: `/threads/{t}/runs/{r}`, `/openai/v1/responses/{id}`… */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  /** A JSON value, or a string sent as-is (a malformed body is truncated JSON text). */
  body?: unknown;
  /** "timeout": the server must not answer at all (an in-process caller treats it as its own timeout). */
  fault?: "timeout";
}

export type RequestKind =
  | "run.get"
  | "runs.list"
  | "run.create"
  | "run.cancel"
  | "steps.list"
  | "step.get"
  | "messages.list"
  | "thread.get"
  | "threads.list"
  | "thread.create"
  | "assistant.get"
  | "response.get"
  | "response.cancel"
  | "conversation.get"
  | "conversation.items"
  | "unknown";

export interface SimStats {
  requests: Partial<Record<RequestKind, number>>;
  /** Injected faults and rate-limit refusals served. */
  faults: Partial<Record<FaultKind | "rateLimited", number>>;
}

export interface RunSnapshot {
  project: string;
  api: "classic" | "responses";
  runId: string;
  threadId: string;
  agentId: string;
  /** Undefined when Foundry would answer 404 (not created yet, or vanished). */
  status?: string;
  vanished: boolean;
}

export interface Simulation {
  /** The project served; undefined = every run of the scenario, whatever its project. */
  readonly project: string | undefined;
  handle(req: SimRequest, atSeconds: number, realNowMs?: number): SimResponse;
  /** Every run of this project as Foundry shows it at `atSeconds`. */
  runsAt(atSeconds: number): RunSnapshot[];
  stats(): SimStats;
}

export interface SimulationOptions {
  seed?: number;
  /** Serve only this project's runs (see servesProject). Without it, every run is served. */
  project?: string;
}

/** A cancelled classic run stays `cancelling` this long before it is `cancelled`. */
export const CANCEL_SECONDS = 3;
/** A run created through the API: queued, then in progress, a message, completed. */
const CREATED_RUN_PLAN = { startAfter: 1, messageAfter: 3, completeAfter: 4 };
const CREATED_RUN_REPLY = "This is a simulated reply.";

const JSON_HEADERS = { "content-type": "application/json" };
const ok = (body: unknown): SimResponse => ({ status: 200, headers: { ...JSON_HEADERS }, body });
const error = (status: number, code: string, message: string, headers: Record<string, string> = {}): SimResponse => ({
  status,
  headers: { ...JSON_HEADERS, ...headers },
  body: { error: { code, message } },
});
const notFound = (what: string, id: string) => error(404, "not_found", `No ${what} found with id '${id}'.`);

/**
 * Runs without a `project` serve under any project name the scenario does not use itself, so a
 * single-project scenario answers at whatever `--project` names.
 */
export function servesProject(scenario: Scenario, runProject: string, project: string): boolean {
  if (runProject === project) return true;
  return runProject === DEFAULT_PROJECT && !scenario.runs.some((r) => r.project === project);
}

export function createSimulation(scenario: Scenario, options: SimulationOptions = {}): Simulation {
  const seed = options.seed ?? 1;
  const project = options.project;
  const epoch = (at: number) => Math.floor(scenario.startEpochSeconds + at);
  const faults = scenario.foundry.faults;
  const rateLimit = scenario.foundry.rateLimitPerSecond ? new RateLimit(scenario.foundry.rateLimitPerSecond) : undefined;

  const runs = new Map<string, SimRun>();
  for (const r of scenario.runs) if (project === undefined || servesProject(scenario, r.project, project)) runs.set(r.runId, simRunFrom(r));
  // threads and conversations exist from second 0 (the app makes them before it starts runs)
  const threads = new Map<string, number>();
  const conversations = new Map<string, number>();
  for (const r of runs.values()) {
    if (r.api === "classic") threads.set(r.threadId, 0);
    else if (r.threadId) conversations.set(r.threadId, 0);
  }
  const assistants = new Map<string, string>();
  for (const r of runs.values()) if (r.api === "classic" && !assistants.has(r.agentId)) assistants.set(r.agentId, r.model);

  const stats: SimStats = { requests: {}, faults: {} };
  const readsPerRun = new Map<string, number>();
  let created = 0;

  const view = (r: SimRun, at: number): RunView => viewRun(r.timeline, at);
  const classicRun = (threadId: string, runId: string) => {
    const r = runs.get(runId);
    return r && r.api === "classic" && r.threadId === threadId ? r : undefined;
  };
  const runsOfThread = (threadId: string, api: SimRun["api"]) => [...runs.values()].filter((r) => r.api === api && r.threadId === threadId);

  function injectFault(key: string, at: number): SimResponse | undefined {
    if (!faults.length) return undefined;
    const n = readsPerRun.get(key) ?? 0;
    readsPerRun.set(key, n + 1);
    const kind = pickFault(faults, at, uniform(seed, "fault", key, n));
    if (!kind) return undefined;
    stats.faults[kind] = (stats.faults[kind] ?? 0) + 1;
    switch (kind) {
      case "http500":
        return error(500, "server_error", "The server had an error while processing your request.");
      case "http429":
        return error(429, "rate_limit_exceeded", "Rate limit is exceeded. Try again in 1 seconds.", { "retry-after": "1" });
      case "timeout":
        return { status: 504, headers: {}, fault: "timeout" };
      case "malformed":
        // half the time JSON that is not a run, half the time a body cut off mid-way
        return uniform(seed, "malformed", key, n) < 0.5
          ? ok({ unexpected: true })
          : { status: 200, headers: { ...JSON_HEADERS }, body: `{"id":"${key.split(":")[1]}","object":"thread.run","status":"in_pro` };
    }
  }

  function cancelTimeline(r: SimRun, at: number, cancelledAfter: number): TimelineEntry[] {
    const kept = r.timeline.filter((e) => e.at <= at);
    const end: TimelineEntry[] = cancelledAfter > 0 ? [{ at, status: "cancelling" }, { at: at + cancelledAfter, status: "cancelled" }] : [{ at, status: "cancelled" }];
    return [...kept, ...end];
  }

  const routes: { method: string; pattern: RegExp; kind: RequestKind; run: (m: string[], req: SimRequest, at: number) => SimResponse }[] = [
    {
      method: "GET",
      pattern: /^threads\/([^/]+)\/runs\/([^/]+)$/,
      kind: "run.get",
      run: ([t, id], _req, at) => {
        const r = classicRun(t, id);
        const v = r && view(r, at);
        return r && v && isVisible(v) ? ok(classicRunBody(r, v, epoch)) : notFound("run", id);
      },
    },
    {
      method: "GET",
      pattern: /^threads\/([^/]+)\/runs$/,
      kind: "runs.list",
      run: ([t], req, at) => {
        if (!threads.has(t)) return notFound("thread", t);
        const items = visibleOldestFirst(runsOfThread(t, "classic"), at).map(({ r, v }) => classicRunBody(r, v, epoch));
        return ok(page(items, req.query));
      },
    },
    {
      method: "POST",
      pattern: /^threads\/([^/]+)\/runs$/,
      kind: "run.create",
      run: ([t], req, at) => {
        if (!threads.has(t)) return notFound("thread", t);
        const body = isObject(req.body) ? req.body : {};
        const assistantId = body.assistant_id;
        if (typeof assistantId !== "string" || !assistantId) return error(400, "invalid_request_error", "assistant_id is required.");
        const active = runsOfThread(t, "classic").find((r) => isActive(view(r, at)));
        if (active) return error(400, "invalid_request_error", `Thread ${t} already has an active run ${active.runId}.`);
        const runId = stableId("run", `${seed}:created-run:${created++}`);
        const model = typeof body.model === "string" && body.model ? body.model : (assistants.get(assistantId) ?? "gpt-4o");
        const p = CREATED_RUN_PLAN;
        const r: SimRun = {
          project: project ?? DEFAULT_PROJECT,
          api: "classic",
          runId,
          threadId: t,
          agentId: assistantId,
          model,
          usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 },
          finalMessage: CREATED_RUN_REPLY,
          timeline: [
            { at, status: "queued" },
            { at: at + p.startAfter, status: "in_progress" },
            { at: at + p.messageAfter, step: { type: "message_creation", status: "completed" } },
            { at: at + p.completeAfter, status: "completed" },
          ],
        };
        runs.set(runId, r);
        if (!assistants.has(assistantId)) assistants.set(assistantId, model);
        return ok(classicRunBody(r, view(r, at), epoch));
      },
    },
    {
      method: "POST",
      pattern: /^threads\/([^/]+)\/runs\/([^/]+)\/cancel$/,
      kind: "run.cancel",
      run: ([t, id], _req, at) => {
        const r = classicRun(t, id);
        const v = r && view(r, at);
        if (!r || !v || !isVisible(v)) return notFound("run", id);
        if (!isActive(v)) return error(400, "invalid_request_error", `Cannot cancel run with status '${v.status}'.`);
        if (v.status !== "cancelling") r.timeline = cancelTimeline(r, at, CANCEL_SECONDS);
        return ok(classicRunBody(r, view(r, at), epoch));
      },
    },
    {
      method: "GET",
      pattern: /^threads\/([^/]+)\/runs\/([^/]+)\/steps$/,
      kind: "steps.list",
      run: ([t, id], req, at) => {
        const r = classicRun(t, id);
        const v = r && view(r, at);
        if (!r || !v || !isVisible(v)) return notFound("run", id);
        return ok(page(v.steps.map((s) => classicStepBody(r, s, epoch)), req.query));
      },
    },
    {
      method: "GET",
      pattern: /^threads\/([^/]+)\/runs\/([^/]+)\/steps\/([^/]+)$/,
      kind: "step.get",
      run: ([t, id, stepIdWanted], _req, at) => {
        const r = classicRun(t, id);
        const v = r && view(r, at);
        if (!r || !v || !isVisible(v)) return notFound("run", id);
        const st = v.steps.find((s) => stepId(r, s) === stepIdWanted);
        return st ? ok(classicStepBody(r, st, epoch)) : notFound("run step", stepIdWanted);
      },
    },
    {
      method: "GET",
      pattern: /^threads\/([^/]+)\/messages$/,
      kind: "messages.list",
      run: ([t], req, at) => {
        if (!threads.has(t)) return notFound("thread", t);
        const wantRun = req.query?.run_id;
        const messages = visibleOldestFirst(runsOfThread(t, "classic"), at)
          .filter(({ r }) => !wantRun || r.runId === wantRun)
          .map(({ r, v }) => classicFinalMessage(r, v, epoch))
          .filter((m): m is Record<string, unknown> => m !== undefined)
          .sort((a, b) => (a.created_at as number) - (b.created_at as number));
        return ok(page(messages, req.query));
      },
    },
    {
      method: "GET",
      pattern: /^threads\/([^/]+)$/,
      kind: "thread.get",
      run: ([t]) => (threads.has(t) ? ok(threadBody(t, epoch(threads.get(t) ?? 0))) : notFound("thread", t)),
    },
    {
      method: "GET",
      pattern: /^threads$/,
      kind: "threads.list",
      run: (_m, req, at) => {
        // Oldest first by created_at (scenario threads all exist from second 0: later in the scenario = newer).
        const items = [...threads]
          .map(([id, createdAt], order) => ({ id, createdAt, order }))
          .filter((t) => t.createdAt <= at)
          .sort((a, b) => a.createdAt - b.createdAt || a.order - b.order)
          .map((t) => threadBody(t.id, epoch(t.createdAt)));
        return ok(page(items, req.query));
      },
    },
    {
      method: "POST",
      pattern: /^threads$/,
      kind: "thread.create",
      run: (_m, _req, at) => {
        const id = stableId("thread", `${seed}:created-thread:${created++}`);
        threads.set(id, at);
        return ok(threadBody(id, epoch(at)));
      },
    },
    {
      method: "GET",
      pattern: /^assistants\/([^/]+)$/,
      kind: "assistant.get",
      run: ([a]) => {
        const model = assistants.get(a);
        return model ? ok(assistantBody(a, model, epoch(0))) : notFound("assistant", a);
      },
    },
    {
      method: "GET",
      pattern: /^openai(?:\/v1)?\/responses\/([^/]+)$/,
      kind: "response.get",
      run: ([id], _req, at) => {
        const r = runs.get(id);
        const v = r?.api === "responses" ? view(r, at) : undefined;
        return r && v && isVisible(v) ? ok(responseBody(r, v, epoch)) : notFound("response", id);
      },
    },
    {
      method: "POST",
      pattern: /^openai(?:\/v1)?\/responses\/([^/]+)\/cancel$/,
      kind: "response.cancel",
      run: ([id], _req, at) => {
        const r = runs.get(id);
        const v = r?.api === "responses" ? view(r, at) : undefined;
        if (!r || !v || !isVisible(v)) return notFound("response", id);
        if (!isActive(v)) return error(400, "invalid_request_error", `Cannot cancel a response with status '${v.status}'.`);
        // a background response is cancelled at once
        r.timeline = cancelTimeline(r, at, 0);
        return ok(responseBody(r, view(r, at), epoch));
      },
    },
    {
      method: "GET",
      pattern: /^openai(?:\/v1)?\/conversations\/([^/]+)$/,
      kind: "conversation.get",
      run: ([c]) => (conversations.has(c) ? ok(conversationBody(c, epoch(conversations.get(c) ?? 0))) : notFound("conversation", c)),
    },
    {
      method: "GET",
      pattern: /^openai(?:\/v1)?\/conversations\/([^/]+)\/items$/,
      kind: "conversation.items",
      run: ([c], req, at) => {
        if (!conversations.has(c)) return notFound("conversation", c);
        const items = visibleOldestFirst(runsOfThread(c, "responses"), at).flatMap(({ r, v }) => responseOutputItems(r, v));
        return ok(page(items, req.query));
      },
    },
  ];

  function visibleOldestFirst(list: SimRun[], at: number) {
    return list
      .map((r) => ({ r, v: view(r, at) }))
      .filter((x): x is { r: SimRun; v: RunView & { status: NonNullable<RunView["status"]>; createdAt: number } } => isVisible(x.v))
      .sort((a, b) => a.v.createdAt - b.v.createdAt);
  }

  return {
    project,
    handle(req, atSeconds, realNowMs) {
      const path = req.path.replace(/^\/+|\/+$/g, "");
      const method = req.method.toUpperCase();
      let match: RegExpExecArray | null = null;
      const route = routes.find((r) => r.method === method && (match = r.pattern.exec(path)) !== null);
      const kind: RequestKind = route?.kind ?? "unknown";
      stats.requests[kind] = (stats.requests[kind] ?? 0) + 1;

      const retryAfter = rateLimit?.admit(atSeconds, realNowMs);
      if (retryAfter !== undefined) {
        stats.faults.rateLimited = (stats.faults.rateLimited ?? 0) + 1;
        return error(429, "rate_limit_exceeded", `Rate limit is exceeded. Try again in ${retryAfter} seconds.`, { "retry-after": String(retryAfter) });
      }
      if (!route || !match) return error(404, "not_found", "Resource not found.");
      const params = (match as RegExpExecArray).slice(1).map(decodeURIComponent);
      if (kind === "run.get" || kind === "response.get") {
        const injected = injectFault(`${kind === "run.get" ? "classic" : "responses"}:${params[params.length - 1]}`, atSeconds);
        if (injected) return injected;
      }
      // Only discovery lists threads: a flaky Foundry fails that call too, the same way.
      if (kind === "threads.list") {
        const injected = injectFault("threads:list", atSeconds);
        if (injected) return injected;
      }
      return route.run(params, req, atSeconds);
    },
    runsAt(atSeconds) {
      return [...runs.values()].map((r) => {
        const v = view(r, atSeconds);
        return { project: r.project, api: r.api, runId: r.runId, threadId: r.threadId, agentId: r.agentId, status: isVisible(v) ? v.status : undefined, vanished: v.vanished };
      });
    },
    stats: () => structuredClone(stats),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** An OpenAI-style list page over items given oldest first: `order` (default desc), `limit`, `after`, `before`. */
function page(itemsOldestFirst: Record<string, unknown>[], query: Record<string, string> = {}): Record<string, unknown> {
  let items = query.order === "asc" ? itemsOldestFirst : [...itemsOldestFirst].reverse();
  // Foundry pages by 20, but @azure/ai-agents 1.1 reads only the first page (it follows a nextLink
  // Foundry never sends): without an explicit limit everything is one page, so the SDK sees it all.
  const limit = query.limit === undefined ? Number.POSITIVE_INFINITY : Math.min(100, Math.max(1, Number.parseInt(query.limit, 10) || 20));
  if (query.after) {
    const i = items.findIndex((x) => x.id === query.after);
    items = i >= 0 ? items.slice(i + 1) : [];
  }
  if (query.before) {
    const i = items.findIndex((x) => x.id === query.before);
    items = i >= 0 ? items.slice(0, i) : [];
  }
  const data = items.slice(0, limit);
  return {
    object: "list",
    data,
    first_id: (data[0]?.id as string | undefined) ?? null,
    last_id: (data[data.length - 1]?.id as string | undefined) ?? null,
    has_more: items.length > data.length,
  };
}
