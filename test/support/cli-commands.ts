// Runs `run-monitor` in a child process with only some commands registered, set up as cli/main.ts
// sets up its program (exit 2 on argument errors) — so a test exercises the command's real argument
// parsing, output and exit code without loading every other command.

import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { repoRoot } from "./paths.js";

const commandsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../cli/commands");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `commands`: module file in cli/commands → the register function it exports, e.g. { "dlq.js": "registerDlq" }. */
export function cliWithCommands(commands: Record<string, string>): (args: string[], env?: Record<string, string>) => Promise<CliResult> {
  const entries = Object.entries(commands);
  const entry = [
    `import { Command } from "commander";`,
    ...entries.map(([file, register]) => `import { ${register} } from ${JSON.stringify(path.join(commandsDir, file))};`),
    `const program = new Command().name("run-monitor").exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));`,
    ...entries.map(([, register]) => `${register}(program);`),
    // node -e puts the arguments right after the executable.
    `await program.parseAsync(process.argv.slice(1), { from: "user" });`,
  ].join("\n");
  return (args, env = {}) =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ["--input-type=module", "-e", entry, "--", ...args],
        { cwd: repoRoot(), env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
}
