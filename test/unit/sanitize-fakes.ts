/**
 * Made-up credentials for the sanitizer tests, generated from a seeded PRNG so that no real-looking
 * key sits in the source (secret scanners) and none is copied from the scoring corpus.
 */
let seed = 0x2f6e2b1;
function next(): number {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const BASE64 = ALNUM + "+/";
export const BASE64URL = ALNUM + "-_";
export const HEX = "0123456789abcdef";
export const UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** A random string of `length` characters from `alphabet`, with at least one digit, one upper and one lower case letter when the alphabet has them. */
export function fake(length: number, alphabet = ALNUM): string {
  for (;;) {
    let s = "";
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(next() * alphabet.length)];
    const needs = [/[0-9]/, /[A-Z]/, /[a-z]/].filter((re) => re.test(alphabet));
    if (needs.every((re) => re.test(s))) return s;
  }
}

/** Joins parts at run time so that the source never holds a complete provider-format token. */
export const join = (...parts: string[]): string => parts.join("");
