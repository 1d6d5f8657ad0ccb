import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { services } from "../shared/services.js";
import { parseRegistration, registerRun, type RegistrationResult } from "../shared/tracking/register.js";

const STATUS: Record<RegistrationResult["kind"], number> = {
  registered: 201,
  exists: 200,
  invalid: 400,
  "unknown-project": 400,
  "not-found": 400,
  "over-capacity": 429,
};

export async function registerRunHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return { status: 400, jsonBody: { error: { code: "invalid-json", problems: ["(body): expected a JSON object"] } } };
  }
  const parsed = parseRegistration(body);
  if (!parsed.ok) return { status: 400, jsonBody: { error: { code: "invalid", problems: parsed.problems } } };
  const result = await registerRun((await services()).tracker, parsed.value);
  context.log(`register-run ${parsed.value.project}/${parsed.value.runId}: ${result.kind}`);
  if (result.kind === "registered" || result.kind === "exists") {
    return { status: STATUS[result.kind], jsonBody: { runId: result.head.ref.runId, project: result.head.ref.project, status: result.head.status ?? null, registeredAt: new Date(result.head.registeredAt).toISOString() } };
  }
  return { status: STATUS[result.kind], jsonBody: { error: { code: result.kind, problems: result.problems } } };
}

/** Queue registrations: a bad message throws, so the host retries it and then moves it to the poison queue with the reason logged. */
export async function registerRunQueue(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = parseRegistration(typeof message === "string" ? safeJson(message) : message);
  if (!parsed.ok) throw new Error(`run-registrations message rejected: ${parsed.problems.join("; ")}`);
  const result = await registerRun((await services()).tracker, parsed.value);
  if (result.kind !== "registered" && result.kind !== "exists") throw new Error(`run-registrations message rejected (${result.kind}): ${result.problems.join("; ")}`);
  context.log(`register-run (queue) ${parsed.value.project}/${parsed.value.runId}: ${result.kind}`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

app.http("register-run", { methods: ["POST"], route: "runs", authLevel: "function", handler: registerRunHttp });
app.storageQueue("register-run-queue", { queueName: "run-registrations", connection: "AzureWebJobsStorage", handler: registerRunQueue });
