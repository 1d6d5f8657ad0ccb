import fs from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";

// Serves the compliance dashboard: three static files, no build step. The page holds no data; it
// reads everything from the API, which enforces keys and roles. Any path under /dashboard that is
// not an asset answers the page itself, so links such as /dashboard/runs/{project}/{runId} work.

const ASSETS: Record<string, string> = {
  "app.js": "text/javascript; charset=utf-8",
  "styles.css": "text/css; charset=utf-8",
};

/** local/dashboard in the project root, found from wherever the compiled file runs (dist/, .build/NAME/). */
export function dashboardAssetsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg) && existsSync(path.join(dir, "local", "dashboard", "index.html"))) {
      if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "foundry-run-monitor") return path.join(dir, "local", "dashboard");
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error("dashboard assets (local/dashboard/index.html) not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  // Only our own script and styles; the API is same-origin.
  "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'",
};

/** The folder the page's relative asset URLs resolve against: everything up to and including `/dashboard/`. */
export function dashboardBase(pathname: string): string {
  const i = pathname.indexOf("/dashboard");
  return i < 0 ? "/dashboard/" : pathname.slice(0, i) + "/dashboard/";
}

export function createDashboardHandler(assetsDir: string = dashboardAssetsDir()) {
  return async function dashboardHandler(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return { status: 405, headers: { Allow: "GET, HEAD", "Content-Type": "application/json; charset=utf-8" }, body: JSON.stringify({ error: { code: "method-not-allowed", message: `${request.method} is not allowed on the dashboard` } }) };
    }
    const pathname = new URL(request.url).pathname;
    const last = pathname.split("/").pop() ?? "";
    const asset = pathname.includes("/dashboard/") && Object.hasOwn(ASSETS, last) ? last : undefined;
    if (asset) {
      const body = await fs.readFile(path.join(assetsDir, asset), "utf8");
      return { status: 200, headers: { ...SECURITY_HEADERS, "Content-Type": ASSETS[asset], "Cache-Control": "no-cache" }, body };
    }
    const html = await fs.readFile(path.join(assetsDir, "index.html"), "utf8");
    const base = dashboardBase(pathname);
    return {
      status: 200,
      headers: { ...SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" },
      body: html.replace("<head>", `<head>\n    <base href="${base.replace(/[^A-Za-z0-9/_.~-]/g, encodeURIComponent)}">`),
    };
  };
}

let defaultHandler: ReturnType<typeof createDashboardHandler> | undefined;
export async function dashboardHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  defaultHandler ??= createDashboardHandler();
  return defaultHandler(request, context);
}

// The page is anonymous (it is static and holds no data; put App Service authentication in front of
// the whole app); every data call goes to the API with a function key and a principal.
app.http("dashboard", { methods: ["GET", "HEAD"], route: "dashboard/{*path}", authLevel: "anonymous", handler: dashboardHandler });
