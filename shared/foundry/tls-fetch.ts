// A fetch that trusts one extra CA (the local simulator's self-signed certificate). The openai
// client that @azure/ai-projects builds uses the global fetch, which cannot be told about a CA per
// client, and NODE_EXTRA_CA_CERTS only works when set before the process starts.

import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Enough of fetch for the SDK's JSON requests (string or byte bodies), over node:https with `ca` trusted. */
export function fetchTrustingCa(ca: string): Fetch {
  const agent = new https.Agent({ ca, keepAlive: true });
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    const body = await bodyBytes(init.body);
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    return new Promise<Response>((resolve, reject) => {
      const request = (url.protocol === "https:" ? https : http).request(
        url,
        { method, headers: Object.fromEntries(headers), agent: url.protocol === "https:" ? agent : undefined, signal },
        (res) => {
          const responseHeaders = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) v.forEach((x) => responseHeaders.append(k, x));
            else if (v !== undefined) responseHeaders.set(k, v);
          }
          const status = res.statusCode ?? 502;
          const noBody = method === "HEAD" || [204, 205, 304].includes(status);
          if (noBody) res.resume();
          resolve(
            new Response(noBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>), {
              status,
              statusText: res.statusMessage,
              headers: responseHeaders,
            }),
          );
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  };
}

async function bodyBytes(body: RequestInit["body"]): Promise<Buffer | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return Buffer.from(await new Response(body).arrayBuffer());
}
