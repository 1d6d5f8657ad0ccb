/**
 * Sanitizer throughput, in MB/s of input text, on a large realistic input: the labelled corpus's
 * texts repeated until the JSONL reaches --mb megabytes (default 20).
 *
 *   node .build/NAME/bench/sanitize-throughput.js [--mb 20] [--corpus FILE] [--no-process]
 *
 * Prints three figures:
 *  - sanitize() alone, one call per row (the --jsonl shape), per CPU second of this process;
 *  - sanitize() alone on 64 KB pieces of joined text (the plain-text stream shape), per CPU second;
 *  - the whole `run-monitor sanitize --jsonl` process (start-up, JSON, streams), per CPU second of
 *    the child (from bash `times`) and per wall second; then the same with the CPU seconds of a run
 *    on empty input (start-up: loading cli/main.js and everything it imports) taken off.
 * CPU seconds rather than wall seconds because the machine is shared; the load average is printed
 * so figures from different runs can be compared honestly. Not a test: it asserts nothing.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sanitize } from "../shared/sanitize/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** The project root: the folder above this file holding our package.json (source or compiled). */
function repoRoot(): string {
  for (let dir = here; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name === "foundry-run-monitor") return dir;
    if (path.dirname(dir) === dir) throw new Error("project root not found");
  }
}

const megabytes = Number(arg("mb", "20"));
const corpusPath = arg("corpus", path.resolve(repoRoot(), "..", "shared", "corpora", "sanitize-visible.jsonl"));
const cliMain = path.resolve(here, "..", "cli", "main.js");

const texts = fs
  .readFileSync(corpusPath, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => (JSON.parse(l) as { text: string }).text);

// repeat the corpus (ids made unique) until the JSONL is big enough
const rows: { id: string; text: string }[] = [];
let jsonlBytes = 0;
for (let round = 0; jsonlBytes < megabytes * 1e6; round++) {
  texts.forEach((text, i) => {
    const row = { id: `r${round}-${i}`, text };
    rows.push(row);
    jsonlBytes += Buffer.byteLength(JSON.stringify(row)) + 1;
  });
}
const textBytes = rows.reduce((n, r) => n + Buffer.byteLength(r.text), 0);

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

function measure(label: string, bytes: number, work: () => number): void {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const sink = work();
  const cpuS = cpuSeconds(cpu);
  const wallS = Number(process.hrtime.bigint() - wall) / 1e9;
  const mb = bytes / 1e6;
  console.log(
    `${label.padEnd(34)} ${mb.toFixed(1)} MB  ${(mb / cpuS).toFixed(2)} MB/CPU-s  ${(mb / wallS).toFixed(2)} MB/wall-s  (out ${sink} chars)`,
  );
}

function perRow(): number {
  let n = 0;
  for (const r of rows) n += sanitize(r.text).length;
  return n;
}

// the plain-text stream hands the sanitizer ~64 KB pieces cut at newlines
const pieces: string[] = [];
{
  let piece: string[] = [];
  let size = 0;
  for (const r of rows) {
    piece.push(r.text);
    size += r.text.length + 1;
    if (size >= 1 << 16) {
      pieces.push(piece.join("\n") + "\n");
      piece = [];
      size = 0;
    }
  }
  if (piece.length) pieces.push(piece.join("\n") + "\n");
}
const piecesBytes = pieces.reduce((n, p) => n + Buffer.byteLength(p), 0);

function perPiece(): number {
  let n = 0;
  for (const p of pieces) n += sanitize(p).length;
  return n;
}

interface ProcessRun {
  code: number | null;
  cpuS: number;
  wallS: number;
  outBytes: number;
}

/** Runs the CLI on `file` under bash so `times` can report the child's CPU seconds. */
async function runCli(file: string): Promise<ProcessRun> {
  const wall = process.hrtime.bigint();
  const child = spawn("bash", ["-c", 'node "$1" sanitize --jsonl < "$2"; code=$?; times >&2; exit $code', "bench", cliMain, file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let outBytes = 0;
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (outBytes += d.length));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const wallS = Number(process.hrtime.bigint() - wall) / 1e9;
  // `times` prints the shell's user/sys, then its children's: "0m1.234s 0m0.056s"
  const lines = stderr.trim().split("\n");
  const cpuS = (lines[lines.length - 1] ?? "").match(/(\d+)m([\d.]+)s/g)?.reduce((n, t) => {
    const [, m, sec] = /(\d+)m([\d.]+)s/.exec(t) ?? [];
    return n + Number(m) * 60 + Number(sec);
  }, 0);
  return { code, cpuS: cpuS ?? NaN, wallS, outBytes };
}

async function wholeProcess(input: string): Promise<void> {
  const file = path.join(os.tmpdir(), `sanitize-bench-${process.pid}.jsonl`);
  const empty = path.join(os.tmpdir(), `sanitize-bench-${process.pid}-empty.jsonl`);
  fs.writeFileSync(file, input);
  fs.writeFileSync(empty, "");
  try {
    const startup = await runCli(empty);
    const run = await runCli(file);
    const mb = Buffer.byteLength(input) / 1e6;
    console.log(
      `${"whole process (sanitize --jsonl)".padEnd(34)} ${mb.toFixed(1)} MB  ${(mb / run.cpuS).toFixed(2)} MB/CPU-s  ${(mb / run.wallS).toFixed(2)} MB/wall-s  (exit ${run.code}, out ${run.outBytes} bytes)`,
    );
    console.log(
      `${"  less start-up".padEnd(34)} ${mb.toFixed(1)} MB  ${(mb / (run.cpuS - startup.cpuS)).toFixed(2)} MB/CPU-s  (start-up alone ${startup.cpuS.toFixed(2)} CPU-s, ${startup.wallS.toFixed(2)} wall-s)`,
    );
  } finally {
    fs.rmSync(file, { force: true });
    fs.rmSync(empty, { force: true });
  }
}

console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}, ${os.cpus().length} cpus, node ${process.version}`);
console.log(`${rows.length} rows from ${texts.length} corpus texts; text ${(textBytes / 1e6).toFixed(1)} MB, jsonl ${(jsonlBytes / 1e6).toFixed(1)} MB`);
// warm-up: let the JIT settle on a slice so the first measurement is not the compile
for (let i = 0; i < Math.min(rows.length, 4000); i++) sanitize(rows[i].text);
measure("sanitize() per row", textBytes, perRow);
measure("sanitize() per 64 KB piece", piecesBytes, perPiece);
if (!process.argv.includes("--no-process")) await wholeProcess(rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
