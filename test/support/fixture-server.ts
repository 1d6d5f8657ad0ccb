// A tiny HTTPS server that answers given paths with given bodies and status codes, or not at all,
// so the real Foundry SDK clients can be driven through every outcome over a real TLS socket.

import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { generate } from "selfsigned";

export interface FixtureAnswer {
  status?: number;
  /** An object is sent as JSON; a string is sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Never answer (the client's timeout must fire). */
  hang?: boolean;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization?: string;
}

export interface FixtureServer {
  /** `https://127.0.0.1:PORT` */
  origin: string;
  /** The self-signed certificate (PEM) to trust. */
  ca: string;
  /**
   * Answers for `METHOD path` (path without query). A list is served in order, its last answer
   * repeating. Unknown paths answer 404 with a Foundry-style error body.
   */
  answer(method: string, path: string, answers: FixtureAnswer | FixtureAnswer[]): void;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** A certificate for 127.0.0.1, made once per process (EC: an RSA key takes ~1 s in pure JS). */
let certificate: Promise<{ cert: string; key: string }> | undefined;
export function localCertificate(): Promise<{ cert: string; key: string }> {
  certificate ??= generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] },
    ],
  }).then((pems) => ({ cert: pems.cert, key: pems.private }));
  return certificate;
}

export async function startFixtureServer(): Promise<FixtureServer> {
  const { cert, key } = await localCertificate();
  const routes = new Map<string, FixtureAnswer[]>();
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();

  const server = https.createServer({ cert, key }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    requests.push({ method: req.method ?? "GET", path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    const queue = routes.get(`${req.method} ${url.pathname}`);
    const answer: FixtureAnswer = queue ? (queue.length > 1 ? queue.shift()! : queue[0]) : { status: 404, body: { error: { code: "not_found", message: "Not found" } } };
    if (answer.hang) return;
    const text = typeof answer.body === "string" ? answer.body : answer.body === undefined ? "" : JSON.stringify(answer.body);
    res.writeHead(answer.status ?? 200, {
      ...(typeof answer.body === "string" ? {} : { "content-type": "application/json" }),
      ...answer.headers,
    });
    res.end(text);
  });
  server.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `https://127.0.0.1:${port}`,
    ca: cert,
    answer: (method, path, answers) => routes.set(`${method.toUpperCase()} ${path}`, Array.isArray(answers) ? [...answers] : [answers]),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging requests keep their sockets open; close them or close() never returns.
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
