import { ensureError, InputError } from "../errors.js";
import { authorize, PRINCIPAL_HEADER } from "./auth.js";
import { badRequest, errorResponse, jsonResponse, NO_STORE } from "./errors.js";
import { evidenceFor, evidenceMarkdown } from "./evidence-export.js";
import { parseEvidenceQuery, parseNoQuery, parseSearchQuery, parseStatsQuery } from "./query.js";
import { computeStats } from "./stats.js";
import type { ApiDeps, ApiRequest, ApiResponse } from "./types.js";
import { runDetail, runSummary, timelineView } from "./views.js";

// The API's request handling, free of any HTTP framework: the Functions trigger and the local
// dashboard server both adapt their requests to `ApiRequest` and call `handleApiRequest`.
//
//   GET /api/runs?…filters…                    search, newest first, paged
//   GET /api/runs/{project}/{runId}            the run's head
//   GET /api/runs/{project}/{runId}/timeline   transitions, steps, escalations, remediation, tickets
//   GET /api/runs/{project}/{runId}/evidence   ?format=json|md
//   GET /api/stats?from=&to=&bucket=           counts by status and reason per time bucket

type Route =
  | { name: "search" }
  | { name: "run" | "timeline" | "evidence"; project: string; runId: string }
  | { name: "stats" };

/** Segments after `/api`, URL-decoded; undefined for a path that is not an API route. */
export function matchRoute(pathname: string): Route | undefined {
  const parts = pathname.split("/").filter(Boolean);
  const at = parts.indexOf("api");
  if (at < 0) return undefined;
  let seg: string[];
  try {
    seg = parts.slice(at + 1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (seg.length === 1 && seg[0] === "runs") return { name: "search" };
  if (seg.length === 1 && seg[0] === "stats") return { name: "stats" };
  if (seg[0] === "runs" && seg.length === 3) return { name: "run", project: seg[1], runId: seg[2] };
  if (seg[0] === "runs" && seg.length === 4 && (seg[3] === "timeline" || seg[3] === "evidence")) return { name: seg[3], project: seg[1], runId: seg[2] };
  return undefined;
}

const notFoundRun = (project: string, runId: string) => errorResponse(404, "not-found", `no run ${runId} in project ${project} is known to the monitor`);

export async function handleApiRequest(deps: ApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const method = req.method.toUpperCase();
  // Every route here only reads; anything else needs the Operator role before it is even refused.
  const auth = authorize(deps.authMode, req.header(PRINCIPAL_HEADER), method === "GET" || method === "HEAD" ? "Reader" : "Operator");
  if (!auth.ok) return auth.response;
  let url: URL;
  try {
    url = new URL(req.url, "http://localhost");
  } catch {
    return errorResponse(400, "bad-request", "the request URL cannot be parsed");
  }
  const route = matchRoute(url.pathname);
  if (!route) return errorResponse(404, "not-found", `no API route ${url.pathname}; see docs/runbook.md for the routes`);
  if (method !== "GET") {
    const r = errorResponse(405, "method-not-allowed", `${method} is not allowed here; this route answers GET`);
    return { ...r, headers: { ...r.headers, Allow: "GET" } };
  }
  try {
    return await answer(deps, route, url);
  } catch (e) {
    // A continuation token from another store, another query or an older version.
    if (e instanceof InputError) return badRequest(e.problems);
    return errorResponse(500, "internal", `the API failed: ${ensureError(e).message}`);
  }
}

async function answer(deps: ApiDeps, route: Route, url: URL): Promise<ApiResponse> {
  const params = url.searchParams;
  switch (route.name) {
    case "search": {
      const q = parseSearchQuery(params);
      if (!q.ok) return badRequest(q.problems);
      const page = await deps.store.searchRuns(q.value);
      return jsonResponse({ runs: page.runs.map(runSummary), ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) });
    }
    case "stats": {
      const q = parseStatsQuery(params, deps.now());
      if (!q.ok) return badRequest(q.problems);
      return jsonResponse(await computeStats(deps.store, q.value));
    }
    case "run": {
      const q = parseNoQuery(params);
      if (!q.ok) return badRequest(q.problems);
      const stored = await deps.store.getHead(route.project, route.runId);
      return stored ? jsonResponse({ run: runDetail(stored.head) }) : notFoundRun(route.project, route.runId);
    }
    case "timeline": {
      const q = parseNoQuery(params);
      if (!q.ok) return badRequest(q.problems);
      const stored = await deps.store.getHead(route.project, route.runId);
      if (!stored) return notFoundRun(route.project, route.runId);
      const [transitions, outbox, tickets, remediation] = await Promise.all([
        deps.store.listTransitions(route.project, route.runId),
        deps.store.listOutbox(route.project, route.runId),
        deps.tickets?.ticketsForRun(route.project, route.runId),
        deps.remediation?.remediationForRun(stored.head),
      ]);
      return jsonResponse(timelineView({ head: stored.head, transitions, outbox, tickets, remediation }));
    }
    case "evidence": {
      const q = parseEvidenceQuery(params);
      if (!q.ok) return badRequest(q.problems);
      const bundle = await evidenceFor(deps, route.project, route.runId, deps.publicBaseUrl ?? url.origin);
      if (!bundle) return notFoundRun(route.project, route.runId);
      if (q.value.format === "json") return jsonResponse(bundle);
      return { status: 200, headers: { ...NO_STORE, "Content-Type": "text/markdown; charset=utf-8" }, text: evidenceMarkdown(bundle) };
    }
  }
}
