import { describe, expect, it } from "@jest/globals";
import { cue, profile } from "../../shared/sanitize/profile.js";
import { execAt, literalStarts, stickyCopy } from "../../shared/sanitize/scan.js";

/** Every match a plain global scan finds, as [index, text]. */
function globalScan(re: RegExp, text: string): [number, string][] {
  const g = new RegExp(re.source, re.flags.replace("y", "") + "g");
  return [...text.matchAll(g)].map((m) => [m.index ?? -1, m[0]]);
}

function anchoredScan(re: RegExp, text: string, starts: number[]): [number, string][] {
  const out: [number, string][] = [];
  execAt(stickyCopy(re), text, starts, (m) => out.push([m.index, m[0]]));
  return out;
}

const MIXED =
  "run_Ab12Cd34 at 2026-01-02T03:04:05Z; call +44 20 7946 0958 or (406) 362-9432; ssn 123-45-6789; card 4012 8888 8888 1881; " +
  "sk-abcdefghijklmnopqrstuvwxyz12 and SK-NOT; ip 10.1.2.3, 999.1.1.1; GB82 WEST 1234 5698 7654 32; Dear Jane, From: Ann <a@b.co>";

describe("sanitize scanning: anchored sticky scans find what a global scan finds", () => {
  it("execAt at literal anchors equals a global scan, overlapping anchors included", () => {
    const re = /\bsk-[A-Za-z0-9]{20,}/;
    const text = `${MIXED} sk-sk-sk-aaaaaaaaaaaaaaaaaaaaaaaaa xsk-bbbbbbbbbbbbbbbbbbbbbbbbbbbb`;
    expect(anchoredScan(re, text, literalStarts(text, ["sk-"]))).toEqual(globalScan(re, text));
    expect(globalScan(re, text).length).toBeGreaterThan(0);
  });

  it("execAt honours a global scan's non-overlap: a match's end is where the next may begin", () => {
    const re = /a{2,3}/;
    const text = "aaaaaaa";
    const everywhere = Array.from({ length: text.length }, (_, i) => i);
    expect(anchoredScan(re, text, everywhere)).toEqual(globalScan(re, text));
  });

  it("literalStarts merges several literals in order and applies the offset", () => {
    expect(literalStarts("xx_live_yy_test_zz_live_", ["_live_", "_test_"], 2)).toEqual([0, 8, 16]);
    expect(literalStarts("ab", ["zz"])).toEqual([]);
  });
});

describe("sanitize scanning: the one-pass text profile", () => {
  const bit = cue(["telephone", "tel", "call me"]);

  it("cues word starts whose keyword matches in any case, and only at word starts", () => {
    const text = "Tel: 1, TELEPHONE 2, hotel 3, call me 4, callback 5, _tel 6, (tel) 7";
    const p = profile(text);
    const found = p.cues(bit).map((i) => text.slice(i, i + 4));
    expect(found).toEqual(["Tel:", "TELE", "call", "tel)"]);
  });

  it("counts digits and finds digit runs, capitalised runs and long token runs", () => {
    const text = "ab12 345x GB82WEST _DE44 eT ZZ 0123456789abcdefXYZ+/==";
    const p = profile(text);
    expect(p.digits).toBe(2 + 3 + 2 + 2 + 10);
    expect(p.numbers((_s, len) => len === 3).map((s) => text.slice(s, s + 3))).toEqual(["345"]);
    expect(p.caps(() => true).map((s) => text.slice(s, s + 4))).toEqual(["GB82", "DE44", "ZZ 0"]);
    const runs = p.tokenRuns;
    expect(runs.length).toBe(2);
    expect(text.slice(runs[0], runs[1])).toBe("0123456789abcdefXYZ+/");
  });

  it("records assignment operators and the flags detectors skip themselves by", () => {
    const p = profile('key: "v" a=b c@d e+f g.h');
    expect(p.operators.length).toBe(2);
    expect(p.colons).toBe(1);
    expect([p.at, p.plus, p.dot, p.quote]).toEqual([true, true, true, true]);
    expect(profile("plain words").operators).toEqual([]);
  });
});
