// How sinks fail: transient (5xx, 408, 429, timeouts, refused connections) vs permanent (other
// 4xx), and never with a credential in the error.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { draftTicket } from "../../shared/tickets/draft.js";
import { buildEvidence } from "../../shared/tickets/evidence.js";
import { exampleEvidenceInput } from "../../shared/tickets/example.js";
import { SinkConfig, type SinkConfigInput, SinkError, type TicketSink, createSink } from "../../shared/tickets/sinks/index.js";
import { type FakeServer, startFakeAzureDevOps, startFakeJira, startFakePagerDuty, startFakeServiceNow, startFakeWebhook } from "../support/fake-ticket-servers.js";

const SECRETS: Record<string, string> = {
  SNOW_PASSWORD: "sn-pass-Q8v!x2Lr-failure",
  JIRA_API_TOKEN: "ATATT3xFfGF0-jira-failure-token",
  ADO_PAT: "ado-pat-failure-4n7q2w9e8r7t6y5u",
  PAGERDUTY_ROUTING_KEY: "FailR0ut1ngKeyFailR0ut1ngKey0032",
  WEBHOOK_SECRET: "whsec-failure-shared-secret",
};
const draft = () => draftTicket(buildEvidence(exampleEvidenceInput()), { reason: "failed", severity: "high", episode: 1 });

async function failure(p: Promise<unknown>): Promise<SinkError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SinkError);
    return e as SinkError;
  }
  throw new Error("expected the sink call to fail");
}

/** Everything a logger might print about an error. */
const printed = (e: SinkError) => [e.message, String(e), e.stack ?? "", JSON.stringify(e)].join("\n");

function expectNoSecrets(e: SinkError) {
  const text = printed(e);
  for (const s of Object.values(SECRETS)) {
    expect(text).not.toContain(s);
    expect(text).not.toContain(Buffer.from(s).toString("base64"));
  }
  expect(text).not.toMatch(/Basic [A-Za-z0-9+/=]{8,}|Bearer [A-Za-z0-9._-]{8,}/);
}

interface Target {
  name: string;
  start: () => Promise<FakeServer>;
  config: (url: string) => SinkConfigInput;
}

const targets: Target[] = [
  {
    name: "servicenow",
    start: () => startFakeServiceNow({ basic: { user: "svc", password: SECRETS.SNOW_PASSWORD } }),
    config: (url) => ({ name: "desk", kind: "servicenow", instanceUrl: url, timeoutMs: 400, auth: { type: "basic", user: "svc", passwordSetting: "SNOW_PASSWORD" } }),
  },
  {
    name: "jira",
    start: () => startFakeJira({ email: "runmon@contoso.com", token: SECRETS.JIRA_API_TOKEN }, "OPS"),
    config: (url) => ({ name: "jira", kind: "jira", baseUrl: url, timeoutMs: 400, email: "runmon@contoso.com", tokenSetting: "JIRA_API_TOKEN", projectKey: "OPS" }),
  },
  {
    name: "azure-devops",
    start: () => startFakeAzureDevOps("contoso", "proj", { pat: SECRETS.ADO_PAT }),
    config: (url) => ({ name: "boards", kind: "azure-devops", organizationUrl: `${url}/contoso`, project: "proj", timeoutMs: 400, auth: { type: "pat", patSetting: "ADO_PAT" } }),
  },
  {
    name: "pagerduty",
    start: () => startFakePagerDuty(),
    config: (url) => ({ name: "oncall", kind: "pagerduty", baseUrl: url, timeoutMs: 400, routingKeySetting: "PAGERDUTY_ROUTING_KEY" }),
  },
  {
    name: "webhook",
    start: () => startFakeWebhook(SECRETS.WEBHOOK_SECRET),
    config: (url) => ({ name: "hook", kind: "webhook", url: `${url}/hook?token=${SECRETS.WEBHOOK_SECRET}`, timeoutMs: 400, secretSetting: "WEBHOOK_SECRET" }),
  },
];

describe.each(targets)("$name sink failures", ({ start, config }) => {
  let fake: FakeServer;
  let sink: TicketSink;
  beforeAll(async () => {
    fake = await start();
    sink = createSink(SinkConfig.parse(config(fake.url)), (n) => SECRETS[n]);
  });
  afterAll(() => fake.close());

  it("5xx is transient", async () => {
    fake.failNext({ status: 503, body: { error: "Service Unavailable" } });
    const e = await failure(sink.open(draft()));
    expect(e).toMatchObject({ permanent: false, status: 503 });
    expect(e.message).toContain("HTTP 503");
  });

  it("429 and 408 are transient; Retry-After is kept", async () => {
    fake.failNext({ status: 429, body: { error: "throttled" }, headers: { "Retry-After": "7" } });
    expect(await failure(sink.open(draft()))).toMatchObject({ permanent: false, status: 429, retryAfterMs: 7000 });
    fake.failNext({ status: 408 });
    expect(await failure(sink.open(draft()))).toMatchObject({ permanent: false, status: 408 });
  });

  it("400 is permanent, and an echoed credential does not reach the error", async () => {
    // A target that echoes the request (auth header and body) in its error body: the worst case.
    fake.failNext((req) => ({ status: 400, body: { echo: req.headers.authorization ?? "", request: req.rawBody.slice(0, 120) } }));
    const e = await failure(sink.open(draft()));
    expect(e).toMatchObject({ permanent: true, status: 400 });
    expect(e.message).toContain("HTTP 400");
    expectNoSecrets(e);
  });

  it("a timeout is transient and names no credential or secret URL", async () => {
    fake.failNext("hang");
    const started = Date.now();
    const e = await failure(sink.open(draft()));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(e.permanent).toBe(false);
    expect(e.status).toBeUndefined();
    expect(e.message).toContain("timed out after 400 ms");
    expectNoSecrets(e);
  });

  it("the real API's own rejection (e.g. bad auth) is permanent and scrubbed", async () => {
    const wrong = createSink(SinkConfig.parse(config(fake.url)), (n) => (n === "PAGERDUTY_ROUTING_KEY" ? "short-key" : "wrong-" + SECRETS[n]));
    const e = await failure(wrong.open(draft()));
    expect(e.permanent).toBe(true);
    expect([400, 401]).toContain(e.status);
    expect(printed(e)).not.toContain("wrong-");
    expectNoSecrets(e);
  });
});

describe("connection failures", () => {
  let closedPort: number;
  beforeAll(async () => {
    // Take a port, then free it: connecting to it is refused.
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    closedPort = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
  });

  it("a refused connection is transient", async () => {
    const sink = createSink(SinkConfig.parse({ name: "jira", kind: "jira", baseUrl: `http://127.0.0.1:${closedPort}`, email: "a@b.c", tokenSetting: "JIRA_API_TOKEN", projectKey: "OPS" }), (n) => SECRETS[n]);
    const e = await failure(sink.open(draft()));
    expect(e.permanent).toBe(false);
    expect(e.message).toMatch(/network error: ECONNREFUSED/);
    expectNoSecrets(e);
  });

  it("a redirect is not followed (it would replay credentials elsewhere) and is permanent", async () => {
    const s = http.createServer((_req, res) => {
      res.writeHead(302, { Location: "http://127.0.0.1:1/elsewhere" });
      res.end();
    });
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
      const sink = createSink(SinkConfig.parse({ name: "desk", kind: "servicenow", instanceUrl: url, auth: { type: "bearer", tokenSetting: "T" } }), () => "bearer-secret-value");
      const e = await failure(sink.open(draft()));
      expect(e).toMatchObject({ permanent: true, status: 302 });
    } finally {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});
