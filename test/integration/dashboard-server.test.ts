// The local dashboard server over real sockets: the page, its assets, the API behind it, and the
// host's function-key check it plays.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createApiHttpHandler } from "../../functions/api.js";
import { createDashboardHandler, dashboardBase } from "../../functions/dashboard.js";
import { startDashboardServer, type DashboardServer } from "../../local/dashboard/server.js";
import { MemoryRunStore } from "../../shared/store/memory-store.js";
import { IDS, fillStore } from "./api-fixtures.js";

let open: DashboardServer;
let keyed: DashboardServer;

beforeAll(async () => {
  const store = new MemoryRunStore();
  await fillStore(store);
  const handlers = { api: createApiHttpHandler({ store, authMode: "local-open", now: () => Date.now() }), dashboard: createDashboardHandler() };
  open = await startDashboardServer({ port: 0, handlers });
  keyed = await startDashboardServer({ port: 0, handlers, functionKey: "local-key-123" });
});

afterAll(async () => {
  await open?.close();
  await keyed?.close();
});

describe("dashboard server", () => {
  test("serves the page at /, /dashboard and deep links, with a base for its assets", async () => {
    for (const [path, base] of [["/", "/dashboard/"], ["/dashboard", "/dashboard/"], ["/dashboard/runs/prod/run_x", "/dashboard/"], ["/api/dashboard/runs/prod/run_x", "/api/dashboard/"]]) {
      const res = await fetch(open.url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
      const html = await res.text();
      expect(html).toContain(`<base href="${base}">`);
      expect(html).toContain('<script type="module" src="app.js">');
    }
    expect(dashboardBase("/api/dashboard/runs/a/b")).toBe("/api/dashboard/");
  });

  test("serves the script and the styles with their types", async () => {
    const js = await fetch(open.url + "/dashboard/app.js");
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain("findAnyId");
    const css = await fetch(open.url + "/dashboard/styles.css");
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
  });

  test("routes /api to the API handler", async () => {
    const res = await fetch(`${open.url}/api/runs?threadId=${IDS.stalled.threadId}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { runs: { runId: string }[] };
    expect(body.runs.map((r) => r.runId)).toEqual([IDS.stalled.runId]);
    const bad = await fetch(`${open.url}/api/runs?limit=0`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { problems: string[] } }).error.problems[0]).toMatch(/^limit: /);
  });

  test("unknown paths are 404 JSON", async () => {
    const res = await fetch(open.url + "/favicon.ico");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not-found");
  });

  test("with a function key, /api needs it (header or ?code=) and the page does not", async () => {
    expect((await fetch(`${keyed.url}/api/runs`)).status).toBe(401);
    expect((await fetch(`${keyed.url}/api/runs`, { headers: { "x-functions-key": "wrong" } })).status).toBe(401);
    expect((await fetch(`${keyed.url}/api/runs`, { headers: { "x-functions-key": "local-key-123" } })).status).toBe(200);
    expect((await fetch(`${keyed.url}/api/runs?code=local-key-123`)).status).toBe(200);
    expect((await fetch(`${keyed.url}/dashboard`)).status).toBe(200);
  });
});
