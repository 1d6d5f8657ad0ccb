import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (the folder holding our package.json), found from wherever the compiled test runs. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "foundry-run-monitor") return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error("project root not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** ../shared beside the checkout: contracts, fixtures, corpora and checkers. */
export const sharedDir = (): string => path.resolve(repoRoot(), "..", "shared");
