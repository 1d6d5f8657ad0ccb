/** Normalizes anything thrown into an Error, once, at a boundary. */
export function ensureError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === "string" ? e : JSON.stringify(e));
}

/** Bad input from outside (a scenario file, a CLI argument, a registration): exit 2 / HTTP 400, never a stack trace. */
export class InputError extends Error {
  constructor(message: string, readonly problems: string[] = [message]) {
    super(message);
    this.name = "InputError";
  }
}
