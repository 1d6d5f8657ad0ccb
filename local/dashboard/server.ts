import { randomUUID, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import functions, { type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";

// @azure/functions is CommonJS and its classes are not visible as named ESM exports: reach them
// through the default export.
const { HttpRequest: Request, InvocationContext: Context } = functions;

// The local stand-in for the Functions host's HTTP front door: it turns Node requests into
// HttpRequest objects and hands them to the same exported handlers Azure runs (functions/api.ts,
// functions/dashboard.ts). It plays the host's function-key check when given a key.

export type FunctionsHttpHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

export interface DashboardServerOptions {
  /** 7070 for `npm start`, 0 for a free port in tests. */
  port: number;
  host?: string;
  /** `insights` (functions/insights.ts) answers /api/insights/…, as its own function does in Azure; without it those paths go to `api`. */
  handlers: { api: FunctionsHttpHandler; dashboard: FunctionsHttpHandler; insights?: FunctionsHttpHandler };
  /** When set, /api requests need it as `x-functions-key` or `?code=`, as the host demands for authLevel "function". */
  functionKey?: string;
  /** Where handler logs go (context.log); silent by default. */
  log?: (level: string, message: string) => void;
}

export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

function routeOf(pathname: string, withInsights: boolean): "api" | "dashboard" | "insights" | undefined {
  if (pathname === "/" || pathname === "/dashboard" || pathname.startsWith("/dashboard/")) return "dashboard";
  if (pathname === "/api/dashboard" || pathname.startsWith("/api/dashboard/")) return "dashboard";
  if (withInsights && pathname.startsWith("/api/insights/")) return "insights";
  if (pathname.startsWith("/api/")) return "api";
  return undefined;
}

function keyMatches(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function bodyBytes(init: HttpResponseInit): Promise<Buffer> {
  if (init.jsonBody !== undefined) return Buffer.from(JSON.stringify(init.jsonBody));
  const b = init.body;
  if (b === undefined || b === null) return Buffer.alloc(0);
  if (typeof b === "string") return Buffer.from(b);
  if (b instanceof Uint8Array) return Buffer.from(b);
  return Buffer.from(await new Response(b as ConstructorParameters<typeof Response>[0]).arrayBuffer());
}

function send(res: http.ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string, head: boolean): void {
  res.writeHead(status, { ...headers, "Content-Length": String(Buffer.byteLength(body)) });
  res.end(head ? undefined : body);
}

const jsonError = (code: string, message: string) => JSON.stringify({ error: { code, message } });

export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const log = options.log ?? (() => {});
  const server = http.createServer((req, res) => {
    void (async () => {
      const host = options.host ?? "127.0.0.1";
      const url = new URL(req.url ?? "/", `http://${req.headers.host ?? host}`);
      const route = routeOf(url.pathname, options.handlers.insights !== undefined);
      const head = req.method === "HEAD";
      const json = { "Content-Type": "application/json; charset=utf-8" };
      if (!route) return send(res, 404, json, jsonError("not-found", `nothing at ${url.pathname}; the dashboard is at /dashboard`), head);
      if (route !== "dashboard" && options.functionKey !== undefined) {
        const given = (req.headers["x-functions-key"] as string | undefined) ?? url.searchParams.get("code");
        if (!keyMatches(options.functionKey, given)) return send(res, 401, json, jsonError("unauthenticated", "a function key is required (x-functions-key header or ?code=)"), head);
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
      const body = req.method === "GET" || head ? undefined : await readBody(req);
      const request = new Request({ method: req.method ?? "GET", url: url.toString(), headers, ...(body && body.length ? { body: { bytes: body } } : {}) });
      const context = new Context({
        invocationId: randomUUID(),
        functionName: route,
        logHandler: (level, ...args) => log(level, args.map(String).join(" ")),
      });
      try {
        const init = await options.handlers[route]!(request, context);
        const out: Record<string, string> = {};
        new Headers(init.headers as ConstructorParameters<typeof Headers>[0]).forEach((v, k) => (out[k] = v));
        if (init.jsonBody !== undefined && !out["content-type"]) out["content-type"] = "application/json; charset=utf-8";
        send(res, init.status ?? 200, out, await bodyBytes(init), head);
      } catch (e) {
        log("error", `${route} handler threw: ${e instanceof Error ? e.message : String(e)}`);
        send(res, 500, json, jsonError("internal", "the handler failed; see the server log"), head);
      }
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
