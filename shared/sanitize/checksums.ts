/** Checks that tell a real card number, IBAN or random key from a number or word that merely looks like one. */

/** Luhn mod-10 over a string of digits (card numbers, Canadian SIN). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** ISO 13616 mod-97 check over an IBAN without spaces (upper case). */
export function ibanValid(iban: string): boolean {
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

const counts = new Uint32Array(128);

/**
 * Shannon entropy in bits per character of s[start, end) (ASCII; anything else counts as one shared
 * symbol). Linear in the length: called for every long token, most of them far shorter than the
 * 128-entry table, so the table is cleared as it is read rather than swept.
 */
export function shannonEntropy(s: string, start = 0, end = s.length): number {
  const n = end - start;
  if (n <= 0) return 0;
  let other = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) counts[c]++;
    else other++;
  }
  let h = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) continue;
    const k = counts[c];
    if (k === 0) continue;
    counts[c] = 0;
    const p = k / n;
    h -= p * Math.log2(p);
  }
  if (other) {
    const p = other / n;
    h -= p * Math.log2(p);
  }
  return h;
}

export interface CharClasses {
  upper: number;
  lower: number;
  digit: number;
  other: number;
}

/** Letters, digits and the rest in s[start, end). */
export function charClasses(s: string, start = 0, end = s.length): CharClasses {
  const r = { upper: 0, lower: 0, digit: 0, other: 0 };
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) r.upper++;
    else if (c >= 97 && c <= 122) r.lower++;
    else if (c >= 48 && c <= 57) r.digit++;
    else r.other++;
  }
  return r;
}
