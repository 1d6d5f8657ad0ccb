// Escaping per ticket target. Values in a ticket come from run content (error messages, tags,
// agent names): after sanitizing they are still someone else's text, and must render as text —
// never as a link, a heading, a script or a ServiceNow [code] block.

/** Control characters (other than tab/newline) and bidi overrides: they corrupt logs and terminals and can disguise text. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function stripControl(s: string): string {
  return s.replace(/\r\n?/g, "\n").replace(CONTROL, "");
}

/** One line of text: newlines become spaces (for titles, table cells, key/value lines). Not trimmed: inline runs keep their spacing. */
export function oneLine(s: string): string {
  return stripControl(s).replace(/[ \t]*\n\s*/g, " ");
}

// CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that start
// emphasis, links, images, code, tables, strikethrough or wiki-style macros anywhere in a line.
// Line-start syntax (#, -, +, 1.) cannot occur: values are always one line after a label.
const MARKDOWN_SPECIAL = /[\\`*_{}[\]|~>]/g;

/** Inline Markdown text: renders literally on GitHub, Azure DevOps, GitLab and CommonMark renderers. */
export function escapeMarkdown(s: string): string {
  return oneLine(s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(MARKDOWN_SPECIAL, (c) => (c === ">" ? "&gt;" : "\\" + c));
}

/** A Markdown code span that holds `s` literally, with a fence longer than any backtick run inside. */
export function markdownCode(s: string): string {
  const text = oneLine(s);
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A Markdown block quote that shows multi-line text literally: each line escaped, hard line breaks kept. */
export function markdownQuote(s: string): string {
  return stripControl(s)
    .split("\n")
    // Trimmed: 4+ leading spaces would turn the line into an indented code block, which shows escapes literally.
    .map((line) => "> " + escapeMarkdown(line.trim()))
    .join("  \n");
}

export function escapeHtml(s: string): string {
  return stripControl(s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * ServiceNow `description` and journal fields (`work_notes`) are plain text, except that the
 * activity stream renders anything between `[code]` and `[/code]` as raw HTML
 * (glide.ui.security.allow_codetag). So: neutralize those tags and entity-encode HTML, so the text
 * stays inert even on instances that render it.
 */
export function escapeServiceNow(s: string): string {
  return stripControl(s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\[(\s*\/?\s*code\s*)\]/gi, "($1)");
}

/** Only our own, configured links become clickable: http(s) and nothing else. */
export function safeHref(href: string | undefined): string | undefined {
  if (!href) return undefined;
  try {
    const u = new URL(href);
    return u.protocol === "https:" || u.protocol === "http:" ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** Cuts `s` to at most `max` characters, saying so, without splitting a surrogate pair. */
export function truncate(s: string, max: number, marker = "\n… (truncated)"): string {
  if (s.length <= max) return s;
  let cut = Math.max(0, max - marker.length);
  const code = s.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return s.slice(0, cut) + marker;
}
