// A small subset of Service Bus SQL filter syntax, enough for the subscriptions this project
// defines (e.g. `severity IN ('high','critical')`). Pure: text in, predicate out.
//
// Supported: = <> != < > <= >=, [NOT] IN (…), IS [NOT] NULL, EXISTS(prop), AND, OR, NOT,
// parentheses, 'string' literals ('' escapes a quote), numbers, TRUE/FALSE/NULL,
// property names plain, `user.name`, `sys.Label`-style, or `[bracketed:name]`.
// Logic is three-valued like SQL: a comparison with a missing property is unknown, and a
// message passes only when the whole filter is true.

export type FilterValue = string | number | boolean | null;

export interface FilterInput {
  /** Application properties of the message. */
  user: Record<string, unknown>;
  /** System properties by Service Bus name (MessageId, Label, ContentType, CorrelationId, To, ReplyTo, SessionId). */
  sys?: Record<string, unknown>;
}

export type MessagePredicate = (input: FilterInput) => boolean;

export class FilterSyntaxError extends Error {
  constructor(message: string, readonly filter: string) {
    super(`${message} in filter ${JSON.stringify(filter)}`);
    this.name = "FilterSyntaxError";
  }
}

type Token =
  | { kind: "ident"; text: string }
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "op"; text: string }
  | { kind: "punct"; text: "(" | ")" | "," }
  | { kind: "end" };

type Tri = boolean | null;

type Expr =
  | { kind: "and" | "or"; left: Expr; right: Expr }
  | { kind: "not"; inner: Expr }
  | { kind: "compare"; op: string; left: Operand; right: Operand }
  | { kind: "in"; negated: boolean; operand: Operand; values: FilterValue[] }
  | { kind: "isNull"; negated: boolean; operand: Operand }
  | { kind: "exists"; prop: PropRef }
  | { kind: "literal"; value: Tri };

type PropRef = { scope: "user" | "sys"; name: string };
type Operand = { kind: "prop"; ref: PropRef } | { kind: "value"; value: FilterValue };

const KEYWORDS = new Set(["AND", "OR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE", "EXISTS", "LIKE"]);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterSyntaxError("unterminated string", text);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: "string", value });
    } else if (c === "[") {
      const end = text.indexOf("]", i);
      if (end < 0) throw new FilterSyntaxError("unterminated [name]", text);
      tokens.push({ kind: "ident", text: text.slice(i + 1, end) });
      i = end + 1;
    } else if (/[0-9]/.test(c) || (c === "-" && /[0-9]/.test(text[i + 1] ?? ""))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(text.slice(i));
      if (!m) throw new FilterSyntaxError(`bad number at ${i}`, text);
      tokens.push({ kind: "number", value: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$.-]*/.exec(text.slice(i));
      tokens.push({ kind: "ident", text: m![0] });
      i += m![0].length;
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: "punct", text: c });
      i++;
    } else {
      const m = /^(<>|!=|<=|>=|=|<|>)/.exec(text.slice(i));
      if (!m) throw new FilterSyntaxError(`unexpected ${JSON.stringify(c)} at ${i}`, text);
      tokens.push({ kind: "op", text: m[0] });
      i += m[0].length;
    }
  }
  tokens.push({ kind: "end" });
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[], private readonly text: string) {}

  parse(): Expr {
    const expr = this.or();
    if (this.peek().kind !== "end") this.fail("unexpected trailing input");
    return expr;
  }

  private peek(): Token {
    return this.tokens[this.pos];
  }
  private next(): Token {
    return this.tokens[this.pos++];
  }
  private fail(message: string): never {
    throw new FilterSyntaxError(message, this.text);
  }
  private isKeyword(word: string, t: Token = this.peek()): boolean {
    return t.kind === "ident" && t.text.toUpperCase() === word;
  }
  private expectPunct(p: "(" | ")" | ","): void {
    const t = this.next();
    if (t.kind !== "punct" || t.text !== p) this.fail(`expected ${p}`);
  }

  private or(): Expr {
    let left = this.and();
    while (this.isKeyword("OR")) {
      this.next();
      left = { kind: "or", left, right: this.and() };
    }
    return left;
  }
  private and(): Expr {
    let left = this.not();
    while (this.isKeyword("AND")) {
      this.next();
      left = { kind: "and", left, right: this.not() };
    }
    return left;
  }
  private not(): Expr {
    if (this.isKeyword("NOT")) {
      this.next();
      return { kind: "not", inner: this.not() };
    }
    return this.predicate();
  }

  private predicate(): Expr {
    const t = this.peek();
    if (t.kind === "punct" && t.text === "(") {
      this.next();
      const inner = this.or();
      this.expectPunct(")");
      return inner;
    }
    if (this.isKeyword("EXISTS")) {
      this.next();
      this.expectPunct("(");
      const operand = this.operand();
      this.expectPunct(")");
      if (operand.kind !== "prop") this.fail("EXISTS expects a property name");
      return { kind: "exists", prop: operand.ref };
    }
    const left = this.operand();
    const after = this.peek();
    if (after.kind === "op") {
      this.next();
      return { kind: "compare", op: after.text === "!=" ? "<>" : after.text, left, right: this.operand() };
    }
    if (this.isKeyword("IS")) {
      this.next();
      const negated = this.isKeyword("NOT");
      if (negated) this.next();
      if (!this.isKeyword("NULL")) this.fail("expected NULL after IS");
      this.next();
      return { kind: "isNull", negated, operand: left };
    }
    const negated = this.isKeyword("NOT");
    if (negated) this.next();
    if (this.isKeyword("IN")) {
      this.next();
      this.expectPunct("(");
      const values: FilterValue[] = [];
      for (;;) {
        const v = this.operand();
        if (v.kind !== "value") this.fail("IN expects literal values");
        values.push(v.value);
        const sep = this.next();
        if (sep.kind === "punct" && sep.text === ")") break;
        if (!(sep.kind === "punct" && sep.text === ",")) this.fail("expected , or ) in IN list");
      }
      return { kind: "in", negated, operand: left, values };
    }
    if (left.kind === "value" && typeof left.value === "boolean" && !negated) return { kind: "literal", value: left.value };
    return this.fail("expected a comparison");
  }

  private operand(): Operand {
    const t = this.next();
    if (t.kind === "string") return { kind: "value", value: t.value };
    if (t.kind === "number") return { kind: "value", value: t.value };
    if (t.kind === "ident") {
      const upper = t.text.toUpperCase();
      if (upper === "TRUE") return { kind: "value", value: true };
      if (upper === "FALSE") return { kind: "value", value: false };
      if (upper === "NULL") return { kind: "value", value: null };
      if (KEYWORDS.has(upper)) this.fail(`unexpected keyword ${t.text}`);
      return { kind: "prop", ref: propRef(t.text) };
    }
    return this.fail("expected a property or a literal");
  }
}

function propRef(text: string): PropRef {
  const lower = text.toLowerCase();
  if (lower.startsWith("sys.")) return { scope: "sys", name: text.slice(4) };
  if (lower.startsWith("user.")) return { scope: "user", name: text.slice(5) };
  return { scope: "user", name: text };
}

function lookup(input: FilterInput, ref: PropRef): FilterValue | undefined {
  const bag = ref.scope === "sys" ? (input.sys ?? {}) : input.user;
  // Service Bus property names are case-sensitive for user properties; sys names are not.
  let raw: unknown = bag[ref.name];
  if (raw === undefined && ref.scope === "sys") {
    const key = Object.keys(bag).find((k) => k.toLowerCase() === ref.name.toLowerCase());
    raw = key === undefined ? undefined : bag[key];
  }
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean") return raw;
  if (raw instanceof Date) return raw.getTime();
  return String(raw);
}

function value(input: FilterInput, o: Operand): FilterValue {
  return o.kind === "value" ? o.value : (lookup(input, o.ref) ?? null);
}

function compare(op: string, a: FilterValue, b: FilterValue): Tri {
  if (a === null || b === null) return null;
  // Service Bus converts between numeric types but not between strings and numbers: unknown.
  if (typeof a !== typeof b) return null;
  switch (op) {
    case "=":
      return a === b;
    case "<>":
      return a !== b;
    case "<":
      return a < b;
    case ">":
      return a > b;
    case "<=":
      return a <= b;
    case ">=":
      return a >= b;
    default:
      return null;
  }
}

function evaluate(e: Expr, input: FilterInput): Tri {
  switch (e.kind) {
    case "literal":
      return e.value;
    case "and": {
      const l = evaluate(e.left, input);
      if (l === false) return false;
      const r = evaluate(e.right, input);
      if (r === false) return false;
      return l === null || r === null ? null : true;
    }
    case "or": {
      const l = evaluate(e.left, input);
      if (l === true) return true;
      const r = evaluate(e.right, input);
      if (r === true) return true;
      return l === null || r === null ? null : false;
    }
    case "not": {
      const v = evaluate(e.inner, input);
      return v === null ? null : !v;
    }
    case "compare":
      return compare(e.op, value(input, e.left), value(input, e.right));
    case "in": {
      const v = value(input, e.operand);
      if (v === null) return null;
      const found = e.values.some((x) => x === v);
      return e.negated ? !found : found;
    }
    case "isNull": {
      const isNull = value(input, e.operand) === null;
      return e.negated ? !isNull : isNull;
    }
    case "exists":
      return lookup(input, e.prop) !== undefined;
  }
}

/** Parses a filter once; throws FilterSyntaxError for text it does not understand. Empty or undefined = match everything. */
export function compileFilter(text: string | undefined): MessagePredicate {
  if (text === undefined || text.trim() === "") return () => true;
  const expr = new Parser(tokenize(text), text).parse();
  return (input) => evaluate(expr, input) === true;
}
