/**
 * Sanitizer throughput, in MB/s of input text, on a large realistic input: the labelled corpus's
 * texts repeated until the JSONL reaches --mb megabytes (default 20).
 *
 *   node .build/NAME/bench/sanitize-throughput.js [--mb 20] [--corpus FILE] [--no-process]
 *
 * Prints three figures:
 *  - sanitize() alone, one call per row (the --jsonl shape), per CPU second of this process;
 *  - sanitize() alone on 64 KB pieces of joined text (the plain-text stream shape), per CPU second;
 *  - the whole `run-monitor sanitize --jsonl` process (start-up, JIT warm-up, JSON, streams), per CPU
 *    second of the child (from bash `times`) and per wall second; then the same with the CPU seconds
 *    of a run on empty input (start-up: loading cli/main.js and everything it imports) taken off.
 * CPU seconds rather than wall seconds because the machine is shared; the load average is printed
 * so figures from different runs can be compared honestly. Not a test: it asserts nothing.
 *
 * `npm run bench` takes the first two figures from measureSanitizerThroughput().
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sanitize } from "../shared/sanitize/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The project root: the folder above this file holding our package.json (source or compiled). */
function repoRoot(): string {
  for (let dir = here; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name === "foundry-run-monitor") return dir;
    if (path.dirname(dir) === dir) throw new Error("project root not found");
  }
}

const defaultCorpus = (): string => path.resolve(repoRoot(), "..", "shared", "corpora", "sanitize-visible.jsonl");

interface Workload {
  rows: { id: string; text: string }[];
  /** UTF-8 bytes of all row texts */
  textBytes: number;
  jsonlBytes: number;
  /** the rows' texts joined by newlines and cut into ~64 KB pieces, as the plain-text stream hands them over */
  pieces: string[];
  piecesBytes: number;
}

/** The corpus's texts repeated (ids made unique) until their JSONL reaches `megabytes`. */
function workload(megabytes: number, corpusPath: string): Workload {
  const texts = fs
    .readFileSync(corpusPath, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const rows: { id: string; text: string }[] = [];
  let jsonlBytes = 0;
  for (let round = 0; jsonlBytes < megabytes * 1e6; round++) {
    texts.forEach((text, i) => {
      const row = { id: `r${round}-${i}`, text };
      rows.push(row);
      jsonlBytes += Buffer.byteLength(JSON.stringify(row)) + 1;
    });
  }
  const pieces: string[] = [];
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
  const bytes = (ss: readonly string[]): number => ss.reduce((n, s) => n + Buffer.byteLength(s), 0);
  return { rows, textBytes: bytes(rows.map((r) => r.text)), jsonlBytes, pieces, piecesBytes: bytes(pieces) };
}

interface Timed {
  cpuSeconds: number;
  wallSeconds: number;
  /** characters of output, so the work cannot be optimized away */
  outChars: number;
}

function timed(work: () => number): Timed {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const outChars = work();
  const d = process.cpuUsage(cpu);
  return { cpuSeconds: (d.user + d.system) / 1e6, wallSeconds: Number(process.hrtime.bigint() - wall) / 1e9, outChars };
}

function sanitizeAll(texts: readonly string[]): number {
  let n = 0;
  for (const t of texts) n += sanitize(t).length;
  return n;
}

/** sanitize() per row, then per piece, after a warm-up that lets the JIT settle so the first figure is not the compile. */
function measureInProcess(w: Workload): { perRow: Timed; perPiece: Timed } {
  const texts = w.rows.map((r) => r.text);
  sanitizeAll(texts.slice(0, 4000));
  return { perRow: timed(() => sanitizeAll(texts)), perPiece: timed(() => sanitizeAll(w.pieces)) };
}

export interface SanitizerThroughput {
  /** sanitize() called once per corpus row (the `sanitize --jsonl` shape), MB of text per CPU second */
  perRowMBps: number;
  /** sanitize() called on ~64 KB pieces of joined rows (the plain-text stream shape), MB per CPU second */
  perPieceMBps: number;
  /** MB of text each figure was measured on */
  textMB: number;
  /** os.loadavg() when the measurement started: CPU seconds stretch on a busy machine */
  loadAverage: number[];
}

/**
 * Measures sanitize() in this process after a JIT warm-up, on the labelled corpus's texts repeated
 * to `megabytes` of JSONL (default 20). Synchronous and CPU-bound: about two seconds per 20 MB on a
 * quiet core.
 */
export function measureSanitizerThroughput(options: { megabytes?: number; corpusPath?: string } = {}): SanitizerThroughput {
  const w = workload(options.megabytes ?? 20, options.corpusPath ?? defaultCorpus());
  const loadAverage = os.loadavg();
  const { perRow, perPiece } = measureInProcess(w);
  return {
    perRowMBps: w.textBytes / 1e6 / perRow.cpuSeconds,
    perPieceMBps: w.piecesBytes / 1e6 / perPiece.cpuSeconds,
    textMB: w.textBytes / 1e6,
    loadAverage,
  };
}

interface ProcessRun {
  code: number | null;
  cpuS: number;
  wallS: number;
  outBytes: number;
}

/** Runs the CLI on `file` under bash so `times` can report the child's CPU seconds. */
async function runCli(cliMain: string, file: string): Promise<ProcessRun> {
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

function line(label: string, mb: number, cpuS: number, wallS: number, note: string): string {
  return `${label.padEnd(34)} ${mb.toFixed(1)} MB  ${(mb / cpuS).toFixed(2)} MB/CPU-s  ${(mb / wallS).toFixed(2)} MB/wall-s  (${note})`;
}

async function main(argv: readonly string[]): Promise<void> {
  const arg = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
  };
  const w = workload(Number(arg("mb", "20")), arg("corpus", defaultCorpus()));
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}, ${os.cpus().length} cpus, node ${process.version}`);
  console.log(`${w.rows.length} rows; text ${(w.textBytes / 1e6).toFixed(1)} MB, jsonl ${(w.jsonlBytes / 1e6).toFixed(1)} MB`);
  const { perRow, perPiece } = measureInProcess(w);
  console.log(line("sanitize() per row", w.textBytes / 1e6, perRow.cpuSeconds, perRow.wallSeconds, `out ${perRow.outChars} chars`));
  console.log(line("sanitize() per 64 KB piece", w.piecesBytes / 1e6, perPiece.cpuSeconds, perPiece.wallSeconds, `out ${perPiece.outChars} chars`));
  if (argv.includes("--no-process")) return;

  const cliMain = path.resolve(here, "..", "cli", "main.js");
  const file = path.join(os.tmpdir(), `sanitize-bench-${process.pid}.jsonl`);
  const empty = path.join(os.tmpdir(), `sanitize-bench-${process.pid}-empty.jsonl`);
  fs.writeFileSync(file, w.rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  fs.writeFileSync(empty, "");
  try {
    const startup = await runCli(cliMain, empty);
    const run = await runCli(cliMain, file);
    const mb = w.jsonlBytes / 1e6;
    console.log(line("whole process (sanitize --jsonl)", mb, run.cpuS, run.wallS, `exit ${run.code}, out ${run.outBytes} bytes`));
    console.log(
      `${"  less start-up".padEnd(34)} ${mb.toFixed(1)} MB  ${(mb / (run.cpuS - startup.cpuS)).toFixed(2)} MB/CPU-s  (start-up alone ${startup.cpuS.toFixed(2)} CPU-s, ${startup.wallS.toFixed(2)} wall-s)`,
    );
  } finally {
    fs.rmSync(file, { force: true });
    fs.rmSync(empty, { force: true });
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
