// The dashboard in headless Chromium against the local dashboard server and a filled store:
// search by thread ID finds the run, its detail shows the timeline. Screenshots go to
// test-artifacts/ for a person to look at.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { chromium, type Browser, type Page } from "playwright-core";
import { createApiHttpHandler } from "../../functions/api.js";
import { createDashboardHandler } from "../../functions/dashboard.js";
import { createInsightsHttpHandler } from "../../functions/insights.js";
import { parsePolicySet } from "../../shared/detect/policy.js";
import { insightsHook } from "../../shared/insights/hook.js";
import { MemoryInsightsStore } from "../../shared/insights/store.js";
import type { RunHead } from "../../shared/store/types.js";
import { startDashboardServer, type DashboardServer } from "../../local/dashboard/server.js";
import { MemoryRunStore } from "../../shared/store/memory-store.js";
import { repoRoot } from "../support/paths.js";
import { BULK_RUNS, IDS, fillStore } from "./api-fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = fs.existsSync(CHROMIUM);
// CI installs Chromium, so there a missing browser is a failure, never a skip.
const runBrowser = haveChromium || Boolean(process.env.CI);
if (!runBrowser) {
  console.warn(`\n\n!!!!! ${CHROMIUM} is missing: the dashboard browser test is SKIPPED. Install it with \`apt-get install -y chromium\` (CI does). !!!!!\n\n`);
}

const artifacts = path.join(repoRoot(), "test-artifacts");

/**
 * Three finished runs of one agent through the real insights hook: crm_search takes 5 s each time,
 * slow_lookup 20, 30 and 40 s; each run used 1,000 prompt + 200 completion tokens of gpt-4o.
 */
async function fillInsights(store: MemoryInsightsStore, t0: number): Promise<void> {
  const hook = insightsHook({ store });
  for (const [i, slowSeconds] of [20, 30, 40].entries()) {
    const start = t0 + i * 600_000;
    const at = (sec: number) => start + sec * 1000;
    const runId = `run_Slow${i + 1}`;
    const head: RunHead = {
      ref: { project: "prod", api: "classic", runId, threadId: `thread_Slow${i + 1}` },
      agentId: "asst_support", model: "gpt-4o", usage: { promptTokens: 1000, completionTokens: 200, totalTokens: 1200 },
      tags: {}, registeredAt: start, createdAt: start, startedAt: at(5), status: "completed", episodes: {}, seq: 3, terminal: true, pendingOutbox: [], shard: 0, updatedAt: at(100),
      steps: [
        { id: `step_a${i}`, type: "tool_calls", status: "completed", createdAt: at(5), completedAt: at(10), toolCalls: [{ id: `call_a${i}`, type: "function", name: "crm_search" }] },
        { id: `step_b${i}`, type: "tool_calls", status: "completed", createdAt: at(10), completedAt: at(10 + slowSeconds), toolCalls: [{ id: `call_b${i}`, type: "function", name: "slow_lookup" }] },
      ],
    };
    await hook({ head, transitions: [{ project: "prod", runId, seq: 3, at: at(100), from: "in_progress", to: "completed" }], escalations: [], recoveries: [], changed: true }, head);
  }
}
let server: DashboardServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

(runBrowser ? describe : describe.skip)("dashboard in Chromium", () => {
  beforeAll(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    const store = new MemoryRunStore();
    // Runs from the last few hours, so the page's default "last 24 hours" shows them all.
    const t0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 4 * 3_600_000;
    await fillStore(store, t0);
    const insights = new MemoryInsightsStore();
    await fillInsights(insights, t0);
    const policies = parsePolicySet({ prices: { "gpt-4o": { inputPer1K: 0.005, outputPer1K: 0.015 } } });
    server = await startDashboardServer({
      port: 0,
      handlers: {
        api: createApiHttpHandler({ store, authMode: "local-open", now: () => Date.now() }),
        dashboard: createDashboardHandler(),
        insights: createInsightsHttpHandler({ store: insights, policies, authMode: "local-open", now: () => Date.now() }),
      },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-gpu"],
    });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test("the run list shows runs, status chips and the chart", async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.locator("#runs-body tr").first().waitFor();
    expect(await page.locator("#runs-body tr").count()).toBe(50);
    await expect(page.locator("#load-more").isVisible()).resolves.toBe(true);
    const chips = await page.locator("#status-chips button").allTextContents();
    expect(chips[0]).toBe(`All ${5 + BULK_RUNS}`);
    expect(chips.some((c) => c.startsWith("failed"))).toBe(true);
    expect(await page.locator("#chart-svg svg rect").count()).toBeGreaterThan(3);
    await page.screenshot({ path: path.join(artifacts, "dashboard-list.png"), fullPage: false });

    // Filtering by a status chip narrows the list.
    await page.locator('#status-chips button[data-status="requires_action"]').click();
    // (string expressions: the DOM types are not in this project's lib)
    await page.waitForFunction('document.querySelectorAll("#runs-body tr").length === 1');
    expect(await page.locator("#runs-body tr").first().textContent()).toContain(IDS.waiting.runId);
  });

  test("tool calls are charted per agent and tool (p50/p95/p99), token usage shows its estimated cost", async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.locator("#tools-svg svg").waitFor();
    const bar = (tool: string, q: string) => page.locator(`#tools-svg rect[data-tool="${tool}"][data-quantile="${q}"]`);
    // slowest p95 first: slow_lookup (20/30/40 s → p50 30 s, p95 = p99 = 40 s), then crm_search (5 s)
    const order: (string | null)[] = [];
    for (const r of await page.locator('#tools-svg rect[data-quantile="p95"]').all()) order.push(await r.getAttribute("data-tool"));
    expect(order).toEqual(["slow_lookup", "crm_search"]);
    expect(await bar("slow_lookup", "p50").getAttribute("data-ms")).toBe("30000");
    expect(await bar("slow_lookup", "p95").getAttribute("data-ms")).toBe("40000");
    expect(await bar("crm_search", "p99").getAttribute("data-ms")).toBe("5000");
    // bar lengths follow the durations: p99 of slow_lookup is 8× that of crm_search
    const width = async (tool: string) => Number(await bar(tool, "p99").getAttribute("width"));
    expect((await width("slow_lookup")) / (await width("crm_search"))).toBeCloseTo(8, 5);
    await expect(page.locator("#tools-svg svg").getAttribute("aria-label")).resolves.toContain("asst_support · slow_lookup p95 40 s");
    await expect(page.locator("#tools-caption").textContent()).resolves.toBe("6 finished tool calls of 2 agent/tool pairs.");
    const slowest = await page.locator("#tools-slowest tbody tr").allTextContents();
    expect(slowest[0]).toContain("slow_lookup");
    expect(slowest[0]).toContain("run_Slow3");
    expect(slowest[0]).toContain("40 s");

    const total = await page.locator("#usage-table tr.total td").allTextContents();
    // 3 runs × (1,000 prompt + 200 completion): 3 × (0.005 + 0.003) = 0.024
    expect(total).toEqual(["Total", "", "", "", "3", "3,000", "600", "3,600", "0.0240"]);
    await expect(page.locator("#usage-table tbody").textContent()).resolves.toContain("gpt-4o");
    await page.locator("#tools-chart").screenshot({ path: path.join(artifacts, "dashboard-tool-insights.png") });
    await page.locator("#usage-card").screenshot({ path: path.join(artifacts, "dashboard-token-usage.png") });
    // the slowest call links to its run
    await expect(page.locator("#tools-slowest tbody tr").first().locator("a").getAttribute("href")).resolves.toBe("#/runs/prod/run_Slow3");
  });

  test("searching by thread ID opens the run with its timeline", async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.locator("#any-id").fill(IDS.stalled.threadId);
    await page.locator("#any-id").press("Enter");
    await page.locator("#detail-view").waitFor({ state: "visible" });
    await expect(page.locator("#d-run-id").textContent()).resolves.toBe(IDS.stalled.runId);
    const events = await page.locator("#d-timeline li").allTextContents();
    expect(events).toHaveLength(8);
    expect(events[0]).toContain("registered with the monitor");
    expect(events.join("\n")).toContain("escalated: stalled-in-progress");
    expect(events.join("\n")).toContain("recovered from stalled-in-progress");
    await expect(page.locator("#d-tools").textContent()).resolves.toContain("kb_lookup");
    await expect(page.locator("#d-escalations").textContent()).resolves.toContain("stalled-in-progress");
    expect(page.url()).toContain(`#/runs/prod/${IDS.stalled.runId}`);
    await page.screenshot({ path: path.join(artifacts, "dashboard-run-detail.png"), fullPage: true });
  });

  test("a failed run shows its sanitized error, usage and final-message provenance", async () => {
    await page.goto(`${server.url}/dashboard#/find/${IDS.failed.runId}`);
    await page.locator("#detail-view").waitFor({ state: "visible" });
    const error = await page.locator("#d-error").textContent();
    expect(error).toContain("server_error");
    expect(error).not.toContain("jane.doe@contoso.com");
    await expect(page.locator("#d-usage").textContent()).resolves.toContain("2,045");
    await expect(page.locator("#d-final").textContent()).resolves.toContain("msg_Final0001");
    await page.screenshot({ path: path.join(artifacts, "dashboard-failed-run.png"), fullPage: true });
  });

  test("an ID shared by several runs lists them; the keyboard reaches the search", async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.keyboard.press("Tab"); // skip link
    await page.keyboard.press("Tab"); // the search box
    await expect(page.evaluate("document.activeElement && document.activeElement.id")).resolves.toBe("any-id");
    await page.keyboard.type(IDS.failed.threadId);
    await page.keyboard.press("Enter");
    await page.locator("#matches-view").waitFor({ state: "visible" });
    expect(await page.locator("#matches-body tr").count()).toBe(2);
    await page.screenshot({ path: path.join(artifacts, "dashboard-matches.png") });
    await page.locator(`#matches-body a:text("${IDS.retry.runId}")`).click();
    await page.locator("#detail-view").waitFor({ state: "visible" });
    await expect(page.locator("#d-run-id").textContent()).resolves.toBe(IDS.retry.runId);
  });

  test("an unknown ID says so", async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.locator("#any-id").fill("thread_DoesNotExist");
    await page.locator("#any-id").press("Enter");
    await page.locator("#error").waitFor({ state: "visible" });
    await expect(page.locator("#error").textContent()).resolves.toContain("No run found for thread_DoesNotExist");
  });

  test("no script errors or CSP violations on the way", () => {
    expect(pageErrors).toEqual([]);
  });
});
