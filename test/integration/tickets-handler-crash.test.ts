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

/** Starts the child and SIGKILLs it `delayMs` after it starts handling (it may have finished by then). */
function killChildAfter(runId: string, delayMs: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD], { env: childEnv(runId, ""), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
      if (!timer && stderr.includes("handling\n")) timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
    });
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

/** Redelivers once more; `expected` is what that redelivery reports (either, when the kill time was random). */
async function expectOneTicket(runId: string, expected: "opened" | "duplicate" | "either"): Promise<void> {
  const redelivery = await runChild(runId);
  expect(redelivery.stderr).toBe("handling\n");
  expect(redelivery.code).toBe(0);
  const result = JSON.parse(redelivery.stdout) as { kind: string; action?: string };
  const outcome = result.kind === "duplicate" ? "duplicate" : result.action;
  if (expected === "either") expect(["opened", "duplicate"]).toContain(outcome);
  else expect(outcome).toBe(expected);
  for (const sink of ["a", "b"] as const) {
    const opens = lines(runId, sink).filter((l) => l.action === "open" && l.key === runId);
    expect(opens).toHaveLength(1);
    expect(lines(runId, sink)).toHaveLength(1); // nothing else either: no update on a redelivery
  }
}

describe("kill -9 during ticket creation", () => {
  // The open sequence with two sinks: put 1 = claim ("opening"), sink a, put 2 = a's ID, sink b, put 3 = b's ID + "open".
  // (A crash before put n is the same state as after put n-1, left out for time.) Every crash before
  // put 3 leaves the ticket unfinished: the redelivery opens it, finding what the sinks already hold.
  const points: [string, "opened" | "duplicate"][] = [
    ["after-put:1", "opened"],
    ["after-open:a", "opened"],
    ["after-put:2", "opened"],
    ["after-open:b", "opened"],
    ["after-put:3", "duplicate"],
  ];

  it.each(points)("a crash at %s, then redelivery (%s): exactly one open line per sink", async (point, expected) => {
    const runId = `run_crash_${point.replace(/\W/g, "_")}`;
    await seedRun(store, runId);
    const crashed = await runChild(runId, point);
    expect(crashed.signal).toBe("SIGKILL");
    expect(crashed.stdout).toBe("");
    await expectOneTicket(runId, expected);
  });

  it("a kill at a random moment, twice over, then redelivery: still one ticket", async () => {
    const runId = "run_crash_random";
    await seedRun(store, runId);
    let finished = false;
    for (let i = 0; i < 2; i++) {
      const r = await killChildAfter(runId, Math.floor(Math.random() * 120));
      finished ||= r.code === 0;
    }
    await expectOneTicket(runId, finished ? "duplicate" : "either");
    expect(JSON.parse((await runChild(runId)).stdout)).toEqual({ kind: "duplicate" });
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
