import { describe, expect, it } from "@jest/globals";
import { findSensitive, sanitize } from "../../shared/sanitize/index.js";
import { BASE64, BASE64URL, HEX, UPPER_DIGITS, fake, join } from "./sanitize-fakes.js";

/** The secret is gone and a marker of the expected kind took its place; the rest is untouched. */
function expectRedacted(text: string, secret: string, kind: string): string {
  const out = sanitize(text);
  expect(out).not.toContain(secret);
  expect(out).toContain(`[REDACTED:${kind}]`);
  return out;
}

describe("sanitize: provider key formats", () => {
  it.each([
    ["GitHub classic PAT", join("gh", "p_", fake(36)), "github-token"],
    ["GitHub app token", join("gh", "s_", fake(36)), "github-token"],
    ["GitHub OAuth token", join("gh", "o_", fake(36)), "github-token"],
    ["GitHub fine-grained PAT", join("github", "_pat_", fake(22), "_", fake(59)), "github-token"],
    ["AWS access key id", join("AK", "IA", fake(16, UPPER_DIGITS)), "aws-key"],
    ["AWS temporary key id", join("AS", "IA", fake(16, UPPER_DIGITS)), "aws-key"],
    ["OpenAI project key", join("sk", "-proj-", fake(48, BASE64URL)), "openai-key"],
    ["OpenAI legacy key", join("sk", "-", fake(48)), "openai-key"],
    ["Slack bot token", join("xo", "xb-", fake(12, "0123456789"), "-", fake(12, "0123456789"), "-", fake(24)), "slack-token"],
    ["Slack user token", join("xo", "xp-", fake(11, "0123456789"), "-", fake(32)), "slack-token"],
    ["Stripe live secret", join("sk", "_live_", fake(32)), "stripe-key"],
    ["Stripe restricted key", join("rk", "_live_", fake(40)), "stripe-key"],
    ["Stripe publishable key", join("pk", "_live_", fake(30)), "stripe-key"],
    ["Google API key", join("AI", "za", fake(35, BASE64URL)), "google-api-key"],
    ["Entra client secret", join(fake(3), "7", "Q~", fake(34, BASE64URL + ".~")), "client-secret"],
  ])("%s in free text", (_name, secret, kind) => {
    const out = expectRedacted(`the tool printed ${secret} before it crashed`, secret, kind);
    expect(out).toBe(`the tool printed [REDACTED:${kind}] before it crashed`);
  });

  it("an AWS secret access key near an AWS word, but not a 40-char hex digest without one", () => {
    const secret = fake(40, BASE64);
    expectRedacted(`aws configure set secret ${secret}`, secret, "aws-key");
    const digest = fake(40, HEX);
    expect(sanitize(`build ${digest} finished`)).toBe(`build ${digest} finished`);
  });

  it("a Storage account key on its own (86 base64 chars and ==)", () => {
    const key = fake(86, BASE64) + "==";
    expectRedacted(`key was ${key}`, key, "connection-string");
  });
});

describe("sanitize: tokens and headers", () => {
  const jwt = join("ey", "J", fake(30, BASE64URL), ".", "eyJ", fake(60, BASE64URL), ".", fake(43, BASE64URL));

  it("JWTs anywhere, including after Bearer and access_token=", () => {
    expectRedacted(`id_token ${jwt}`, jwt, "jwt");
    expect(sanitize(`Authorization: Bearer ${jwt}`)).toBe("Authorization: Bearer [REDACTED:jwt]");
    expect(sanitize(`?access_token=${jwt}&x=1`)).toBe("?access_token=[REDACTED:jwt]&x=1");
  });

  it("opaque bearer tokens and other Authorization schemes keep the scheme visible", () => {
    const opaque = fake(40, BASE64URL + ".~");
    expect(sanitize(`Authorization: Bearer ${opaque}`)).toBe("Authorization: Bearer [REDACTED:bearer]");
    const basic = Buffer.from(`svc:${fake(12)}`).toString("base64");
    expect(sanitize(`{"Authorization": "Basic ${basic}"}`)).toBe('{"Authorization": "Basic [REDACTED:authorization]"}');
  });

  it("API key headers: Ocp-Apim-Subscription-Key, api-key, x-api-key", () => {
    const k = fake(32, HEX);
    expect(sanitize(`Ocp-Apim-Subscription-Key: ${k}`)).toBe("Ocp-Apim-Subscription-Key: [REDACTED:api-key]");
    expect(sanitize(`api-key: ${k}`)).toBe("api-key: [REDACTED:api-key]");
    expect(sanitize(`{"x-api-key":"${k}"}`)).toBe('{"x-api-key":"[REDACTED:api-key]"}');
  });

  it("PEM private keys, whole blocks, JSON-escaped blocks and truncated blocks", () => {
    const lines = [fake(64, BASE64), fake(64, BASE64), fake(20, BASE64) + "=="];
    for (const label of ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]) {
      const block = `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----`;
      expect(sanitize(`key:\n${block}\nnext line`)).toBe("key:\n[REDACTED:private-key]\nnext line");
    }
    const escaped = `"-----BEGIN PRIVATE KEY-----\\n${lines.join("\\n")}\\n-----END PRIVATE KEY-----"`;
    expect(sanitize(escaped)).toBe('"[REDACTED:private-key]"');
    const truncated = `-----BEGIN PRIVATE KEY-----\n${lines[0]}\n${lines[1]}`;
    const out = sanitize(`${truncated}\n... (output truncated)`);
    for (const l of lines.slice(0, 2)) expect(out).not.toContain(l);
    expect(out).toContain("(output truncated)");
  });
});

describe("sanitize: connection strings and assignments", () => {
  it("Storage, Service Bus / Event Hubs, SQL, Cosmos and Redis strings lose only their secret parts", () => {
    const accountKey = fake(86, BASE64) + "==";
    expect(sanitize(`DefaultEndpointsProtocol=https;AccountName=stcontosoprod;AccountKey=${accountKey};EndpointSuffix=core.windows.net`)).toBe(
      "DefaultEndpointsProtocol=https;AccountName=stcontosoprod;AccountKey=[REDACTED:connection-string];EndpointSuffix=core.windows.net",
    );
    const sbKey = fake(43, BASE64) + "=";
    expect(sanitize(`Endpoint=sb://ns-orders.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=${sbKey};EntityPath=orders`)).toBe(
      "Endpoint=sb://ns-orders.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=[REDACTED:connection-string];EntityPath=orders",
    );
    const pwd = "p@" + fake(10) + "#!";
    expect(sanitize(`Server=tcp:sql-orders.database.windows.net,1433;Initial Catalog=orders;User Id=svc;Pwd=${pwd};Encrypt=True`)).toBe(
      "Server=tcp:sql-orders.database.windows.net,1433;Initial Catalog=orders;User Id=svc;Pwd=[REDACTED:password];Encrypt=True",
    );
    expect(sanitize(`AccountEndpoint=https://cosmos-x.documents.azure.com:443/;AccountKey=${accountKey};`)).toBe(
      "AccountEndpoint=https://cosmos-x.documents.azure.com:443/;AccountKey=[REDACTED:connection-string];",
    );
    const redis = fake(44, BASE64);
    expect(sanitize(`cache-x.redis.cache.windows.net:6380,password=${redis},ssl=True`)).toBe(
      "cache-x.redis.cache.windows.net:6380,password=[REDACTED:password],ssl=True",
    );
  });

  it("SAS signatures in URLs and SharedAccessSignature strings; the rest of the URL stays", () => {
    const sig = encodeURIComponent(fake(43, BASE64) + "=");
    const url = `https://stx.blob.core.windows.net/c/f.json?sv=2024-11-04&se=2026-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=${sig}`;
    expect(sanitize(url)).toBe(url.replace(sig, "[REDACTED:sas]"));
  });

  it("passwords in URLs of any scheme", () => {
    const pw = fake(14) + "%21";
    expect(sanitize(`amqps://svc:${pw}@broker.internal:5671/vhost`)).toBe("amqps://svc:[REDACTED:password]@broker.internal:5671/vhost");
    expect(sanitize(`mongodb+srv://app:${pw}@cluster0.example.net/db`)).toBe("mongodb+srv://app:[REDACTED:password]@cluster0.example.net/db");
  });

  it("credential assignments in env, YAML, JSON, CLI flags and prose", () => {
    const v = fake(18) + "$!";
    expect(sanitize(`DB_PASSWORD=${v}\nLOG_LEVEL=info`)).toBe("DB_PASSWORD=[REDACTED:password]\nLOG_LEVEL=info");
    expect(sanitize(`db:\n  password: "${v}"\n  user: app`)).toBe('db:\n  password: "[REDACTED:password]"\n  user: app');
    expect(sanitize(`{"clientSecret": "${v}", "clientId": "app"}`)).toBe('{"clientSecret": "[REDACTED:client-secret]", "clientId": "app"}');
    expect(sanitize(`mytool --password ${v} --verbose`)).toBe("mytool --password [REDACTED:password] --verbose");
    expect(sanitize(`refresh_token = ${fake(30, BASE64URL)}`)).toBe("refresh_token = [REDACTED:token]");
    expect(sanitize(`the password is ${v}, please rotate`)).toBe("the password is [REDACTED:password], please rotate");
    expect(sanitize(`MY_SECRET: ${v}.`)).toBe("MY_SECRET: [REDACTED:secret].");
  });

  it("high-entropy values near credential words, and long random strings anywhere", () => {
    const nearWord = fake(24);
    expect(sanitize(`the signing secret rotated to ${nearWord} today`)).toContain("[REDACTED:high-entropy]");
    const loose = fake(48, BASE64);
    expect(sanitize(`blob ${loose} end`)).toBe("blob [REDACTED:high-entropy] end");
  });

  it("leaves descriptions of credentials, placeholders and earlier redactions alone", () => {
    for (const text of [
      "the password is required",
      "password: ********",
      "api_key: YOUR_API_KEY",
      'token: "${TOKEN}"',
      "Bearer authentication failed; token expired",
      "password=[REDACTED:password]",
      "SharedAccessKeyName=RootManageSharedAccessKey",
      "max_tokens: 4096, prompt_tokens=1200",
      "RowKey=run_Q2x9LmN4pR7sT1vW3yZ5aB8c;PartitionKey=shard-07",
    ]) {
      expect(sanitize(text)).toBe(text);
    }
  });
});

describe("findSensitive", () => {
  it("reports kinds and offsets that slice back to the secret", () => {
    const key = join("gh", "p_", fake(36));
    const text = `token ${key} and password=${"x".repeat(3)}Y9z`;
    const found = findSensitive(text);
    expect(found.map((f) => f.kind)).toEqual(["github-token", "password"]);
    expect(text.slice(found[0].start, found[0].end)).toBe(key);
    expect(text.slice(found[1].start, found[1].end)).toBe("xxxY9z");
  });
});
