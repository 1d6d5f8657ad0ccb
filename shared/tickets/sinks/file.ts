// Local JSONL sink: one line per action, for `npm start`, air-gapped installs and audits.
import { createHash } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { ensureError } from "../../errors.js";
import { type OpenedTicket, SinkError, type TicketDraft, type TicketSink } from "./types.js";

export interface FileSinkOptions {
  name: string;
  path: string;
  now: () => number;
}

export interface FileSinkLine {
  at: string;
  action: "open" | "update" | "resolve";
  key: string;
  externalId: string;
  title: string;
  body: string;
  note?: string;
}

/** Deterministic from the key, so a replay after a crash names the same ticket. */
export const fileTicketId = (key: string): string => "TKT-" + createHash("sha256").update(key, "utf8").digest("hex").slice(0, 12);

export class FileSink implements TicketSink {
  readonly name: string;
  // A #private field: options hold credentials, and JSON.stringify/util.inspect of a sink must not show them.
  readonly #o: FileSinkOptions;
  constructor(options: FileSinkOptions) {
    this.name = options.name;
    this.#o = options;
  }

  private async append(line: Omit<FileSinkLine, "at">): Promise<void> {
    const entry: FileSinkLine = { at: new Date(this.#o.now()).toISOString(), ...line };
    try {
      await mkdir(path.dirname(this.#o.path), { recursive: true });
      // One appendFile call per line: O_APPEND writes of one buffer don't interleave between writers.
      await appendFile(this.#o.path, JSON.stringify(entry) + "\n", "utf8");
    } catch (e) {
      const err = ensureError(e) as NodeJS.ErrnoException;
      // A full disk or a busy file may clear; a missing permission or a directory in the way won't.
      const permanent = err.code === "EACCES" || err.code === "EPERM" || err.code === "EISDIR" || err.code === "ENOTDIR";
      throw new SinkError(this.name, `append to ${path.basename(this.#o.path)} failed: ${err.code ?? err.message}`, { permanent });
    }
  }

  async open(t: TicketDraft): Promise<OpenedTicket> {
    const externalId = fileTicketId(t.key);
    await this.append({ action: "open", key: t.key, externalId, title: t.title, body: t.body });
    return { externalId };
  }

  async findByKey(key: string): Promise<OpenedTicket | undefined> {
    let text: string;
    try {
      text = await readFile(this.#o.path, "utf8");
    } catch {
      return undefined;
    }
    for (const line of text.split("\n")) {
      if (!line.includes(JSON.stringify(key))) continue;
      try {
        const entry = JSON.parse(line) as FileSinkLine;
        if (entry.action === "open" && entry.key === key) return { externalId: entry.externalId };
      } catch {
        // a torn last line after a crash: not an opened ticket
      }
    }
    return undefined;
  }

  async update(externalId: string, t: TicketDraft, note: string): Promise<void> {
    await this.append({ action: "update", key: t.key, externalId, title: t.title, body: t.body, note });
  }

  async resolve(externalId: string, t: TicketDraft): Promise<void> {
    await this.append({ action: "resolve", key: t.key, externalId, title: t.title, body: t.body });
  }
}
