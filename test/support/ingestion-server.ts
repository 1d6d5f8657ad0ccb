// A local Application Insights ingestion endpoint (HTTPS, self-signed) that keeps every envelope
// the SDK sends, and a runner for the child process that sends them. The SDK turns the
// connection string's IngestionEndpoint into https and only trusts certificates known at process
// start (NODE_EXTRA_CA_CERTS), so the code under test runs in a child the test spawns.
import { spawn } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { localCertificate } from "./fixture-server.js";

/** One telemetry item as Breeze (the ingestion service) receives it. */
export interface Envelope {
  name: string;
  time: string;
  iKey?: string;
  tags: Record<string, string>;
  data: { baseType: string; baseData: Record<string, unknown> & { name?: string; properties?: Record<string, string>; measurements?: Record<string, number> } };
}

export interface IngestionRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The decoded (gunzipped) body. */
  body: string;
}

export interface IngestionServer {
  origin: string;
  connectionString: string;
  /** PEM file to pass as NODE_EXTRA_CA_CERTS. */
  caFile: string;
  requests: IngestionRequest[];
  envelopes: Envelope[];
  close(): Promise<void>;
}

export async function startIngestionServer(): Promise<IngestionServer> {
  const { cert, key } = await localCertificate();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ingestion-"));
  const caFile = path.join(dir, "ca.pem");
  fs.writeFileSync(caFile, cert);
  const requests: IngestionRequest[] = [];
  const envelopes: Envelope[] = [];
  const sockets = new Set<Socket>();

  const server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let raw = Buffer.concat(chunks);
      if (/gzip/i.test(String(req.headers["content-encoding"] ?? "")) || (raw[0] === 0x1f && raw[1] === 0x8b)) raw = zlib.gunzipSync(raw);
      const body = raw.toString("utf8");
      requests.push({ method: req.method ?? "", path: (req.url ?? "/").split("?")[0], headers: req.headers, body });
      let received = 0;
      if (/\/track$/.test(req.url?.split("?")[0] ?? "")) {
        // A JSON array or newline-delimited JSON, depending on the SDK version.
        const items = body.trim().startsWith("[") ? (JSON.parse(body) as Envelope[]) : body.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Envelope);
        envelopes.push(...items);
        received = items.length;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ itemsReceived: received, itemsAccepted: received, errors: [] }));
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    connectionString: `InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint=${origin}/;LiveEndpoint=${origin}/`,
    caFile,
    requests,
    envelopes,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Custom events of one name. */
export const eventsNamed = (envelopes: Envelope[], name: string): Envelope[] =>
  envelopes.filter((e) => e.data.baseType === "EventData" && e.data.baseData.name === name);

export interface MetricPoint {
  name: string;
  value: number;
  count: number;
  properties: Record<string, string>;
}

/** Metric points (one per name and dimension set per export) of one name. */
export function metricsNamed(envelopes: Envelope[], name: string): MetricPoint[] {
  return envelopes
    .filter((e) => e.data.baseType === "MetricData")
    .flatMap((e) => ((e.data.baseData.metrics ?? []) as { name: string; value: number; count?: number }[]).map((m) => ({ name: m.name, value: m.value, count: m.count ?? 1, properties: e.data.baseData.properties ?? {} })))
    .filter((m) => m.name === name);
}

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The compiled telemetry child (test/support/telemetry-child.js beside this file). */
export const telemetryChildScript = (): string => path.join(path.dirname(fileURLToPath(import.meta.url)), "telemetry-child.js");

/** Runs the telemetry child with `job` against `server`; resolves when it exits (killed after `timeoutMs`). */
export function runTelemetryChild(server: IngestionServer, job: unknown, timeoutMs = 45_000): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [telemetryChildScript(), JSON.stringify(job)], {
      env: {
        ...process.env,
        NODE_OPTIONS: "",
        NODE_EXTRA_CA_CERTS: server.caFile,
        APPLICATIONINSIGHTS_CONNECTION_STRING: server.connectionString,
        // Statsbeat reports SDK health to a Microsoft endpoint: nothing to send it to here.
        APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
        AZURE_CLIENT_ID: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
