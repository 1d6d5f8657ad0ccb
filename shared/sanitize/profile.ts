/**
 * One cheap pass over the text that lets detectors skip themselves: most ticket text has no "@",
 * no 13-digit run, no "::". A substring search is far cheaper than running a detector's expression.
 */
export interface TextProfile {
  text: string;
  /** lower-cased copy for keyword gates */
  lower: string;
  digits: number;
  colons: number;
  at: boolean;
  plus: boolean;
  dot: boolean;
  quote: boolean;
}

export function profile(text: string): TextProfile {
  let digits = 0;
  let colons = 0;
  let at = false;
  let plus = false;
  let dot = false;
  let quote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 58) colons++;
    else if (c === 64) at = true;
    else if (c === 43) plus = true;
    else if (c === 46) dot = true;
    else if (c === 34) quote = true;
  }
  return { text, lower: text.toLowerCase(), digits, colons, at, plus, dot, quote };
}

/** True when `haystack` contains any of `needles`. */
export function includesAny(haystack: string, needles: readonly string[]): boolean {
  for (const n of needles) if (haystack.includes(n)) return true;
  return false;
}
