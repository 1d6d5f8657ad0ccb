// `run-monitor runs search | timeline | evidence` as a child process against the local dashboard
// server (real HTTP, the host's function-key check played by the server).
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createApiHttpHandler } from "../../functions/api.js";
import { createDashboardHandler } from "../../functions/dashboard.js";
import { startDashboardServer, type DashboardServer } from "../../local/dashboard/server.js";
import { MemoryRunStore } from "../../shared/store/memory-store.js";
import { cliWithCommands } from "../support/cli-commands.js";
import { BULK_RUNS, IDS, T0, fillStore } from "./api-fixtures.js";

const KEY = "cli-test-key";
const cli = cliWithCommands({ "runs.js": "registerRuns", "timeline.js": "registerTimeline", "evidence.js": "registerEvidence" });

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

let server: DashboardServer;
let api: string[];

beforeAll(async () => {
  const store = new MemoryRunStore();
  await fillStore(store);
  server = await startDashboardServer({
    port: 0,
    functionKey: KEY,
    handlers: { api: createApiHttpHandler({ store, authMode: "local-open", now: () => T0 + 4 * 3_600_000 }), dashboard: createDashboardHandler() },
  });
  api = ["--api", server.url, "--key", KEY];
});

afterAll(async () => {
  await server?.close();
});

describe("runs search", () => {
  test("a table for people", async () => {
    const r = await cli(["runs", "search", "--thread", IDS.failed.threadId, ...api]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^STATUS\s+RUN\s+THREAD\s+AGENT\s+PROJECT\s+REGISTERED \(UTC\)\s+ESCALATIONS$/);
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(new RegExp(`^completed\\s+${IDS.retry.runId}\\s+${IDS.failed.threadId}\\s+asst_payments\\s+prod\\s+2026-03-02 09:10:00\\s+—$`));
    expect(lines[3]).toMatch(new RegExp(`^failed\\s+${IDS.failed.runId}.*failed$`));
  });

  test("--json for scripts, and --all follows the pages", async () => {
    const r = await cli(["runs", "search", "--project", "bulk", "--all", "--json", ...api]);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { runs: { runId: string }[]; continuationToken?: string };
    expect(body.runs).toHaveLength(BULK_RUNS);
    expect(body.continuationToken).toBeUndefined();
    const paged = await cli(["runs", "search", "--project", "bulk", "--limit", "10", ...api]);
    expect(paged.stderr).toMatch(/more runs match: add --continuation \S+/);
  });

  test("the API and key can come from the environment", async () => {
    const r = await cli(["runs", "search", "--session", IDS.stalled.session, "--json"], { RUN_MONITOR_API: server.url, RUN_MONITOR_KEY: KEY });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { runs: { runId: string }[] }).runs.map((x) => x.runId)).toEqual([IDS.stalled.runId]);
  });

  test("bad arguments exit 2 with one line", async () => {
    const status = await cli(["runs", "search", "--status", "stuck", ...api]);
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/^run-monitor: bad request: status: expected one of queued/);
    expect(status.stderr.trim().split("\n")).toHaveLength(1);
    const since = await cli(["runs", "search", "--since", "yesterday", ...api]);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain("--since: expected a duration such as 30m, 24h or 7d");
    const both = await cli(["runs", "search", "--since", "1h", "--from", "2026-03-02", ...api]);
    expect(both.code).toBe(2);
    const apiUrl = await cli(["runs", "search", "--api", "not a url"]);
    expect(apiUrl.code).toBe(2);
  });

  test("an unreachable API or a missing key exit 1", async () => {
    const closed = await freePort();
    const down = await cli(["runs", "search", "--api", `http://127.0.0.1:${closed}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(`run-monitor: cannot reach the run-monitor API at http://127.0.0.1:${closed} (ECONNREFUSED); start it with \`npm start\` or pass --api / RUN_MONITOR_API\n`);
    const noKey = await cli(["runs", "search", "--api", server.url]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain("401");
    expect(noKey.stderr).toContain("--key");
  });
});

describe("timeline", () => {
  test("finds the project from the run ID and prints the events", async () => {
    const r = await cli(["timeline", IDS.stalled.runId, ...api]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Run:           ${IDS.stalled.runId}`);
    expect(r.stdout).toContain("Project:       prod");
    expect(r.stdout).toMatch(/2026-03-02 09:36:00\s+escalation\s+escalated: stalled-in-progress/);
    expect(r.stdout).toMatch(/2026-03-02 09:38:00\s+recovered\s+recovered from stalled-in-progress/);
    expect(r.stdout).toContain("Tickets: no ticket ledger connected to the API");
  });

  test("--json, and an unknown run exits 1", async () => {
    const r = await cli(["timeline", IDS.response.runId, "--project", "staging", "--json", ...api]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { run: { threadId: string } }).run.threadId).toBe(IDS.response.threadId);
    const missing = await cli(["timeline", "run_Missing", ...api]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("run-monitor: no run run_Missing is known to the monitor\n");
  });
});

describe("evidence", () => {
  test("Markdown by default, JSON on request", async () => {
    const md = await cli(["evidence", IDS.failed.runId, ...api]);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain("### Status timeline");
    expect(md.stdout).toContain(`\`${IDS.failed.runId}\``);
    expect(md.stdout).not.toContain("jane.doe@contoso.com");
    const json = await cli(["evidence", IDS.failed.runId, "--format", "json", ...api]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ schema: "foundry-run-monitor/evidence@1", run: { runId: IDS.failed.runId } });
  });

  test("a format it does not know exits 2", async () => {
    const r = await cli(["evidence", IDS.failed.runId, "--format", "pdf", ...api]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("pdf");
  });
});
