// The shared flaky-foundry example through `simulate --stack local`: the real Foundry SDK clients
// against the HTTPS simulator serving 20 % 5xx, timeouts, malformed bodies and 429s, the Table
// store on Azurite, the publisher on the local broker — checked by ../shared/tools/check-scenario.mjs.
// The copy drops the example's 30 ms answer latency: the engine reads one run at a time, and ~2,400
// reads × 30 ms would alone take over a minute; the faults, runs and expectations are unchanged.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { sharedDir } from "../support/paths.js";
import { checkScenario } from "./chaos-support.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "chaos-flaky-local-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("a flaky Foundry on the local stack", () => {
  it("flaky-foundry.json passes check-scenario through simulate --stack local", async () => {
    const example = JSON.parse(fs.readFileSync(path.join(sharedDir(), "contracts", "scenarios", "flaky-foundry.json"), "utf8")) as { foundry: Record<string, unknown> };
    const copy = path.join(tmp, "flaky-foundry.json");
    fs.writeFileSync(copy, JSON.stringify({ ...example, foundry: { ...example.foundry, latencyMs: 0 } }));
    const { code, output } = await checkScenario("flaky-foundry", ["--stack", "local"], copy);
    expect(output).toMatch(/flaky-foundry: \d+ passed, 0 failed/);
    expect(code).toBe(0);
  }, 150_000);
});
