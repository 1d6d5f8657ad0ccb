// Helpers for the infra tests: find and run the real Bicep CLI, and walk a compiled ARM template
// (languageVersion 2.0 keeps resources in an object keyed by symbolic name; 1.0 in an array).
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export type Obj = Record<string, unknown>;

export const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

export function obj(x: unknown, what: string): Obj {
  if (!isObj(x)) throw new Error(`${what}: expected an object, got ${JSON.stringify(x)?.slice(0, 200)}`);
  return x;
}

export function arr(x: unknown, what: string): unknown[] {
  if (!Array.isArray(x)) throw new Error(`${what}: expected an array, got ${JSON.stringify(x)?.slice(0, 200)}`);
  return x;
}

/** The Bicep CLI: $BICEP_BIN, then what scripts/install-bicep.sh installed, then `bicep` on PATH. */
export function findBicep(root: string): string | undefined {
  const candidates = [process.env.BICEP_BIN, path.join(root, ".tools", "bicep", "bicep")];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  return spawnSync("bicep", ["--version"], { encoding: "utf8" }).status === 0 ? "bicep" : undefined;
}

export interface BicepRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking, so several compilations can share the machine's cores. */
export function runBicep(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<BicepRun> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") reject(error);
      else resolve({ status: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** Diagnostic lines (`file(line,col) : Warning|Error CODE: message`), de-duplicated. */
export function diagnostics(output: string): string[] {
  return [...new Set(output.split("\n").filter((l) => /\) : (Warning|Error|Info) /.test(l)))];
}

export interface ArmResource {
  symbol: string;
  type: string;
  body: Obj;
  /** The template that declares it (for its variables and parameters). */
  template: Obj;
  /** Symbolic names of the module deployments leading to it ("" at the top). */
  modulePath: string;
}

/** Every resource in a template, modules (nested deployments) included, depth first. */
export function resourcesOf(template: Obj, modulePath = ""): ArmResource[] {
  const raw = template.resources;
  const entries: [string, unknown][] = Array.isArray(raw) ? raw.map((r, i) => [String(i), r]) : Object.entries(obj(raw, "resources"));
  const out: ArmResource[] = [];
  for (const [symbol, value] of entries) {
    const body = obj(value, `resource ${symbol}`);
    const type = String(body.type);
    out.push({ symbol, type, body, template, modulePath });
    if (type === "Microsoft.Resources/deployments") {
      const inner = obj(obj(body.properties, `${symbol}.properties`).template, `${symbol}.template`);
      out.push(...resourcesOf(inner, modulePath ? `${modulePath}/${symbol}` : symbol));
    }
  }
  return out;
}

export const props = (r: ArmResource): Obj => obj(r.body.properties, `${r.symbol}.properties`);

export const ofType = (all: ArmResource[], type: string): ArmResource[] => all.filter((r) => r.type.toLowerCase() === type.toLowerCase());

export function one(all: ArmResource[], type: string): ArmResource {
  const found = ofType(all, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

/** A module's deployment resource (to read the parameter values its parent passes). */
export function moduleDeployment(all: ArmResource[], symbol: string): ArmResource {
  const found = all.filter((r) => r.type === "Microsoft.Resources/deployments" && r.symbol === symbol);
  if (found.length !== 1) throw new Error(`expected one module ${symbol}, found ${found.length}`);
  return found[0];
}

/** The expression a parent passes for one module parameter. */
export function moduleParam(all: ArmResource[], symbol: string, name: string): unknown {
  const params = obj(props(moduleDeployment(all, symbol)).parameters, `${symbol}.parameters`);
  return obj(params[name], `${symbol}.parameters.${name}`).value;
}
