import fs from "node:fs";
import type { Command } from "commander";
import { benchChartSvg } from "../../bench/chart.js";
import { defaultSettings, runBench, type BenchReport } from "../../bench/run-bench.js";
import { InputError } from "../../shared/errors.js";

interface BenchOpts {
  quick?: boolean;
  sizes?: string;
  tableSizes?: string;
  rateLimit?: string;
  latencyMs?: string;
  shards?: string;
  concurrency?: string;
  parallelShards?: string;
  limiterShare?: string;
  heapCapMb?: string;
  out?: string;
  chart?: string;
  fromReport?: string;
  progress: boolean;
}

function sizesOf(flag: string, text: string, allowEmpty: boolean): number[] {
  const parts = text.split(",").map((s) => s.trim()).filter(Boolean);
  const sizes = parts.map(Number);
  if ((!allowEmpty && sizes.length === 0) || sizes.some((n) => !Number.isInteger(n) || n < 50 || n > 1_000_000)) {
    throw new InputError(`${flag}: expected a comma-separated list of run counts between 50 and 1000000, got ${JSON.stringify(text)}`);
  }
  return sizes;
}

function intOf(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(`${flag}: expected an integer between ${min} and ${max}, got ${JSON.stringify(text)}`);
  return n;
}

/** The last line: every figure and ratio, without the per-job detail (that goes to --out). */
function summaryLine(report: BenchReport): string {
  const { jobs: _jobs, ...summary } = report;
  return JSON.stringify(summary);
}

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("benchmark the monitor against the Foundry simulator at 1k, 10k and 100k active runs, beside a naive timer-per-run baseline; the last line is one JSON object with every figure")
    .option("--quick", "small sizes and short intervals (about 2 minutes), for CI smoke")
    .option("--sizes <list>", "active runs per size with the memory store, e.g. 1000,10000,100000")
    .option("--table-sizes <list>", "sizes also run through Azurite with the Table store (empty: none)")
    .option("--rate-limit <n>", "Foundry reads per second the simulator allows (and the monitor's FOUNDRY_RATE_LIMIT_PER_SECOND)")
    .option("--latency-ms <n>", "simulated Foundry latency per request")
    .option("--shards <n>", "SHARD_COUNT")
    .option("--concurrency <n>", "POLL_CONCURRENCY (reads in flight per poll-shard invocation)")
    .option("--parallel-shards <n>", "poll-shard invocations at once (host.json batchSize + newBatchThreshold)")
    .option("--limiter-share <x>", "the monitor's FOUNDRY_RATE_LIMIT_PER_SECOND as a share of the Foundry rate limit (default 0.95)")
    .option("--heap-cap-mb <n>", "--max-old-space-size for the monitor's worker (default 192; the naive baseline runs with Node's default)")
    .option("--out <file>", "write the full report (every job, sweep and store method) as JSON")
    .option("--chart <file>", "write the SVG chart of cost and latency against active runs")
    .option("--from-report <file>", "draw --chart from a saved --out report instead of running")
    .option("--no-progress", "no progress bar")
    .action(async (opts: BenchOpts) => {
      try {
        let report: BenchReport;
        if (opts.fromReport) {
          if (!opts.chart) throw new InputError("--from-report: give --chart FILE to draw");
          report = JSON.parse(fs.readFileSync(opts.fromReport, "utf8")) as BenchReport;
        } else {
          const settings = defaultSettings(Boolean(opts.quick));
          if (opts.sizes !== undefined) settings.sizes = sizesOf("--sizes", opts.sizes, false);
          if (opts.tableSizes !== undefined) settings.tableSizes = sizesOf("--table-sizes", opts.tableSizes, true);
          if (opts.rateLimit !== undefined) settings.rateLimitPerSecond = intOf("--rate-limit", opts.rateLimit, 1, 100_000);
          if (opts.latencyMs !== undefined) settings.latencyMs = intOf("--latency-ms", opts.latencyMs, 1, 10_000);
          if (opts.shards !== undefined) settings.knobs.shardCount = intOf("--shards", opts.shards, 1, 1024);
          if (opts.concurrency !== undefined) settings.knobs.concurrency = intOf("--concurrency", opts.concurrency, 1, 256);
          if (opts.parallelShards !== undefined) settings.knobs.parallelShards = intOf("--parallel-shards", opts.parallelShards, 1, 64);
          if (opts.limiterShare !== undefined) {
            const share = Number(opts.limiterShare);
            if (!(share > 0 && share <= 1)) throw new InputError(`--limiter-share: expected a number in (0, 1], got ${JSON.stringify(opts.limiterShare)}`);
            settings.limiterShare = share;
          }
          if (opts.heapCapMb !== undefined) settings.heapCapMb = intOf("--heap-cap-mb", opts.heapCapMb, 64, 65_536);
          report = await runBench({ settings, log: (line) => process.stdout.write(`${line}\n`), progress: opts.progress && Boolean(process.stderr.isTTY) });
          if (opts.out) fs.writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
          for (const t of report.targets) process.stdout.write(`  ${t.pass ? "PASS" : "MISS"} ${t.target}${t.runs === undefined ? "" : ` at ${t.runs} runs (${t.store})`}: ${t.value}\n`);
        }
        if (opts.chart) fs.writeFileSync(opts.chart, benchChartSvg(report));
        if (!opts.fromReport) process.stdout.write(`${summaryLine(report)}\n`);
        process.exit(0);
      } catch (e) {
        if (e instanceof InputError) {
          process.stderr.write(`run-monitor bench: ${e.message}\n`);
          process.exit(2);
        }
        throw e;
      }
    });
}
