import { describe, expect, test } from "@jest/globals";
import { defaultBucket, parseEvidenceQuery, parseIsoInstant, parseNoQuery, parseSearchQuery, parseStatsQuery } from "../../shared/api/query.js";
import { matchRoute } from "../../shared/api/handle.js";
import { badRequest, errorResponse } from "../../shared/api/errors.js";

const q = (s: string) => new URLSearchParams(s);

describe("parseSearchQuery", () => {
  test("reads every filter", () => {
    const r = parseSearchQuery(q("runId=run_1&threadId=thread_1&session=s&agentId=asst_1&owner=o&project=p&status=failed&reason=stalled-queued&api=classic&from=2026-03-02T09:00:00Z&to=2026-03-03&limit=10&continuationToken=eyJvIjo1MH0"));
    expect(r).toEqual({
      ok: true,
      value: { runId: "run_1", threadId: "thread_1", session: "s", agentId: "asst_1", owner: "o", project: "p", status: "failed", reason: "stalled-queued", api: "classic", from: Date.UTC(2026, 2, 2, 9), to: Date.UTC(2026, 2, 3), limit: 10, continuationToken: "eyJvIjo1MH0" },
    });
  });

  test("defaults the page size and treats blank fields as absent", () => {
    expect(parseSearchQuery(q("project=&status="))).toEqual({ ok: true, value: { limit: 50 } });
  });

  test("names each bad parameter with its reason", () => {
    const r = parseSearchQuery(q("thread=x&status=stuck&from=last-week&limit=500&runId=a&runId=b&continuationToken=%3Cscript%3E"));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([
      expect.stringMatching(/^thread: unknown parameter; expected one of runId, threadId/),
      "runId: given more than once",
      expect.stringMatching(/^status: expected one of queued, in_progress/),
      'from: expected an ISO-8601 time such as 2026-03-02T09:00:00Z, got "last-week"',
      'limit: expected an integer from 1 to 200, got "500"',
      "continuationToken: not a token this search returned",
    ]);
  });

  test("limit bounds are inclusive and must be whole numbers", () => {
    expect(parseSearchQuery(q("limit=1")).ok).toBe(true);
    expect(parseSearchQuery(q("limit=200")).ok).toBe(true);
    for (const bad of ["0", "201", "1.5", "-3", "ten"]) expect(parseSearchQuery(q(`limit=${bad}`)).ok).toBe(false);
  });

  test("from after to is refused", () => {
    const r = parseSearchQuery(q("from=2026-03-03&to=2026-03-02"));
    expect(r).toEqual({ ok: false, problems: ["from: must not be after to"] });
  });
});

describe("parseIsoInstant", () => {
  test("dates and zoned date-times only", () => {
    expect(parseIsoInstant("2026-03-02")).toBe(Date.UTC(2026, 2, 2));
    expect(parseIsoInstant("2026-03-02T10:00:00+01:00")).toBe(Date.UTC(2026, 2, 2, 9));
    expect(parseIsoInstant("2026-03-02T09:00:00.123Z")).toBe(Date.UTC(2026, 2, 2, 9, 0, 0, 123));
    for (const bad of ["2026-03-02T09:00", "1709370000", "March 2", "2026-02-30T00:00:00Z", "2026-13-01"]) expect(parseIsoInstant(bad)).toBeUndefined();
  });
});

describe("other routes' parameters", () => {
  test("evidence format", () => {
    expect(parseEvidenceQuery(q(""))).toEqual({ ok: true, value: { format: "json" } });
    expect(parseEvidenceQuery(q("format=md&code=k"))).toEqual({ ok: true, value: { format: "md" } });
    expect(parseEvidenceQuery(q("format=html"))).toEqual({ ok: false, problems: ['format: expected json or md, got "html"'] });
  });

  test("routes without parameters still refuse unknown ones", () => {
    expect(parseNoQuery(q("code=k")).ok).toBe(true);
    expect(parseNoQuery(q("verbose=1"))).toEqual({ ok: false, problems: ["verbose: unknown parameter; expected one of "] });
  });

  test("stats defaults to the last day and picks a bucket that draws it in at most 60 bars", () => {
    const now = Date.UTC(2026, 2, 2, 12);
    expect(parseStatsQuery(q(""), now)).toEqual({ ok: true, value: { from: now - 86_400_000, to: now, bucket: "1h" } });
    expect(defaultBucket(3_600_000)).toBe("5m");
    expect(defaultBucket(30 * 86_400_000)).toBe("1d");
    const tooFine = parseStatsQuery(q("from=2026-01-01&to=2026-03-01&bucket=5m"), now);
    expect(tooFine.ok).toBe(false);
  });
});

describe("routes and error bodies", () => {
  test("matchRoute", () => {
    expect(matchRoute("/api/runs")).toEqual({ name: "search" });
    expect(matchRoute("/api/stats")).toEqual({ name: "stats" });
    expect(matchRoute("/api/runs/prod/run_1")).toEqual({ name: "run", project: "prod", runId: "run_1" });
    expect(matchRoute("/api/runs/my%20proj/run_1/timeline")).toEqual({ name: "timeline", project: "my proj", runId: "run_1" });
    expect(matchRoute("/api/runs/prod/run_1/evidence")).toEqual({ name: "evidence", project: "prod", runId: "run_1" });
    expect(matchRoute("/api/runs/prod")).toBeUndefined();
    expect(matchRoute("/api/runs/prod/run_1/steps")).toBeUndefined();
    expect(matchRoute("/api/runs/%E0%A4%A/run")).toBeUndefined();
  });

  test("one shape for every error, messages sanitized", () => {
    const r = errorResponse(500, "internal", "the API failed: cannot reach https://acct.table.core.windows.net/?sig=abcdefghijklmnopqrstuvwxyz0123456789ABCDEF for jane.doe@contoso.com");
    const body = r.json as { error: { code: string; message: string } };
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error.code).toBe("internal");
    expect(body.error.message).not.toContain("jane.doe@contoso.com");
    expect(body.error.message).not.toContain("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF");
    expect(r.headers["Cache-Control"]).toBe("no-store");
    expect(badRequest(["limit: x"]).json).toEqual({ error: { code: "bad-request", message: "limit: x", problems: ["limit: x"] } });
    expect((badRequest(["a: x", "b: y"]).json as { error: { message: string } }).error.message).toBe("2 problems with the request");
  });
});
