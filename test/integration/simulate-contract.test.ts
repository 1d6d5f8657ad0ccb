import { describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sharedDir } from "../support/paths.js";

// The compiled CLI next to this compiled test (dist/ or .build/NAME/).
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../cli/main.js");
const scenarios = path.join(sharedDir(), "contracts", "scenarios");
const checker = path.join(sharedDir(), "tools", "check-scenario.mjs");

function check(name: string, ...simulateArgs: string[]) {
  const res = spawnSync(process.execPath, [checker, path.join(scenarios, `${name}.json`), path.join(scenarios, `${name}.expect.json`), "--", process.execPath, cli, "simulate", ...simulateArgs], {
    encoding: "utf8",
    timeout: 170_000,
  });
  return { status: res.status, out: `${res.stdout}\n${res.stderr}` };
}

describe("simulate meets the scenario contract (memory stack)", () => {
  for (const name of ["terminal-outcomes", "stalls", "flaky-foundry", "fleet"]) {
    it(`${name}: every check passes`, () => {
      const r = check(name);
      expect(r.out).toMatch(/\d+ passed, 0 failed/);
      expect(r.status).toBe(0);
    }, 180_000);
  }
});

describe("simulate input errors", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, "simulate", ...args], { encoding: "utf8", timeout: 30_000 });

  it("names the bad field of an invalid scenario and exits 2", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-bad-"));
    const file = path.join(dir, "bad.json");
    const scenario = JSON.parse(fs.readFileSync(path.join(scenarios, "terminal-outcomes.json"), "utf8"));
    scenario.runs[1].timeline[0].status = "running";
    fs.writeFileSync(file, JSON.stringify(scenario));
    const r = run("--scenario", file, "--out", path.join(dir, "e.jsonl"));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/runs\[1\]\.timeline\[0\]\.status/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("rejects an unknown stack and a missing file with exit 2", () => {
    expect(run("--scenario", path.join(scenarios, "stalls.json"), "--out", "/tmp/x.jsonl", "--stack", "cloud").status).toBe(2);
    expect(run("--scenario", "/nonexistent/scenario.json", "--out", "/tmp/x.jsonl").status).toBe(2);
  });

  it("gives the same events for the same seed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-seed-"));
    const a = path.join(dir, "a.jsonl");
    const b = path.join(dir, "b.jsonl");
    const file = path.join(scenarios, "flaky-foundry.json");
    expect(run("--scenario", file, "--out", a, "--seed", "7").status).toBe(0);
    expect(run("--scenario", file, "--out", b, "--seed", "7").status).toBe(0);
    expect(fs.readFileSync(a, "utf8")).toBe(fs.readFileSync(b, "utf8"));
  }, 60_000);
});
