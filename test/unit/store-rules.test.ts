import { describe, expect, test } from "@jest/globals";
import { InputError } from "../../shared/errors.js";
import { decodeContinuation, encodeContinuation } from "../../shared/store/search.js";
import { compactHead, encodeKey, isIndexed, runKeyOf } from "../../shared/store/store-rules.js";
import { headEntity, headOf, indexEntity, readNumber } from "../../shared/store/table-entities.js";
import type { StoredEntity } from "../../shared/store/table-requests.js";
import { makeHead } from "../integration/store-conformance.js";

describe("store rules", () => {
  test("table keys never carry / \\ # ? | or control characters, and distinct IDs stay distinct", () => {
    const ids = ["a/b", "a\\b", "a#b", "a?b", "a|b", "a%2Fb", "a\u0001b", "a\u0085b", "plain-ID_1.x", "é😀'"];
    const keys = ids.map(encodeKey);
    // eslint-disable-next-line no-control-regex -- the forbidden characters include control characters
    for (const k of keys) expect(k).not.toMatch(/[/\\#?|\u0000-\u001f\u007f-\u009f]/);
    expect(new Set(keys).size).toBe(ids.length);
    expect(encodeKey("plain-ID_1.x")).toBe("plain-ID_1.x");
    expect(runKeyOf("p|1", "r")).not.toBe(runKeyOf("p", "1|r"));
  });

  test("continuation tokens round-trip; foreign ones are input errors", () => {
    expect(decodeContinuation(encodeContinuation(42))).toBe(42);
    expect(decodeContinuation(undefined)).toBe(0);
    expect(() => decodeContinuation("garbage!")).toThrow(InputError);
    expect(() => decodeContinuation(Buffer.from('{"o":-1}').toString("base64url"))).toThrow(InputError);
  });

  test("a large head is split across string properties under 64 KiB without breaking surrogate pairs", () => {
    // Both parities, so one of them puts a chunk boundary inside a surrogate pair.
    for (const pad of ["", "x"]) {
      const head = makeHead("p", "r", { tags: { note: pad + "😀".repeat(40_000) } });
    const entity = headEntity("p|r", head);
    const chunkNames = Object.keys(entity).filter((k) => /^head\d*$/.test(k));
    expect(chunkNames.length).toBeGreaterThan(2);
    for (const name of chunkNames) {
      const chunk = entity[name] as string;
      expect(chunk.length).toBeLessThanOrEqual(30_000);
      expect(Buffer.byteLength(chunk, "utf16le")).toBeLessThanOrEqual(64 * 1024);
      expect(chunk).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    }
    expect(headOf({ ...entity, etag: "x" } as StoredEntity)).toEqual(head);
    expect(headOf({ ...indexEntity("p|r", head, "e"), etag: "y" } as StoredEntity)).toEqual(head);
    }
    expect(() => headEntity("p|r", makeHead("p", "r", { tags: { note: "x".repeat(600_000) } }))).toThrow(/1 MiB/);
  });

  test("compaction keeps the newest 50 steps; the index keeps runs until terminal and drained", () => {
    const steps = Array.from({ length: 60 }, (_, i) => ({ id: `s${i}`, type: "tool_calls", status: "completed", toolCalls: [] }));
    expect(compactHead(makeHead("p", "r", { steps })).steps?.map((s) => s.id)).toEqual(steps.slice(10).map((s) => s.id));
    expect(isIndexed(makeHead("p", "r"))).toBe(true);
    expect(isIndexed(makeHead("p", "r", { terminal: true, pendingOutbox: ["m"] }))).toBe(true);
    expect(isIndexed(makeHead("p", "r", { terminal: true }))).toBe(false);
    expect(readNumber(12n)).toBe(12);
    expect(readNumber({ value: "7", type: "Int64" })).toBe(7);
  });
});
