// `npm start` and `npm test` on a fresh clone: install the locked dependencies first if they are
// missing, so each is the only command a newcomer needs.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";

if (!existsSync("node_modules/typescript") || !existsSync("node_modules/@azure/functions")) {
  console.error("foundry-run-monitor: installing dependencies (npm ci) …");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { stdio: "inherit", shell: process.platform === "win32" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// The infra tests compile infra/ with the real Bicep CLI (from NuGet); fetch it once when a .NET SDK is here.
if (process.argv.includes("--bicep") && !existsSync(".tools/bicep/bicep") && spawnSync("dotnet", ["--version"], { stdio: "ignore" }).status === 0) {
  const r = spawnSync("bash", ["scripts/install-bicep.sh"], { stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) console.error("foundry-run-monitor: the Bicep CLI could not be installed; the infra tests will say so");
}
