// GET /api/insights/tools|trends|usage[?since=24h&project=…&agentId=…]: same auth (Reader role) and
// error body as the rest of the API.
import { authorize, PRINCIPAL_HEADER } from "../api/auth.js";
import { badRequest, errorResponse, jsonResponse } from "../api/errors.js";
import type { ApiRequest, ApiResponse, AuthMode } from "../api/types.js";
import type { PolicySet } from "../detect/policy-types.js";
import type { Instant } from "../model/run.js";
import { parseSince, toolsReport, trendsReport, usageReport, windowSince, type InsightsFilter } from "./report.js";
import type { InsightsStore } from "./store.js";

export interface InsightsApiDeps {
  store: InsightsStore;
  policies: PolicySet;
  authMode: AuthMode;
  now(): Instant;
}

const VIEWS = ["tools", "trends", "usage"] as const;
const DEFAULT_SINCE = { tools: "24h", trends: "7d", usage: "7d" } as const;

export async function handleInsightsRequest(deps: InsightsApiDeps, request: ApiRequest): Promise<ApiResponse> {
  if (request.method.toUpperCase() !== "GET") return errorResponse(405, "method-not-allowed", "insights are read-only: use GET");
  const auth = authorize(deps.authMode, request.header(PRINCIPAL_HEADER), "Reader");
  if (!auth.ok) return auth.response;
  const url = new URL(request.url);
  const view = url.pathname.replace(/\/+$/, "").split("/").pop() as (typeof VIEWS)[number];
  if (!VIEWS.includes(view)) return errorResponse(404, "not-found", `no insights view ${JSON.stringify(view)}; expected tools, trends or usage`);
  const problems: string[] = [];
  for (const k of url.searchParams.keys()) if (!["since", "project", "agentId"].includes(k)) problems.push(`${k}: unknown parameter (expected since, project, agentId)`);
  const sinceText = url.searchParams.get("since") ?? DEFAULT_SINCE[view];
  const sinceMs = parseSince(sinceText);
  if (sinceMs === undefined || sinceMs > 400 * 86_400_000) problems.push(`since: expected a duration such as 24h, 7d or 90m (at most 400d), got ${JSON.stringify(sinceText)}`);
  if (problems.length || sinceMs === undefined) return badRequest(problems);
  const window = windowSince(deps.now(), sinceMs);
  const filter: InsightsFilter = { project: url.searchParams.get("project") ?? undefined, agentId: url.searchParams.get("agentId") ?? undefined };
  if (view === "tools") return jsonResponse(await toolsReport(deps.store, window, filter));
  if (view === "trends") return jsonResponse(await trendsReport(deps.store, window, deps.policies, filter));
  return jsonResponse(await usageReport(deps.store, window, deps.policies, filter));
}
