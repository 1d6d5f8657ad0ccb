// kill -9 during ticket creation never produces a second ticket: the handler runs in a child
// process (Table ledger on Azurite, two JSONL file sinks) that SIGKILLs itself at every point of
// the open sequence, or is killed by us at a random moment; the redelivery then finishes the job.
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createTableRunStore, type TableRunStore } from "../../shared/store/table-store.js";
import { TableTicketLedger, type StormGroup } from "../../shared/tickets/ledger.js";
import type { FileSinkLine } from "../../shared/tickets/sinks/file.js";
import { startAzurite, type AzuriteInstance } from "../support/azurite.js";
import { escalation, seedRun } from "../unit/tickets-handler-fixtures.js";

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "tickets-handler-child.js");
const PREFIX = `crash${process.pid}`;
const LEDGER_TABLE = `crashtickets${process.pid}`;

let azurite: AzuriteInstance;
let store: TableRunStore;
let dir: string;

beforeAll(async () => {
  azurite = await startAzurite();
  store = createTableRunStore({ connectionString: azurite.connectionString, tablePrefix: PREFIX });
  await store.init();
  await new TableTicketLedger(TableClient.fromConnectionString(azurite.connectionString, LEDGER_TABLE, { allowInsecureConnection: true })).init();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tickets-crash-"));
}, 30_000);

afterAll(async () => {
  await azurite?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function childEnv(runId: string, crashAt: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    AZURITE_CONNECTION_STRING: azurite.connectionString,
    STORE_PREFIX: PREFIX,
    LEDGER_TABLE,
    SINK_FILES: `a=${path.join(dir, `${runId}-a.jsonl`)},b=${path.join(dir, `${runId}-b.jsonl`)}`,
    MESSAGE: JSON.stringify(escalation(runId)),
    CRASH_AT: crashAt,
  };
}

function runChild(runId: string, crashAt = ""): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CHILD], { env: childEnv(runId, crashAt), timeout: 30_000 }, (_err, stdout, stderr) =>
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
    );
  });
}

/** Starts the child and SIGKILLs it after `delayMs` (it may have finished by then). */
function killChildAfter(runId: string, delayMs: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD], { env: childEnv(runId, ""), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function lines(runId: string, sink: "a" | "b"): FileSinkLine[] {
  const file = path.join(dir, `${runId}-${sink}.jsonl`);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as FileSinkLine);
}

async function expectOneTicket(runId: string): Promise<void> {
  const redelivery = await runChild(runId);
  expect(redelivery.stderr).toBe("");
  expect(redelivery.code).toBe(0);
  expect(JSON.parse(redelivery.stdout)).toEqual(expect.objectContaining({ kind: expect.stringMatching(/^(done|duplicate)$/) }));
  const again = await runChild(runId);
  expect(JSON.parse(again.stdout)).toEqual({ kind: "duplicate" });
  for (const sink of ["a", "b"] as const) {
    const opens = lines(runId, sink).filter((l) => l.action === "open" && l.key === runId);
    expect(opens).toHaveLength(1);
    expect(lines(runId, sink)).toHaveLength(1); // nothing else either: no update on a redelivery
  }
}

describe("kill -9 during ticket creation", () => {
  // The open sequence with two sinks: put 1 = claim ("opening"), sink a, put 2, sink b, put 3, put 4 = "open".
  const points = ["before-put:1", "after-put:1", "after-open:a", "after-put:2", "after-open:b", "after-put:3", "before-put:4", "after-put:4"];

  it.each(points)("a crash at %s, then redelivery: exactly one open line per sink", async (point) => {
    const runId = `run_crash_${point.replace(/\W/g, "_")}`;
    await seedRun(store, runId);
    const crashed = await runChild(runId, point);
    expect(crashed.signal).toBe("SIGKILL");
    expect(crashed.stdout).toBe("");
    await expectOneTicket(runId);
  });

  it("a kill at a random moment, three times over, then redelivery: still one ticket", async () => {
    const runId = "run_crash_random";
    await seedRun(store, runId);
    const killedAt: [number, string][] = [];
    for (let i = 0; i < 3; i++) {
      // Module loading takes most of a child's life; the open sequence sits in its last ~100 ms.
      const delay = 250 + Math.floor(Math.random() * 700);
      const r = await killChildAfter(runId, delay);
      killedAt.push([delay, r.signal ?? `exit ${r.code}`]);
    }
    await expectOneTicket(runId);
  });
});

describe("TableTicketLedger on Azurite", () => {
  it("stores a storm group listing thousands of runs (more than one Table property holds)", async () => {
    const ledger = new TableTicketLedger(TableClient.fromConnectionString(azurite.connectionString, LEDGER_TABLE, { allowInsecureConnection: true }));
    const group: StormGroup = { key: "agentId=asst_x,reason=failed", windowStart: 1_700_000_000_000, ticketId: "TKT-G", runIds: [], externalIds: { desk: "INC1" } };
    for (let i = 0; i < 3000; i++) group.runIds.push(`run_${String(i).padStart(24, "0")}`);
    expect(JSON.stringify(group).length).toBeGreaterThan(64 * 1024);
    expect(await ledger.putGroup(group, undefined)).toBe("ok");
    const back = await ledger.getGroup(group.key, group.windowStart);
    expect(back?.value).toEqual(group);
    // shrinking it again leaves no stale chunk behind
    const small = { ...group, runIds: group.runIds.slice(0, 2) };
    expect(await ledger.putGroup(small, back!.etag)).toBe("ok");
    expect((await ledger.getGroup(group.key, group.windowStart))?.value).toEqual(small);
    expect(await ledger.putGroup(small, back!.etag)).toBe("conflict");
  });

  it("keeps keys that differ only by escaped characters apart", async () => {
    const ledger = new TableTicketLedger(TableClient.fromConnectionString(azurite.connectionString, LEDGER_TABLE, { allowInsecureConnection: true }));
    const entry = (runId: string) => ({ project: "p", runId, ticketId: runId, state: "open" as const, externalIds: {}, processed: [], openedAt: 1, updatedAt: 1 });
    expect(await ledger.put(entry("run/x"), undefined)).toBe("ok");
    expect(await ledger.put(entry("run%2fx"), undefined)).toBe("ok");
    expect((await ledger.get("p", "run/x"))?.value.ticketId).toBe("run/x");
    expect((await ledger.get("p", "run%2fx"))?.value.ticketId).toBe("run%2fx");
  });
});
