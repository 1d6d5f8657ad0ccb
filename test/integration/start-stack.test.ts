// `npm start` for real: the compiled local/start.js as a child process with a short scenario on a
// free port. The API must return the runs, a transition and a ticket must be printed and written,
// and SIGINT must stop everything, Azurite included.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const startJs = path.resolve(here, "../../local/start.js");
const cliJs = path.resolve(here, "../../cli/main.js");

const scenario = {
  name: "start-smoke",
  start: "2026-03-02T09:00:00Z",
  duration: 120,
  monitor: { pollIntervalSeconds: 5, thresholds: { queuedSeconds: 4, inProgressSeconds: 30 } },
  runs: [
    {
      api: "classic", runId: "run_smokeFails000000000001", threadId: "thread_smokeFails00000000001", agentId: "asst_smoke",
      timeline: [
        { at: 0, status: "queued" },
        { at: 1, status: "in_progress" },
        // A tool error quoting a credential and an address: neither may reach the output or the ticket.
        { at: 3, status: "failed", lastError: { code: "tool_error", message: "crm_lookup: 401 for maria.garcia@contoso.example with Password=Smoke!Passw0rd-1" } },
      ],
    },
    { api: "classic", runId: "run_smokeQueued00000000001", threadId: "thread_smokeQueued0000000001", agentId: "asst_smoke", timeline: [{ at: 0, status: "queued" }] },
    // Registered over HTTP by the test long before its scheduled queue registration.
    { api: "classic", runId: "run_smokeHttp0000000000001", threadId: "thread_smokeHttp000000000001", agentId: "asst_smoke", registerAt: 100, timeline: [{ at: 0, status: "in_progress" }] },
    { api: "responses", runId: "resp_smokecompletes000000000001", threadId: "conv_smoke0001", agentId: "kb-v2", registerAt: 1, timeline: [{ at: 1, status: "in_progress" }, { at: 4, status: "completed" }] },
  ],
};

let dir: string;
let child: ChildProcess;
let stdout = "";
let stderr = "";
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      let value: T | undefined;
      try {
        value = await probe();
      } catch {
        value = undefined;
      }
      if (value !== undefined) return resolve(value);
      if (Date.now() > deadline || child.exitCode !== null) return reject(new Error(`timed out waiting for ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      setTimeout(() => void tick(), 300);
    };
    void tick();
  });
}

/** Azurite children of a process, from /proc (Linux): their PIDs. */
function azuriteChildren(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid && fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("azurite")) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "start-stack-"));
  fs.writeFileSync(path.join(dir, "smoke.json"), JSON.stringify(scenario));
  child = spawn(process.execPath, [startJs, "--scenario", "smoke.json", "--port", "0"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
});

afterAll(async () => {
  // After a failed assertion: stop it the way a user would, and only then by force (a SIGKILLed
  // parent cannot stop its Azurite child, so that one is killed by PID too).
  if (child.exitCode === null && child.signalCode === null) {
    const azurite = azuriteChildren(child.pid!);
    child.kill("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null && child.signalCode === null) {
      for (const pid of azurite) if (alive(pid)) process.kill(pid, "SIGKILL");
      child.kill("SIGKILL");
      await exited;
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("npm start (local/start.js)", () => {
  test("serves the scenario's runs, prints transitions and tickets, and Ctrl-C leaves nothing running", async () => {
    const dashboard = await waitFor("the URLs", () => /Dashboard\s+(http:\/\/127\.0\.0\.1:\d+)\/dashboard\//.exec(stdout)?.[1], 40_000);
    const azurite = azuriteChildren(child.pid!);
    expect(azurite).toHaveLength(1);

    const runs = await waitFor(
      "three runs in the API",
      async () => {
        const body = (await (await fetch(`${dashboard}/api/runs`)).json()) as { runs: { runId: string; status?: string }[] };
        return body.runs.length === 3 ? body.runs : undefined;
      },
      30_000,
    );
    expect(runs.map((r) => r.runId).sort()).toEqual(["resp_smokecompletes000000000001", "run_smokeFails000000000001", "run_smokeQueued00000000001"]);

    const registered = await fetch(`${dashboard}/api/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ project: "default", api: "classic", runId: "run_smokeHttp0000000000001", threadId: "thread_smokeHttp000000000001", agentId: "asst_smoke" }),
    });
    expect(registered.status).toBe(201);
    expect((await (await fetch(`${dashboard}/api/runs/default/run_smokeHttp0000000000001`)).json()) as unknown).toMatchObject({ run: { runId: "run_smokeHttp0000000000001", status: "in_progress" } });

    await waitFor("a failed transition and its ticket", () => (/transition .*run_smokeFails000000000001 .*→ failed/.test(stdout) && /ticket\s+opened TKT-\w+ for run_smokeFails000000000001 \(failed\)/.test(stdout) ? true : undefined), 30_000);
    await waitFor("the stalled-queued ticket", () => (/ticket\s+opened TKT-\w+ for run_smokeQueued00000000001 \(stalled-queued\)/.test(stdout) ? true : undefined), 30_000);
    const tickets = fs.readFileSync(path.join(dir, ".run-monitor", "tickets.jsonl"), "utf8");
    expect(tickets).toContain("run_smokeFails000000000001");
    expect(tickets).toContain("stalled-queued");
    // the dashboard page itself
    const page = await fetch(`${dashboard}/dashboard/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Foundry run monitor");
    // the insights function answers at its Azure route, so the dashboard's charts and `run-monitor insights` work locally
    const trends = await fetch(`${dashboard}/api/insights/trends?since=1d`);
    expect(trends.status).toBe(200);
    expect(((await trends.json()) as { days: { failed: number }[] }).days.reduce((n, d) => n + d.failed, 0)).toBe(1);

    // The settings file npm start writes is what `run-monitor config diff` compares with another environment.
    const settingsFile = path.join(dir, ".run-monitor", "local.settings.json");
    const prod = JSON.parse(fs.readFileSync(settingsFile, "utf8")) as { Values: Record<string, string> };
    prod.Values.POLL_INTERVAL_SECONDS = "30";
    prod.Values.ServiceBusConnection = "Endpoint=sb://prod.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=prodOnlyValue";
    fs.writeFileSync(path.join(dir, "prod.json"), JSON.stringify(prod));
    const diff = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(process.execPath, [cliJs, "config", "diff", settingsFile, path.join(dir, "prod.json")], (e, out) => resolve({ code: e ? Number(e.code) : 0, out })),
    );
    expect(diff.code).toBe(1);
    expect(diff.out).toContain('~ POLL_INTERVAL_SECONDS: "5" → "30"');
    expect(diff.out).toContain("~ ServiceBusConnection: (secret, not shown, changed)");
    expect(diff.out).not.toContain("prodOnlyValue");

    // Nothing the run content carried reached the console.
    expect(stdout + stderr).not.toMatch(/Passw0rd|maria\.garcia/);

    child.kill("SIGINT");
    const { code } = await exited;
    expect(code).toBe(0);
    expect(stdout).toContain("stopped: nothing is left running.");
    await waitFor("Azurite to exit", () => (azurite.every((pid) => !alive(pid)) ? true : undefined), 5_000);
  }, 58_000);
});
