// Shared by the foundry-sim-check-*.test.ts files: runs ../shared/tools/check-simulator.mjs against
// this build's CLI (`node <build>/cli/main.js foundry-sim`), one scenario per test file so each file
// stays within its time budget.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { repoRoot, sharedDir } from "../support/paths.js";

/** cli/main.js of the build this file was compiled into (dist/ or .build/NAME/). */
export const builtCli = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "cli", "main.js");

export interface CheckResult {
  code: number | null;
  output: string;
}

export function checkSimulator(scenarioName: string, env: Record<string, string> = {}): Promise<CheckResult> {
  const checker = path.join(sharedDir(), "tools", "check-simulator.mjs");
  const scenario = path.join(sharedDir(), "contracts", "scenarios", `${scenarioName}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [checker, scenario, "--", process.execPath, builtCli(), "foundry-sim"], {
      cwd: repoRoot(),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}
