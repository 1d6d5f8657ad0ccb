// The compliance dashboard: plain JavaScript, no build step, no libraries. Every value from the API
// goes into the page through textContent or attributes, never as HTML.

const STATUSES = ["queued", "in_progress", "requires_action", "cancelling", "cancelled", "failed", "completed", "expired", "incomplete"];
const REASONS = ["failed", "expired", "incomplete", "cancelled", "stalled-queued", "stalled-in-progress", "stalled-requires-action", "stalled-cancelling", "max-runtime", "vanished"];
const COLORS = {
  queued: "#64748b", in_progress: "#2563eb", requires_action: "#d97706", cancelling: "#c2410c", cancelled: "#94a3b8",
  failed: "#dc2626", completed: "#16a34a", expired: "#7c3aed", incomplete: "#a16207", unobserved: "#cbd5e1",
  "stalled-queued": "#0891b2", "stalled-in-progress": "#2563eb", "stalled-requires-action": "#d97706", "stalled-cancelling": "#c2410c",
  "max-runtime": "#db2777", vanished: "#475569",
};
const RANGES = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 };
const PAGE = 50;

const $ = (id) => document.getElementById(id);
const state = { filters: {}, token: undefined, chartMode: "status", stats: undefined, shown: 0, tools: undefined };

// ---------- small helpers ----------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const label = (s) => String(s).replace(/_/g, " ");
const utc = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "—");
const code = (text) => el("code", { text });
const statusChip = (status) => el("span", { class: `chip s-${status ?? "unobserved"}`, text: label(status ?? "not yet observed") });
const runHash = (project, runId) => `#/runs/${encodeURIComponent(project)}/${encodeURIComponent(runId)}`;

function notice(text) {
  $("notice").textContent = text;
}

function showError(text) {
  const box = $("error");
  box.textContent = text;
  box.hidden = !text;
}

// A function key can be handed over once in the page URL (?code=…); it is kept for this tab only
// and sent as x-functions-key, as the Functions host expects.
function functionKey() {
  const fromUrl = new URLSearchParams(location.search).get("code");
  if (fromUrl) sessionStorage.setItem("run-monitor-key", fromUrl);
  return sessionStorage.getItem("run-monitor-key") ?? undefined;
}

function apiUrl(path, params = {}) {
  const url = new URL(`/api/${path}`, location.origin);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") url.searchParams.set(k, v);
  return url;
}

async function api(path, params) {
  const key = functionKey();
  let res;
  try {
    res = await fetch(apiUrl(path, params), { headers: { Accept: "application/json", ...(key ? { "x-functions-key": key } : {}) }, credentials: "same-origin" });
  } catch {
    throw new Error("The monitor's API cannot be reached. Check that it is running.");
  }
  const body = await res.json().catch(() => undefined);
  if (!res.ok) {
    const err = body?.error;
    const detail = err?.problems?.length > 1 ? `: ${err.problems.join("; ")}` : "";
    const e = new Error(err ? `${err.message}${detail}` : `The API answered ${res.status}.`);
    e.status = res.status;
    throw e;
  }
  return body;
}

// ---------- filters ----------

function readFilters() {
  const f = new FormData($("filters"));
  const filters = {};
  for (const name of ["project", "agentId", "status", "reason"]) {
    const v = String(f.get(name) ?? "").trim();
    if (v) filters[name] = v;
  }
  const range = String(f.get("range"));
  if (range === "custom") {
    const from = String(f.get("from") ?? "");
    const to = String(f.get("to") ?? "");
    if (from) filters.from = new Date(`${from}:00Z`).toISOString();
    if (to) filters.to = new Date(`${to}:59Z`).toISOString();
  } else {
    filters.from = new Date(Date.now() - RANGES[range]).toISOString();
  }
  return filters;
}

function fillSelect(select, values) {
  for (const v of values) select.append(el("option", { value: v, text: label(v) }));
}

// ---------- list view ----------

async function loadList() {
  showError("");
  state.filters = readFilters();
  state.token = undefined;
  state.shown = 0;
  $("runs-body").replaceChildren();
  notice("Loading runs…");
  const { status: _s, reason: _r, agentId: _a, ...statsFilters } = state.filters;
  const [runs, stats] = await Promise.allSettled([api("runs", { ...state.filters, limit: PAGE }), api("stats", { from: statsFilters.from, to: statsFilters.to, project: statsFilters.project })]);
  if (stats.status === "fulfilled") {
    state.stats = stats.value;
    renderChips(stats.value);
    renderChart();
  }
  if (runs.status === "rejected") {
    notice("");
    showError(runs.reason.message);
    return;
  }
  if (stats.status === "rejected") showError(`The chart could not be drawn: ${stats.reason.message}`);
  appendRuns(runs.value);
  await loadInsights();
}

async function loadMore() {
  if (!state.token) return;
  try {
    appendRuns(await api("runs", { ...state.filters, limit: PAGE, continuationToken: state.token }));
  } catch (e) {
    showError(e.message);
  }
}

function runRow(run, extraCell) {
  const escalations = run.reasons.length
    ? el("span", { class: "reasons" }, ...run.reasons.map((r) => el("span", { class: `tag${run.activeReasons.includes(r) ? " active" : ""}`, text: r, title: run.activeReasons.includes(r) ? "episode still open" : "episode closed" })))
    : el("span", { class: "muted", text: "—" });
  return el(
    "tr",
    {},
    extraCell,
    el("td", {}, statusChip(run.status)),
    el("td", {}, el("a", { href: runHash(run.project, run.runId), class: "mono" }, run.runId)),
    el("td", { class: "mono" }, run.threadId || "—"),
    el("td", { class: "mono" }, run.agentName ? `${run.agentName} (${run.agentId ?? "?"})` : run.agentId ?? "—"),
    el("td", {}, run.project),
    el("td", { class: "nowrap" }, utc(run.registeredAt)),
    el("td", {}, escalations),
  );
}

function appendRuns(page) {
  for (const run of page.runs) $("runs-body").append(runRow(run));
  state.shown += page.runs.length;
  state.token = page.continuationToken;
  $("load-more").hidden = !state.token;
  $("runs-empty").hidden = state.shown > 0;
  $("runs-count").textContent = `(${state.shown}${state.token ? "+" : ""})`;
  notice(`${state.shown}${state.token ? "+" : ""} runs shown, newest first.`);
}

function renderChips(stats) {
  const box = $("status-chips");
  const active = state.filters.status;
  const chip = (value, text, count) =>
    el("button", { type: "button", class: `chip-btn s-${value || "all"}`, "aria-pressed": String((active ?? "") === value), "data-status": value }, el("span", { class: "dot", "aria-hidden": "true" }), `${text} `, el("strong", { text: String(count) }));
  const entries = STATUSES.filter((s) => stats.totals.byStatus[s]).map((s) => chip(s, label(s), stats.totals.byStatus[s]));
  box.replaceChildren(chip("", "All", stats.totals.runs), ...entries);
}

function renderChart() {
  const stats = state.stats;
  if (!stats) return;
  const key = state.chartMode === "status" ? "byStatus" : "byReason";
  const order = state.chartMode === "status" ? [...STATUSES, "unobserved"] : REASONS;
  const series = order.filter((s) => stats.buckets.some((b) => b[key][s]));
  // Drawn at the container's pixel width so text keeps its size; redrawn on resize.
  const W = Math.max(480, Math.round($("chart-svg").clientWidth || 900)), H = 220, left = 40, bottom = 28, top = 10;
  const n = stats.buckets.length;
  const max = Math.max(1, ...stats.buckets.map((b) => series.reduce((sum, s) => sum + (b[key][s] ?? 0), 0)));
  const slot = (W - left - 8) / n;
  const barW = Math.max(2, slot * 0.75);
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const totalSeries = series.reduce((sum, s) => sum + (stats.totals[key][s] ?? 0), 0);
  const summary = series.length ? series.map((s) => `${label(s)} ${stats.totals[key][s]}`).join(", ") : "no data";
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `Runs ${state.chartMode === "status" ? "by status" : "by escalation reason"} per ${stats.bucket}: ${summary}`, class: "chart-svg" });
  for (const frac of [0, 0.5, 1]) {
    const v = Math.round(max * frac);
    chart.append(svg("line", { x1: left, x2: W - 4, y1: y(v), y2: y(v), class: "grid" }), svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, String(v)));
  }
  const every = Math.max(1, Math.ceil(n / 8));
  stats.buckets.forEach((b, i) => {
    let acc = 0;
    const x = left + i * slot + (slot - barW) / 2;
    for (const s of series) {
      const v = b[key][s] ?? 0;
      if (!v) continue;
      const rect = svg("rect", { x, width: barW, y: y(acc + v), height: Math.max(1, y(acc) - y(acc + v)), fill: COLORS[s] ?? "#888" });
      rect.append(svg("title", {}, `${utc(b.start)} · ${label(s)}: ${v}`));
      chart.append(rect);
      acc += v;
    }
    if (i % every === 0) {
      const t = b.start.slice(11, 16) === "00:00" ? b.start.slice(5, 10) : b.start.slice(11, 16);
      chart.append(svg("text", { x: x + barW / 2, y: H - 8, "text-anchor": "middle", class: "axis" }, t));
    }
  });
  $("chart-svg").replaceChildren(chart);
  $("chart-caption").textContent = `${stats.totals.runs} runs registered ${utc(stats.from)} – ${utc(stats.to)} UTC, ${stats.bucket} buckets${state.chartMode === "reason" ? `, ${totalSeries} escalations` : ""}${stats.truncated ? " (counts cover the newest 5,000 runs)" : ""}.`;
  $("chart-legend").replaceChildren(...series.map((s) => el("li", {}, el("span", { class: `swatch`, "data-color": s, "aria-hidden": "true" }), `${label(s)} (${stats.totals[key][s]})`)));
  for (const sw of $("chart-legend").querySelectorAll(".swatch")) sw.style.background = COLORS[sw.dataset.color];
}

// ---------- insights: tool calls, token usage ----------

const TOOLS_SHOWN = 12;
const QUANTILES = [["p50", "p50Ms"], ["p95", "p95Ms"], ["p99", "p99Ms"]];

/** The insights window for the list's range: whole UTC days back to its start (the API rounds to days). */
function insightsSince(filters) {
  const from = filters.from ? Date.parse(filters.from) : Date.now() - RANGES["24h"];
  const hours = Math.max(1, Math.ceil((Date.now() - from) / 3_600_000));
  return hours <= 48 ? `${hours}h` : `${Math.min(400, Math.ceil(hours / 24))}d`;
}

async function loadInsights() {
  const params = { since: insightsSince(state.filters), project: state.filters.project, agentId: state.filters.agentId };
  const [tools, usage] = await Promise.allSettled([api("insights/tools", params), api("insights/usage", params)]);
  state.tools = tools.status === "fulfilled" ? tools.value : undefined;
  if (state.tools) renderTools(state.tools);
  else insightsUnavailable("tools", tools.reason.message);
  if (usage.status === "fulfilled") renderUsage(usage.value);
  else insightsUnavailable("usage", usage.reason.message);
}

function insightsUnavailable(which, message) {
  if (which === "tools") {
    $("tools-svg").replaceChildren();
    $("tools-slowest").replaceChildren();
    $("tools-caption").textContent = `Tool-call insights are not available: ${message}`;
  } else {
    $("usage-table").replaceChildren();
    $("usage-note").textContent = `Token usage is not available: ${message}`;
  }
}

const toolName = (t) => `${t.agentId} · ${t.tool}`;
const pct = (r) => `${(r * 100).toFixed(1)} %`;

/** Horizontal bars per agent and tool, slowest p95 first: p50, p95 and p99 of the window. */
function renderTools(body) {
  $("insights-window").textContent = `(${body.window.from} – ${body.window.to}, UTC days)`;
  const tools = body.tools.slice(0, TOOLS_SHOWN);
  if (!tools.length) {
    $("tools-svg").replaceChildren();
    $("tools-slowest").replaceChildren();
    $("tools-caption").textContent = "No finished tool calls in this window.";
    return;
  }
  const W = Math.max(560, Math.round($("tools-svg").clientWidth || 900)), labelW = 230, valueW = 230, barH = 7, rowH = 3 * barH + 12, top = 4;
  const H = top + tools.length * rowH;
  const max = Math.max(1, ...tools.map((t) => t.p99Ms));
  const x = (ms) => Math.max(1, ((W - labelW - valueW) * ms) / max);
  const summary = tools.map((t) => `${toolName(t)} p95 ${duration(t.p95Ms)}`).join(", ");
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `Tool-call duration p50, p95 and p99 per agent and tool, slowest first: ${summary}`, class: "chart-svg" });
  tools.forEach((t, i) => {
    const y0 = top + i * rowH;
    const name = toolName(t);
    chart.append(svg("text", { x: labelW - 8, y: y0 + 2 * barH, "text-anchor": "end", class: "label" }, name.length > 34 ? `${name.slice(0, 33)}…` : name));
    QUANTILES.forEach(([q, key], k) => {
      const rect = svg("rect", { x: labelW, y: y0 + k * barH, width: x(t[key]), height: barH - 1, class: `q-${q}`, "data-tool": t.tool, "data-agent": t.agentId, "data-quantile": q, "data-ms": t[key] });
      rect.append(svg("title", {}, `${name}: ${q} ${duration(t[key])}${t.exactPercentiles ? "" : " (estimated)"}`));
      chart.append(rect);
    });
    const value = `p95 ${duration(t.p95Ms)} · ${t.calls} call${t.calls === 1 ? "" : "s"} · ${pct(t.failureRate)} failed`;
    chart.append(svg("text", { x: W - valueW + 8, y: y0 + 2 * barH, class: "value" }, value));
  });
  $("tools-svg").replaceChildren(chart);
  const calls = body.tools.reduce((n, t) => n + t.calls, 0);
  $("tools-caption").textContent = `${calls} finished tool calls of ${body.tools.length} agent/tool pairs${body.tools.length > TOOLS_SHOWN ? ` (the ${TOOLS_SHOWN} slowest by p95 shown)` : ""}.`;
  const slowest = body.tools
    .flatMap((t) => t.slowest.map((c) => ({ ...c, project: t.project, agentId: t.agentId, tool: t.tool })))
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, 10);
  table(
    $("tools-slowest"),
    ["Slowest calls", "Agent", "Run", "Duration", "Status"],
    slowest.map((c) => [c.tool, el("span", { class: "mono", text: c.agentId }), el("a", { href: runHash(c.project, c.runId), class: "mono" }, c.runId), duration(c.durationMs), c.status]),
    "No slow calls recorded.",
  );
}

const tokens = (n) => n.toLocaleString("en");
const cost = (c) => (c === undefined ? "—" : c.toFixed(4));

/** Per day, agent and model: tokens, and the estimated cost when the policy has a price table. */
function renderUsage(body) {
  const node = $("usage-table");
  const cols = ["Day", "Project", "Agent", "Model", "Runs", "Prompt", "Completion", "Total", "Est. cost"];
  const numeric = (i) => i >= 4;
  if (!body.rows.length) {
    node.replaceChildren(el("caption", { class: "muted left", text: "No finished runs with token usage in this window." }));
    $("usage-note").textContent = "";
    return;
  }
  const row = (cells, cls) => el("tr", { class: cls }, ...cells.map((c, i) => el("td", { class: numeric(i) ? "num" : undefined }, c)));
  const t = body.totals;
  node.replaceChildren(
    el("thead", {}, el("tr", {}, ...cols.map((c, i) => el("th", { scope: "col", class: numeric(i) ? "num" : undefined, text: c })))),
    el(
      "tbody",
      {},
      ...body.rows.map((r) => row([r.day, r.project, el("span", { class: "mono", text: r.agentId }), r.model, String(r.runs), tokens(r.promptTokens), tokens(r.completionTokens), tokens(r.totalTokens), cost(r.estimatedCost)])),
      row(["Total", "", "", "", String(t.runs), tokens(t.promptTokens), tokens(t.completionTokens), tokens(t.totalTokens), cost(t.estimatedCost)], "total"),
    ),
  );
  $("usage-note").textContent =
    t.estimatedCost === undefined
      ? "Counted once per run when it ends. Add a price table (policy `prices`) to see an estimated cost."
      : "Counted once per run when it ends. Cost is estimated from the policy's price table (per 1,000 tokens, in its currency); models without a price show —.";
}

// ---------- any-ID search ----------

const LOOKUPS = [
  ["runId", "run ID"],
  ["threadId", "thread / conversation ID"],
  ["session", "session ID"],
  ["agentId", "agent ID"],
];

async function findAnyId(id) {
  showError("");
  notice(`Looking up ${id}…`);
  const results = await Promise.allSettled(LOOKUPS.map(([param]) => api("runs", { [param]: id, limit: 50 })));
  const seen = new Map();
  results.forEach((r, i) => {
    if (r.status !== "fulfilled") return;
    for (const run of r.value.runs) {
      const k = `${run.project}/${run.runId}`;
      if (!seen.has(k)) seen.set(k, { run, as: LOOKUPS[i][1] });
    }
  });
  const failed = results.find((r) => r.status === "rejected");
  if (seen.size === 0) {
    notice("");
    showError(failed ? failed.reason.message : `No run found for ${id}. The monitor knows only runs registered with it.`);
    return;
  }
  if (seen.size === 1) {
    const [{ run }] = seen.values();
    // Replace, so Back returns to where the search started instead of re-running it.
    location.replace(runHash(run.project, run.runId));
    return;
  }
  showMatches(id, [...seen.values()]);
}

function showMatches(id, matches) {
  show("matches-view");
  $("m-id").textContent = id;
  $("matches-body").replaceChildren(...matches.map((m) => runRow(m.run, el("td", { text: m.as }))).map((tr) => (tr.lastChild.remove(), tr)));
  notice(`${matches.length} runs match ${id}.`);
  $("matches-heading").focus();
}

// ---------- detail view ----------

function fields(dl, rows) {
  dl.replaceChildren();
  for (const [name, value] of rows) {
    if (value === undefined || value === null || value === "") continue;
    dl.append(el("dt", { text: name }), el("dd", {}, value instanceof Node ? value : String(value)));
  }
  if (!dl.children.length) dl.append(el("dd", { class: "muted", text: "Nothing recorded." }));
}

function table(node, columns, rows, empty) {
  if (!rows.length) {
    node.replaceChildren(el("caption", { class: "muted left", text: empty }));
    return;
  }
  node.replaceChildren(el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", text: c })))), el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c ?? "—"))))));
}

function duration(ms) {
  if (ms === undefined) return undefined;
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s` : `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

const KIND_LABEL = { registered: "Registered", transition: "Status", step: "Step", escalation: "Escalated", recovered: "Recovered", remediation: "Remediation", ticket: "Ticket" };

async function showDetail(project, runId) {
  showError("");
  notice(`Loading run ${runId}…`);
  let timeline, evidence;
  try {
    [timeline, evidence] = await Promise.all([api(`runs/${encodeURIComponent(project)}/${encodeURIComponent(runId)}/timeline`), api(`runs/${encodeURIComponent(project)}/${encodeURIComponent(runId)}/evidence`, { format: "json" })]);
  } catch (e) {
    notice("");
    showError(e.status === 404 ? `Run ${runId} in project ${project} is not known to the monitor.` : e.message);
    show("list-view");
    return;
  }
  show("detail-view");
  const run = timeline.run;
  document.title = `${run.runId} — Foundry run monitor`;
  $("d-run-id").textContent = run.runId;
  $("d-status").replaceWith(Object.assign(statusChip(run.status), { id: "d-status" }));
  const tags = Object.entries(evidence.run.tags ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");
  fields($("d-ids"), [
    ["Run ID", code(run.runId)],
    ["Thread / conversation", run.threadId ? code(run.threadId) : undefined],
    ["Agent", run.agentId ? code(run.agentId) : undefined],
    ["Agent name", evidence.run.agentName],
    ["Agent version", evidence.run.agentVersion],
    ["Project", code(run.project)],
    ["API", run.api === "classic" ? "classic (threads/runs)" : "responses (v2)"],
    ["Model", evidence.run.model],
    ["Session", evidence.run.session],
    ["Owner", evidence.run.owner ?? run.owner],
    ["Tags", tags],
  ]);
  const ts = evidence.timestamps;
  fields($("d-times"), [
    ["Created", utc(ts.created)], ["Started", ts.started && utc(ts.started)], ["Completed", ts.completed && utc(ts.completed)],
    ["Failed", ts.failed && utc(ts.failed)], ["Cancelled", ts.cancelled && utc(ts.cancelled)], ["Expires", ts.expires && utc(ts.expires)],
    ["In current status since", ts.statusSince && utc(ts.statusSince)], ["Last progress", ts.lastProgress && utc(ts.lastProgress)],
    ["Registered with the monitor", utc(ts.registered)],
  ]);
  $("d-error-card").hidden = !evidence.error && !evidence.incompleteReason;
  fields($("d-error"), [["Code", evidence.error ? code(evidence.error.code) : undefined], ["Message (sanitized)", evidence.error?.message], ["Incomplete reason", evidence.incompleteReason]]);

  $("d-timeline").replaceChildren(
    ...timeline.events.map((e) =>
      el(
        "li",
        { class: `ev ev-${e.kind}` },
        el("time", { datetime: e.at, text: utc(e.at) }),
        el("span", { class: "kind", text: KIND_LABEL[e.kind] ?? e.kind }),
        e.kind === "transition" ? el("span", {}, e.from ? statusChip(e.from) : "first seen ", e.from ? " → " : "", statusChip(e.to)) : el("span", { text: e.summary }),
        e.url ? el("a", { href: e.url, rel: "noreferrer", text: " open ticket" }) : undefined,
      ),
    ),
  );

  table(
    $("d-tools"),
    ["Call ID", "Type", "Name", "Status", "Started (UTC)", "Duration"],
    evidence.toolCalls.map((t) => [code(t.id), t.type, t.name, t.status, utc(t.startedAt), duration(t.durationMs) ?? (t.runningForMs !== undefined ? `running for ${duration(t.runningForMs)}` : undefined)]),
    evidence.pendingToolCalls.length ? `Waiting for tool output: ${evidence.pendingToolCalls.map((p) => p.name ?? p.id).join(", ")}` : "No tool calls recorded.",
  );
  const u = evidence.usage;
  fields($("d-usage"), u ? [["Prompt", u.promptTokens.toLocaleString("en")], ["Completion", u.completionTokens.toLocaleString("en")], ["Total", u.totalTokens.toLocaleString("en")]] : []);
  const m = evidence.finalMessage;
  fields($("d-final"), m ? [["Message ID", code(m.id)], ["Role", m.role], ["Length (characters)", m.length], ["SHA-256", m.sha256 ? el("code", { class: "hash", text: m.sha256 }) : "not available (message text not read)"]] : []);
  $("d-final-text").hidden = !(m && m.text !== undefined);
  $("d-final-text").textContent = m?.text ?? "";

  table(
    $("d-escalations"),
    ["At (UTC)", "Reason", "Episode", "Severity", "Owner", "Kind", "Published"],
    timeline.escalations.map((e) => [utc(e.at), el("span", { class: "tag", text: e.reason }), String(e.episode), e.severity, e.owner, e.kind, e.published ? "yes" : "pending"]),
    "This run has not escalated.",
  );
  const tickets = timeline.tickets;
  $("d-tickets").replaceChildren(
    ...(tickets === null
      ? [el("li", { class: "muted", text: "No ticket ledger is connected to this API." })]
      : tickets.length === 0
        ? [el("li", { class: "muted", text: "No tickets for this run." })]
        : tickets.map((t) => el("li", {}, t.url ? el("a", { href: t.url, rel: "noreferrer" }, t.externalId ?? t.ticketId) : code(t.externalId ?? t.ticketId), t.sink ? ` (${t.sink})` : "", t.reason ? ` — ${t.reason}` : "", t.action ? `, ${t.action}` : "", t.at ? ` at ${utc(t.at)}` : ""))),
  );
  const key = functionKey();
  const path = `runs/${encodeURIComponent(project)}/${encodeURIComponent(runId)}/evidence`;
  $("d-evidence-json").href = apiUrl(path, { format: "json", code: key }).toString();
  $("d-evidence-md").href = apiUrl(path, { format: "md", code: key }).toString();
  notice(`Run ${run.runId}: ${timeline.events.length} timeline events.`);
  $("detail-heading").focus();
}

// ---------- routing ----------

function show(id) {
  for (const v of ["list-view", "detail-view", "matches-view"]) $(v).hidden = v !== id;
  if (id === "list-view") document.title = "Foundry run monitor — runs";
}

async function route() {
  const hash = location.hash;
  const detail = /^#\/runs\/([^/]+)\/([^/]+)$/.exec(hash);
  if (detail) return showDetail(decodeURIComponent(detail[1]), decodeURIComponent(detail[2]));
  const find = /^#\/find\/(.+)$/.exec(hash);
  if (find) {
    $("any-id").value = decodeURIComponent(find[1]);
    return findAnyId(decodeURIComponent(find[1]));
  }
  show("list-view");
  if (!state.stats) await loadList();
}

function init() {
  fillSelect($("f-status"), STATUSES);
  fillSelect($("f-reason"), REASONS);
  // Ticket links point at …/dashboard/runs/{project}/{runId}: open that run.
  const deep = /\/dashboard\/runs\/([^/]+)\/([^/]+)\/?$/.exec(location.pathname);
  if (deep && !location.hash) location.hash = `#/runs/${deep[1]}/${deep[2]}`;

  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = "#/";
    void loadList();
  });
  $("filters").addEventListener("reset", () => setTimeout(() => {
    for (const f of document.querySelectorAll(".custom-range")) f.hidden = true;
    void loadList();
  }));
  $("f-range").addEventListener("change", (e) => {
    for (const f of document.querySelectorAll(".custom-range")) f.hidden = e.target.value !== "custom";
  });
  $("status-chips").addEventListener("click", (e) => {
    const btn = e.target.closest("button[data-status]");
    if (!btn) return;
    $("f-status").value = btn.dataset.status;
    void loadList();
  });
  for (const [id, mode] of [["chart-by-status", "status"], ["chart-by-reason", "reason"]]) {
    $(id).addEventListener("click", () => {
      state.chartMode = mode;
      $("chart-by-status").setAttribute("aria-pressed", String(mode === "status"));
      $("chart-by-reason").setAttribute("aria-pressed", String(mode === "reason"));
      renderChart();
    });
  }
  $("load-more").addEventListener("click", () => void loadMore());
  $("id-search").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("any-id").value.trim();
    if (!id) return showError("Type an ID to look up.");
    if (location.hash === `#/find/${encodeURIComponent(id)}`) void findAnyId(id);
    else location.hash = `#/find/${encodeURIComponent(id)}`;
  });
  window.addEventListener("hashchange", () => void route());
  let resizing;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      renderChart();
      if (state.tools) renderTools(state.tools);
    }, 150);
  });
  void route();
}

init();
