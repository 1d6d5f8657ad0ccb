/**
 * Where streamed plain text can be cut so that no finding straddles two chunks: after a newline,
 * but never inside a PEM block that has begun and not yet ended (its lines only make sense together).
 */
const BEGIN = "-----BEGIN ";
const END = "-----END ";

/** Index just past the last safe newline in `buffer`, or 0 when more input is needed. */
export function safeCut(buffer: string): number {
  let limit = buffer.length;
  const begin = buffer.lastIndexOf(BEGIN);
  if (begin >= 0 && buffer.indexOf(END, begin) < 0) limit = begin;
  const nl = buffer.lastIndexOf("\n", limit - 1);
  return nl < 0 ? 0 : nl + 1;
}
