import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A running Azurite child process (Blobs, Queues, Tables) bound to 127.0.0.1. */
export interface AzuriteInstance {
  /** Development-account connection string with the three endpoints (http). */
  connectionString: string;
  tableUrl: string;
  queueUrl: string;
  blobUrl: string;
  /** The well-known development account (Azurite's fixed name and key, not a secret). */
  accountName: string;
  accountKey: string;
  stop(): Promise<void>;
}

export interface StartAzuriteOptions {
  /** Milliseconds to wait for all three services to listen. */
  readyTimeoutMs?: number;
  /** Folder holding node_modules/azurite; found from this file when omitted. */
  projectRoot?: string;
}

// Azurite's published development account: the same in every Azurite install.
const DEV_ACCOUNT = "devstoreaccount1";
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, "node_modules", "azurite", "dist", "src", "azurite.js"))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error("node_modules/azurite not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test run or `npm start` that dies must not leave Azurite listening.
  process.once("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
}

/**
 * Starts Azurite in memory on free ports (port 0: Azurite reports the port it got on stdout, so
 * there is no bind-then-close race). Ready in about 1–1.5 s.
 */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteInstance> {
  const root = options.projectRoot ?? findProjectRoot();
  const script = path.join(root, "node_modules", "azurite", "dist", "src", "azurite.js");
  // No --silent: the "listening at" lines are how we learn the ports. --loose/--skipApiVersionCheck
  // because the SDKs may send an API version newer than Azurite 3.35 knows (3.36+ needs Node ≥ 21).
  const args = [
    script,
    "--inMemoryPersistence",
    "--extentMemoryLimit", "256",
    "--skipApiVersionCheck",
    "--loose",
    "--disableTelemetry",
    "--blobHost", "127.0.0.1", "--blobPort", "0",
    "--queueHost", "127.0.0.1", "--queuePort", "0",
    "--tableHost", "127.0.0.1", "--tablePort", "0",
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], cwd: root });
  running.add(child);
  killAllOnExit();

  const urls: Partial<Record<"Blob" | "Queue" | "Table", string>> = {};
  let output = "";
  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite not ready after ${timeoutMs} ms:\n${output.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      for (const m of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at (http:\/\/[^\s]+)/g)) {
        urls[m[1] as "Blob" | "Queue" | "Table"] = m[2];
      }
      if (urls.Blob && urls.Queue && urls.Table) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`Azurite exited early (code ${code}, signal ${signal}):\n${output.slice(-2000)}`));
    });
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
    running.delete(child);
  };

  try {
    await ready;
  } catch (e) {
    await stop();
    throw e;
  }
  const withAccount = (u: string): string => `${u.replace(/\/$/, "")}/${DEV_ACCOUNT}`;
  const blobUrl = withAccount(urls.Blob!);
  const queueUrl = withAccount(urls.Queue!);
  const tableUrl = withAccount(urls.Table!);
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
    `BlobEndpoint=${blobUrl};QueueEndpoint=${queueUrl};TableEndpoint=${tableUrl};`;
  return { connectionString, tableUrl, queueUrl, blobUrl, accountName: DEV_ACCOUNT, accountKey: DEV_KEY, stop };
}
