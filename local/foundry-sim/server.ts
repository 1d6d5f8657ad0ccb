// The Foundry simulator over HTTPS on 127.0.0.1: routes `/api/projects/{project}/…` to the core
// (simulation.ts), applies latency and timeouts for real, and exposes the clock under `/_sim`.

import fs from "node:fs";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import selfsigned from "selfsigned";
import type { Scenario } from "../scenario/schema.js";
import { DEFAULT_PROJECT } from "../scenario/schema.js";
import type { SimResponse, Simulation } from "./simulation.js";
import { createSimulation } from "./simulation.js";

export type ClockMode = "real" | "manual";

export interface FoundrySimulatorOptions {
  scenario: Scenario;
  port?: number;
  clock: ClockMode;
  /** The project the announced endpoint names (default: the first run's project, else "default"). */
  project?: string;
  seed?: number;
  /**
   * How long a `timeout` fault holds a request before dropping the connection unanswered. A client
   * with a shorter timeout sees its own timeout; one with a longer (or no) timeout sees the
   * connection closed. Default: 120 s on the real clock, 1 s on the manual clock, where a test
   * steps time and a long hold would only stall it (set the client's timeout below it).
   */
  timeoutHoldMs?: number;
  /** Diagnostics (never run content). */
  log?: (line: string) => void;
}

export interface FoundrySimulator {
  /** `https://127.0.0.1:PORT/api/projects/NAME`: what AgentsClient and AIProjectClient take. */
  endpoint: string;
  /** Path of the self-signed certificate (PEM) to trust. */
  ca: string;
  caPem: string;
  /** `https://127.0.0.1:PORT/_sim` */
  control: string;
  port: number;
  /** Current scenario second. */
  now(): number;
  /** Manual clock only. */
  setClock(at: number): void;
  /** The core serving `project` (created on first use), for introspection in tests. */
  simulation(project?: string): Simulation;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;

export async function startFoundrySimulator(options: FoundrySimulatorOptions): Promise<FoundrySimulator> {
  const { scenario, clock } = options;
  const project = options.project ?? scenario.runs[0]?.project ?? DEFAULT_PROJECT;
  const holdMs = options.timeoutHoldMs ?? (clock === "manual" ? 1000 : 120000);
  const log = options.log ?? (() => {});
  const startedMs = Date.now();
  let manualAt = 0;
  const now = () => (clock === "real" ? (Date.now() - startedMs) / 1000 : manualAt);
  // Setting the clock back is allowed: the shared checker (check-simulator.mjs) returns to a fault
  // window after sampling the whole scenario. Views are pure functions of time, so it is safe.
  const setClock = (at: number) => {
    if (clock !== "manual") throw new Error("the simulator runs on the real clock; only a manual clock can be set");
    if (!Number.isFinite(at) || at < 0) throw new RangeError(`clock: expected a number of seconds ≥ 0, got ${at}`);
    manualAt = at;
  };

  const simulations = new Map<string, Simulation>();
  const simulation = (name = project) => {
    let s = simulations.get(name);
    if (!s) simulations.set(name, (s = createSimulation(scenario, { seed: options.seed, project: name })));
    return s;
  };

  const pems = await selfsigned.generate([{ name: "commonName", value: "foundry-sim.localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }, { type: 2, value: "localhost" }] },
    ],
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "foundry-sim-"));
  const caPath = path.join(tmp, "ca.pem");
  fs.writeFileSync(caPath, pems.cert);

  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    readBody(req)
      .then((body) => route(req, res, body))
      .catch((e: unknown) => {
        log(`foundry-sim: request failed: ${e instanceof Error ? e.message : String(e)}`);
        if (!res.headersSent) send(res, { status: 400, headers: { "content-type": "application/json" }, body: { error: { code: "invalid_request_error", message: "Unreadable request body." } } });
      });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  function route(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const method = (req.method ?? "GET").toUpperCase();
    if (url.pathname === "/_sim/clock") return clockRoute(method, body, res);
    if (url.pathname === "/_sim/stats" && method === "GET") {
      return send(res, { status: 200, headers: { "content-type": "application/json" }, body: { at: now(), projects: Object.fromEntries([...simulations].map(([n, s]) => [n, s.stats()])) } });
    }
    const m = /^\/api\/projects\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return send(res, { status: 404, headers: { "content-type": "application/json" }, body: { error: { code: "not_found", message: "Resource not found." } } });
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => {
      if (k !== "api-version") query[k] = v;
    });
    const answer = simulation(decodeURIComponent(m[1])).handle({ method, path: m[2] ?? "/", query, body }, now(), Date.now());
    const latency = scenario.foundry.latencyMs ?? 0;
    if (answer.fault === "timeout") {
      // hold without answering, then drop the connection: never a response the client could parse
      later(holdMs, () => req.socket.destroy());
      return;
    }
    if (latency > 0) later(latency, () => send(res, answer));
    else send(res, answer);
  }

  function clockRoute(method: string, body: unknown, res: ServerResponse): void {
    const json = (status: number, b: unknown) => send(res, { status, headers: { "content-type": "application/json" }, body: b });
    if (method === "GET") return json(200, { at: now() });
    if (method !== "POST") return json(405, { error: { code: "method_not_allowed", message: "GET or POST" } });
    const at = typeof body === "object" && body !== null ? (body as { at?: unknown }).at : undefined;
    if (typeof at !== "number") return json(400, { error: { code: "invalid_request", message: 'expected {"at": SECONDS}' } });
    try {
      setClock(at);
    } catch (e) {
      return json(400, { error: { code: "invalid_request", message: e instanceof Error ? e.message : String(e) } });
    }
    return json(200, { at: now() });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const base = `https://127.0.0.1:${port}`;
  log(`foundry-sim: ${scenario.name} on ${base} (clock ${clock}, project ${project})`);

  let closed: Promise<void> | undefined;
  return {
    endpoint: `${base}/api/projects/${encodeURIComponent(project)}`,
    ca: caPath,
    caPem: pems.cert,
    control: `${base}/_sim`,
    port,
    now,
    setClock,
    simulation,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => {
          fs.rmSync(tmp, { recursive: true, force: true });
          resolve();
        });
        for (const s of sockets) s.destroy();
        server.closeAllConnections?.();
      });
      return closed;
    },
  };
}

function send(res: ServerResponse, answer: SimResponse): void {
  if (res.destroyed || res.writableEnded) return;
  const text = answer.body === undefined ? "" : typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
  res.writeHead(answer.status, { ...answer.headers, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  if (!size) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
