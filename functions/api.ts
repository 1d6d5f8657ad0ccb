import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { resolveAuthMode } from "../shared/api/auth.js";
import { errorResponse } from "../shared/api/errors.js";
import { handleApiRequest } from "../shared/api/handle.js";
import type { ApiDeps, ApiResponse, TicketLedgerReader } from "../shared/api/types.js";
import { ensureError } from "../shared/errors.js";
import type { InsightsStore } from "../shared/insights/store.js";
import { remediationReader } from "../shared/remediation/reader.js";
import type { RunStore } from "../shared/store/types.js";

export type HttpHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

export function toHttpResponse(r: ApiResponse): HttpResponseInit {
  const body = r.json !== undefined ? JSON.stringify(r.json) : (r.text ?? "");
  return { status: r.status, headers: r.headers, body };
}

/** The API as a Functions HTTP handler over the given dependencies (tests and the local stack pass their own). */
export function createApiHttpHandler(deps: ApiDeps | (() => Promise<ApiDeps>)): HttpHandler {
  return async (request, context) => {
    let resolved: ApiDeps;
    try {
      resolved = typeof deps === "function" ? await deps() : deps;
    } catch (e) {
      const message = ensureError(e).message;
      context.error(`api: cannot start: ${message}`);
      return toHttpResponse(errorResponse(500, "misconfigured", message));
    }
    const response = await handleApiRequest(resolved, { method: request.method, url: request.url, header: (name) => request.headers.get(name) });
    // Route and status only: queries hold IDs a reviewer searched for, which belong in the audit log, not app logs.
    context.log(`api ${request.method} ${new URL(request.url).pathname.split("/").slice(0, 3).join("/")} → ${response.status}`);
    return toHttpResponse(response);
  };
}

/** Dependencies in the function app: the shared services plus API_AUTH_MODE, checked on every cold start. */
export async function apiDepsFromServices(env: Record<string, string | undefined> = process.env): Promise<ApiDeps> {
  const auth = resolveAuthMode(env);
  if (!auth.ok) throw new Error(auth.problem);
  // Loaded on first use so tests and the local stack can build the API over their own store.
  const { services } = await import("../shared/services.js");
  const s = (await services()) as unknown as { store: RunStore; ticketLedger?: TicketLedgerReader; insights?: { store: InsightsStore } };
  return {
    store: s.store,
    tickets: s.ticketLedger && typeof s.ticketLedger.ticketsForRun === "function" ? s.ticketLedger : undefined,
    remediation: s.insights ? remediationReader(s.insights.store) : undefined,
    authMode: auth.mode,
    publicBaseUrl: env.DASHBOARD_BASE_URL || undefined,
    now: () => Date.now(),
  };
}

export const apiHandler: HttpHandler = createApiHttpHandler(() => apiDepsFromServices());

// Function keys are checked by the host (authLevel "function"); the App Service principal and its
// roles are checked in shared/api. GET "runs" shares its route with register-run's POST.
app.http("api-search-runs", { methods: ["GET"], route: "runs", authLevel: "function", handler: apiHandler });
app.http("api-run", { methods: ["GET"], route: "runs/{project}/{runId}/{view?}", authLevel: "function", handler: apiHandler });
app.http("api-stats", { methods: ["GET"], route: "stats", authLevel: "function", handler: apiHandler });
