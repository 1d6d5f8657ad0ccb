import { once } from "node:events";
import type { Readable, Writable } from "node:stream";
import type { Command } from "commander";
import { sanitize } from "../../shared/sanitize/index.js";
import { safeCut } from "../../shared/sanitize/text-chunks.js";

/** Output is gathered into chunks this big before a write: one syscall per line would cap throughput. */
const WRITE_CHUNK = 1 << 16;
/** Plain text is sanitized in pieces of at least this size (cut at a safe newline). */
const TEXT_PIECE = 1 << 16;
/** A piece that never reaches a safe cut (an unterminated PEM block, no newlines) is sanitized anyway past this. */
const TEXT_PIECE_MAX = 1 << 22;

class ChunkedWriter {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly out: Writable) {}

  async write(s: string): Promise<void> {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= WRITE_CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const chunk = this.parts.join("");
    this.parts = [];
    this.size = 0;
    if (!this.out.write(chunk)) await once(this.out, "drain");
  }
}

/** stdin text → stdout text, sanitized, in pieces cut where no finding can straddle. */
export async function sanitizeTextStream(input: Readable, output: Writable): Promise<void> {
  const writer = new ChunkedWriter(output);
  input.setEncoding("utf8");
  let buffer = "";
  for await (const chunk of input) {
    buffer += chunk as string;
    if (buffer.length < TEXT_PIECE) continue;
    let cut = safeCut(buffer);
    if (cut === 0 && buffer.length >= TEXT_PIECE_MAX) cut = buffer.length;
    if (cut === 0) continue;
    await writer.write(sanitize(buffer.slice(0, cut)));
    buffer = buffer.slice(cut);
  }
  if (buffer) await writer.write(sanitize(buffer));
  await writer.flush();
}

/**
 * Lines of {"id","text",…} → the same lines with "text" sanitized and every other field kept.
 * A line that is not JSON or has no string "text" is reported (by number, never by content: it may
 * hold the very secrets we are removing) and skipped. Blank lines are skipped silently.
 * Returns how many lines were invalid.
 *
 * Lines are cut out of each input chunk and handled synchronously, with one write per chunk: an
 * await per line (readline's async iterator) costs more than JSON parsing and stringifying it. A
 * chunk's output is built by concatenation (a rope, flattened once when written) rather than an
 * array joined twice.
 */
export async function sanitizeJsonlStream(input: Readable, output: Writable, report: (problem: string) => void): Promise<number> {
  const writer = new ChunkedWriter(output);
  let lineNo = 0;
  let invalid = 0;
  /** The output for one input line (without its newline): the sanitized line and "\n", or "" for a blank or invalid line. */
  const handle = (raw: string): string => {
    lineNo++;
    const line = raw.length > 0 && raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    // a JSON object line starts with "{": only other lines can be blank
    if (line.length === 0 || (line.charCodeAt(0) !== 123 && line.trim() === "")) return "";
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      invalid++;
      report(`line ${lineNo}: not valid JSON`);
      return "";
    }
    if (typeof row !== "object" || row === null || Array.isArray(row) || typeof (row as { text?: unknown }).text !== "string") {
      invalid++;
      report(`line ${lineNo}: expected a JSON object with a string "text"`);
      return "";
    }
    const record = row as { text: string };
    record.text = sanitize(record.text);
    return JSON.stringify(record) + "\n";
  };
  input.setEncoding("utf8");
  let rest = "";
  for await (const chunk of input) {
    const data = rest + (chunk as string);
    let out = "";
    let start = 0;
    for (let nl = data.indexOf("\n"); nl >= 0; nl = data.indexOf("\n", start)) {
      out += handle(data.slice(start, nl));
      start = nl + 1;
    }
    rest = data.slice(start);
    if (out !== "") await writer.write(out);
  }
  if (rest !== "") {
    const out = handle(rest);
    if (out !== "") await writer.write(out);
  }
  await writer.flush();
  return invalid;
}

export function registerSanitize(program: Command): void {
  program
    .command("sanitize")
    .description("redact secrets and personal data: text on stdin → stdout, or --jsonl lines of {\"id\",\"text\"}")
    .option("--jsonl", 'read lines of {"id","text",…} and sanitize each "text" (other fields kept)')
    .action(async (options: { jsonl?: boolean }) => {
      // a reader that goes away (| head) is not an error worth a stack trace
      process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
        throw e;
      });
      if (!options.jsonl) {
        await sanitizeTextStream(process.stdin, process.stdout);
        return;
      }
      const invalid = await sanitizeJsonlStream(process.stdin, process.stdout, (problem) =>
        process.stderr.write(`run-monitor sanitize: ${problem}\n`),
      );
      if (invalid > 0) {
        process.stderr.write(`run-monitor sanitize: ${invalid} invalid line(s) skipped\n`);
        process.exitCode = 2;
      }
    });
}
