// `run-monitor doctor` against the local stack: Azurite with the monitor's tables and queues, the
// local Service Bus broker with the topic and its subscriptions, the Foundry simulator over HTTPS.
// The real CLI runs as a child process, as an operator would run it.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TableClient } from "@azure/data-tables";
import { QueueClient } from "@azure/storage-queue";
import { startAzurite, type AzuriteInstance } from "../support/azurite.js";
import { startServiceBusBroker, type ServiceBusBroker, type TopicConfig } from "../../local/service-bus/broker.js";
import { startFoundrySimulator, type FoundrySimulator } from "../../local/foundry-sim/index.js";
import { parseScenario } from "../../local/scenario/schema.js";
import { MONITOR_QUEUES, MONITOR_TABLES } from "../../shared/doctor/probes.js";
import type { DoctorEvidence } from "../../shared/doctor/report.js";

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../cli/main.js");

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 40_000, env: { PATH: process.env.PATH ?? "" } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const topology = (subscriptions: string[]): TopicConfig[] => [
  {
    name: "run-escalations",
    duplicateDetectionWindowMs: 600_000,
    subscriptions: subscriptions.map((name) => ({ name, ...(name === "sre-alerts" ? { filter: "severity IN ('high','critical')" } : {}) })),
  },
];

let azurite: AzuriteInstance;
let broker: ServiceBusBroker;
let partialBroker: ServiceBusBroker;
let sim: FoundrySimulator;
let dir: string;
let caFile: string;

function settingsFile(name: string, values: Record<string, string>): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify({ IsEncrypted: false, Values: values }, null, 2));
  return file;
}

function goodSettings(overrides: Record<string, string> = {}): Record<string, string> {
  const origin = new URL(sim.endpoint).origin;
  return {
    AzureWebJobsStorage: azurite.connectionString,
    ServiceBusConnection: broker.connectionString,
    FOUNDRY_PROJECTS: JSON.stringify([
      { name: "support", endpoint: `${origin}/api/projects/support`, api: "both" },
      { name: "finance", endpoint: `${origin}/api/projects/finance`, api: "classic" },
    ]),
    FOUNDRY_TIMEOUT_MS: "3000",
    ...overrides,
  };
}

const byId = (e: DoctorEvidence) => Object.fromEntries(e.checks.map((c) => [c.id, c]));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "doctor-test-"));
  const scenario = parseScenario({ name: "doctor", start: "2026-03-02T09:00:00Z", duration: 60, runs: [] });
  [azurite, broker, partialBroker, sim] = await Promise.all([
    startAzurite(),
    startServiceBusBroker({ entities: { topics: topology(["tickets", "sre-alerts"]) } }),
    startServiceBusBroker({ entities: { topics: topology(["tickets"]) } }),
    startFoundrySimulator({ scenario, clock: "real", port: 0 }),
  ]);
  caFile = path.join(dir, "ca.pem");
  fs.writeFileSync(caFile, sim.caPem);
  // What infra (storage.bicep) provisions: the monitor's tables and queues.
  for (const t of MONITOR_TABLES) await TableClient.fromConnectionString(azurite.connectionString, t, { allowInsecureConnection: true }).createTable();
  for (const q of MONITOR_QUEUES) await new QueueClient(azurite.connectionString, q).createIfNotExists();
}, 40_000);

afterAll(async () => {
  await Promise.allSettled([azurite?.stop(), broker?.dispose(), partialBroker?.dispose(), sim?.close()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("run-monitor doctor against the local stack", () => {
  test("everything reachable: every check passes, exit 0, JSON evidence without secrets, a PASS table for people", async () => {
    const file = settingsFile("good.json", goodSettings());
    const [r, table] = await Promise.all([runCli(["doctor", "--settings", file, "--ca", caFile, "--json"]), runCli(["doctor", "--settings", file, "--ca", caFile])]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^RESULT\s+CHECK\s+DETAIL/);
    expect(table.stdout).toMatch(/PASS\s+Subscription run-escalations\/sre-alerts/);
    // One check per monitor table, plus configuration, Foundry, queues and Service Bus (9).
    expect(table.stdout).toContain(`${9 + MONITOR_TABLES.length} passed, 0 failed, 0 warnings`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const evidence = JSON.parse(r.stdout) as DoctorEvidence;
    expect(evidence.result).toBe("pass");
    expect(evidence.summary).toEqual({ pass: evidence.checks.length, fail: 0, warn: 0 });
    const ids = evidence.checks.map((c) => c.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        "config",
        "foundry:support:classic",
        "foundry:support:responses",
        "foundry:finance:classic",
        "table:monitorruns",
        "table:monitortickets",
        "queue:run-registrations",
        "queue:poll-shards",
        "servicebus:topic:run-escalations",
        "servicebus:subscription:tickets",
        "servicebus:subscription:sre-alerts",
      ]),
    );
    expect(ids).not.toContain("foundry:finance:responses");
    expect(Date.parse(evidence.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    // Connection strings are named, never shown: Azurite's key and the bus key stay out of the record.
    expect(evidence.settings.AzureWebJobsStorage).toBe("(secret, not shown)");
    expect(evidence.settings.ServiceBusConnection).toBe("(secret, not shown)");
    expect(r.stdout).not.toContain(azurite.accountKey);
    expect(r.stdout).not.toContain("SharedAccessKey=");
    expect(evidence.settings.FOUNDRY_PROJECTS).toContain("/api/projects/support");
  });

  test("Service Bus away: the bus checks fail, the others still pass, exit 1", async () => {
    await broker.stop();
    try {
      const r = await runCli(["doctor", "--settings", settingsFile("bus-down.json", goodSettings()), "--ca", caFile, "--json", "--timeout-ms", "8000"]);
      expect(r.code).toBe(1);
      const checks = byId(JSON.parse(r.stdout) as DoctorEvidence);
      expect(checks["servicebus:topic:run-escalations"].result).toBe("fail");
      expect(checks["servicebus:topic:run-escalations"].detail).toMatch(/not reachable/);
      expect(checks["servicebus:subscription:tickets"].result).toBe("fail");
      expect(checks["table:monitorruns"].result).toBe("pass");
      expect(checks["foundry:support:classic"].result).toBe("pass");
    } finally {
      await broker.restart();
    }
  });

  test("a missing subscription is named", async () => {
    const r = await runCli(["doctor", "--settings", settingsFile("partial.json", goodSettings({ ServiceBusConnection: partialBroker.connectionString })), "--ca", caFile, "--json"]);
    expect(r.code).toBe(1);
    const checks = byId(JSON.parse(r.stdout) as DoctorEvidence);
    expect(checks["servicebus:subscription:sre-alerts"]).toMatchObject({ result: "fail", detail: expect.stringMatching(/does not exist/) });
    expect(checks["servicebus:subscription:tickets"].result).toBe("pass");
  });

  test("a wrong project endpoint fails that project's check only", async () => {
    const origin = new URL(sim.endpoint).origin;
    const projects = JSON.stringify([
      { name: "support", endpoint: `${origin}/api/projects/support`, api: "classic" },
      // Nothing listens on port 9: the endpoint is wrong.
      { name: "finance", endpoint: "https://127.0.0.1:9/api/projects/finance", api: "classic" },
    ]);
    const r = await runCli(["doctor", "--settings", settingsFile("wrong-endpoint.json", goodSettings({ FOUNDRY_PROJECTS: projects })), "--ca", caFile, "--json"]);
    expect(r.code).toBe(1);
    const checks = byId(JSON.parse(r.stdout) as DoctorEvidence);
    expect(checks["foundry:support:classic"].result).toBe("pass");
    expect(checks["foundry:finance:classic"]).toMatchObject({ result: "fail", detail: expect.stringMatching(/not reachable/) });
  });

  test("a missing table fails with the table's name", async () => {
    await TableClient.fromConnectionString(azurite.connectionString, "monitorlookup", { allowInsecureConnection: true }).deleteTable();
    try {
      const again = await runCli(["doctor", "--settings", settingsFile("wrong-storage.json", goodSettings()), "--ca", caFile, "--json"]);
      expect(again.code).toBe(1);
      expect(byId(JSON.parse(again.stdout) as DoctorEvidence)["table:monitorlookup"]).toMatchObject({ result: "fail", detail: expect.stringMatching(/monitorlookup does not exist/) });
    } finally {
      await TableClient.fromConnectionString(azurite.connectionString, "monitorlookup", { allowInsecureConnection: true }).createTable();
    }
  });

  test("bad configuration or an unreadable file: exit 2 with one clear line", async () => {
    const [bad, missing] = await Promise.all([
      runCli(["doctor", "--settings", settingsFile("bad.json", goodSettings({ POLL_INTERVAL_SECONDS: "0" }))]),
      runCli(["doctor", "--settings", path.join(dir, "nope.json")]),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/POLL_INTERVAL_SECONDS: expected an integer between 5 and 3600/);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/nope\.json: cannot read the file \(ENOENT\)/);
  });
});
