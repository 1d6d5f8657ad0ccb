// `run-monitor simulate --stack local` (Azurite, the AMQP broker, the HTTPS simulator, the real SDK
// clients) against the contract checker, on the scenarios the run-tracking issue names.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "@jest/globals";
import { repoRoot, sharedDir } from "../support/paths.js";

/** cli/main.js of the build this test was compiled into (dist/ or .build/NAME/). */
const builtCli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "cli", "main.js");

function checkScenario(name: string): Promise<{ code: number | null; output: string }> {
  const scenarios = path.join(sharedDir(), "contracts", "scenarios");
  const args = [
    path.join(sharedDir(), "tools", "check-scenario.mjs"),
    path.join(scenarios, `${name}.json`),
    path.join(scenarios, `${name}.expect.json`),
    "--",
    process.execPath, builtCli, "simulate", "--stack", "local", "--quiet",
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot(), stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SCENARIO_TIMEOUT_MS: "180000" } });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

for (const name of ["terminal-outcomes", "stalls"]) {
  test(`check-scenario passes ${name} with simulate --stack local`, async () => {
    const { code, output } = await checkScenario(name);
    expect(output).toMatch(/ 0 failed/);
    expect(output).not.toMatch(/FAIL/);
    expect(code).toBe(0);
  }, 200_000);
}
