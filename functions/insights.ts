import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { resolveAuthMode } from "../shared/api/auth.js";
import { errorResponse } from "../shared/api/errors.js";
import { ensureError } from "../shared/errors.js";
import { handleInsightsRequest, type InsightsApiDeps } from "../shared/insights/api.js";
import { toHttpResponse } from "./api.js";

export type InsightsHttpHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** GET /api/insights/{view}: tools, trends, usage. Tests and the local stack pass their own dependencies. */
export function createInsightsHttpHandler(deps: InsightsApiDeps | (() => Promise<InsightsApiDeps>)): InsightsHttpHandler {
  return async (request, context) => {
    let resolved: InsightsApiDeps;
    try {
      resolved = typeof deps === "function" ? await deps() : deps;
    } catch (e) {
      const message = ensureError(e).message;
      context.error(`insights: cannot start: ${message}`);
      return toHttpResponse(errorResponse(500, "misconfigured", message));
    }
    const response = await handleInsightsRequest(resolved, { method: request.method, url: request.url, header: (name) => request.headers.get(name) });
    context.log(`insights ${request.method} ${new URL(request.url).pathname} → ${response.status}`);
    return toHttpResponse(response);
  };
}

let cached: Promise<InsightsApiDeps> | undefined;

async function insightsDepsFromEnv(env: Record<string, string | undefined> = process.env): Promise<InsightsApiDeps> {
  const auth = resolveAuthMode(env);
  if (!auth.ok) throw new Error(auth.problem);
  const { services } = await import("../shared/services.js");
  const s = await services();
  return { store: s.insights.store, policies: s.policies, authMode: auth.mode, now: () => Date.now() };
}

export const insightsHandler: InsightsHttpHandler = createInsightsHttpHandler(() => (cached ??= insightsDepsFromEnv().catch((e: unknown) => ((cached = undefined), Promise.reject(e)))));

app.http("api-insights", { methods: ["GET"], route: "insights/{view}", authLevel: "function", handler: insightsHandler });
