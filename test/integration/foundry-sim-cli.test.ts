import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "@jest/globals";
import { builtCli } from "./foundry-sim-check.js";
import { sharedDir } from "../support/paths.js";

interface Proc {
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
}

function runCli(args: string[]): Proc {
  const child = spawn(process.execPath, [builtCli(), "foundry-sim", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const p: Proc = {
    stdout: "",
    stderr: "",
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
    kill: (signal) => child.kill(signal),
  };
  child.stdout.on("data", (d: Buffer) => (p.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (p.stderr += d.toString()));
  return p;
}

async function firstLine(p: Proc): Promise<string> {
  for (let i = 0; i < 300 && !p.stdout.includes("\n"); i++) await new Promise((r) => setTimeout(r, 50));
  return p.stdout.split("\n")[0];
}

describe("run-monitor foundry-sim", () => {
  const started: Proc[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "foundry-sim-cli-"));
  afterAll(async () => {
    for (const p of started) p.kill("SIGKILL");
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("announces itself in one stdout line, serves, and exits 0 on SIGTERM", async () => {
    const p = runCli(["--scenario", path.join(sharedDir(), "contracts", "scenarios", "stalls.json"), "--port", "0", "--clock", "manual", "--project", "demo"]);
    started.push(p);
    const info = JSON.parse(await firstLine(p));
    expect(Object.keys(info).sort()).toEqual(["ca", "control", "endpoint"]);
    expect(info.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/api\/projects\/demo$/);
    expect(fs.readFileSync(info.ca, "utf8")).toContain("BEGIN CERTIFICATE");
    p.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(p.stdout.trim().split("\n")).toHaveLength(1);
  });

  test("an invalid scenario exits 2 with one line naming the field", async () => {
    const file = path.join(tmp, "bad.json");
    const bad = JSON.parse(fs.readFileSync(path.join(sharedDir(), "contracts", "scenarios", "stalls.json"), "utf8"));
    bad.runs[1].timeline[1].status = "running";
    fs.writeFileSync(file, JSON.stringify(bad));
    const p = runCli(["--scenario", file]);
    started.push(p);
    expect(await p.exited).toBe(2);
    expect(p.stdout).toBe("");
    const lines = p.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('runs[1].timeline[1].status: expected one of');
  });

  test("a bad --clock exits 2", async () => {
    const p = runCli(["--scenario", path.join(sharedDir(), "contracts", "scenarios", "stalls.json"), "--clock", "sundial"]);
    started.push(p);
    expect(await p.exited).toBe(2);
    expect(p.stderr).toContain("--clock");
  });
});
