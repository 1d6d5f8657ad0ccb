import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";
import { sharedDir } from "../support/paths.js";

/** The compiled CLI beside this compiled test (…/test/integration/ → …/cli/main.js). */
const cliMain = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node args…` with `input` on stdin and collects everything it prints. */
function run(args: string[], input: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe("run-monitor sanitize (compiled CLI)", () => {
  it("meets the targets on the visible corpus (scorer exits 0)", async () => {
    const scorer = path.join(sharedDir(), "tools", "score-sanitizer.mjs");
    const corpus = path.join(sharedDir(), "corpora", "sanitize-visible.jsonl");
    const res = await run([scorer, corpus, "--", process.execPath, cliMain, "sanitize", "--jsonl"], "");
    const figures = JSON.parse(res.stdout.split("\n").find((l) => l.startsWith("{")) ?? "{}") as Record<string, number>;
    expect(res.stderr).toBe("");
    expect(figures).toMatchObject({ idsKept: 100, rowsMissing: 0 });
    expect(figures.secretRecall).toBeGreaterThanOrEqual(99);
    expect(figures.piiRecall).toBeGreaterThanOrEqual(98);
    expect(res.code).toBe(0);
  });

  it("--jsonl sanitizes each text, keeps other fields, reports bad lines by number and exits 2", async () => {
    const input = [
      JSON.stringify({ id: "a", text: "mail ola@example.com", severity: 3, tags: ["x"] }),
      "this is not json password=hunter2x",
      "",
      JSON.stringify({ id: "c", text: 42 }),
      JSON.stringify(["text"]),
      JSON.stringify({ id: "e", text: "ok 2026-01-01T00:00:00Z" }),
    ].join("\n");
    const res = await run([cliMain, "sanitize", "--jsonl"], input + "\n");
    expect(res.code).toBe(2);
    const lines = res.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { id: "a", text: "mail [REDACTED:email]", severity: 3, tags: ["x"] },
      { id: "e", text: "ok 2026-01-01T00:00:00Z" },
    ]);
    expect(res.stderr).toMatch(/line 2: not valid JSON/);
    expect(res.stderr).toMatch(/line 4: expected a JSON object with a string "text"/);
    expect(res.stderr).toMatch(/line 5: expected a JSON object with a string "text"/);
    expect(res.stderr).not.toMatch(/line 3|line 1:|line 6/);
    // the bad line's content (it may hold secrets) is never echoed
    expect(res.stderr).not.toContain("hunter2x");
  });

  it("--jsonl with only good lines exits 0, including a last line without newline", async () => {
    const res = await run([cliMain, "sanitize", "--jsonl"], JSON.stringify({ id: "z", text: "from 203.0.113.9" }));
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ id: "z", text: "from [REDACTED:ip]" });
  });

  it("plain text mode streams large input and keeps PEM blocks whole across chunk boundaries", async () => {
    const body = Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(65 + i)}${"q9Zx".repeat(15)}w`);
    const pem = `-----BEGIN PRIVATE KEY-----\n${body.join("\n")}\n-----END PRIVATE KEY-----`;
    const filler = "run run_Ab12Cd34Ef56Gh78Ij90Kl12 status in_progress at 2026-05-05T10:00:00Z\n";
    const parts: string[] = [];
    for (let i = 0; i < 40; i++) parts.push(filler.repeat(120), pem, "\ncontact 198.51.100.7\n");
    const input = parts.join("");
    const res = await run([cliMain, "sanitize"], input);
    expect(res.code).toBe(0);
    for (const line of body) expect(res.stdout).not.toContain(line);
    expect(res.stdout.split("[REDACTED:private-key]").length - 1).toBe(40);
    expect(res.stdout.split("contact [REDACTED:ip]").length - 1).toBe(40);
    expect(res.stdout.split(filler).length - 1).toBe(40 * 120);
  });
});
