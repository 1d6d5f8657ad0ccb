// The benchmark chart (docs/benchmarks.svg): cost and latency against active runs, the monitor
// beside the naive baseline, drawn as plain SVG from a report's numbers (no chart library).

import type { BenchReport, Figures, SizeReport } from "./run-bench.js";

interface Panel {
  title: string;
  unit: string;
  log: boolean;
  value: (f: Figures, s: SizeReport) => number | null;
  /** A dashed target line, if the figure has one. */
  target?: (s: SizeReport) => number;
}

const PANELS: Panel[] = [
  { title: "Table transactions per unchanged run per sweep", unit: "", log: true, value: (f) => f.tableTxPerUnchangedRunPerSweep, target: () => 0.01 },
  { title: "Foundry calls per active run per sweep", unit: "", log: false, value: (f) => f.foundryCallsPerRunPerSweep, target: () => 1.05 },
  { title: "Detection latency p99 (s)", unit: "s", log: false, value: (f) => (f.detectionP99Ms === null ? null : f.detectionP99Ms / 1000) },
  { title: "Peak RSS of the process (MB)", unit: "MB", log: false, value: (f) => f.peakRssMb, target: () => 256 },
];

const W = 420;
const H = 250;
const PAD = { left: 58, right: 16, top: 34, bottom: 44 };
const COLORS = { monitor: "#1f6feb", naive: "#d1242f", target: "#6e7781" };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2).replace(/\.?0+$/, "") : v.toPrecision(2));

function panel(p: Panel, sizes: SizeReport[], x0: number, y0: number): string {
  const rows = sizes.filter((s) => s.store === "memory");
  const xs = rows.map((s) => s.runs);
  const vals = rows.flatMap((s) => [p.value(s.monitor, s), p.value(s.naive, s), p.target?.(s) ?? null]).filter((v): v is number => v !== null && v > 0);
  const lo = p.log ? 10 ** Math.floor(Math.log10(Math.min(...vals))) : 0;
  const hi = p.log ? 10 ** Math.ceil(Math.log10(Math.max(...vals))) : Math.max(...vals) * 1.15;
  const lx = (n: number) => Math.log10(n);
  const [xMin, xMax] = [lx(Math.min(...xs)) - 0.15, lx(Math.max(...xs)) + 0.15];
  const px = (n: number) => x0 + PAD.left + ((lx(n) - xMin) / (xMax - xMin)) * (W - PAD.left - PAD.right);
  const py = (v: number) => {
    const t = p.log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
    return y0 + H - PAD.bottom - t * (H - PAD.top - PAD.bottom);
  };
  const out: string[] = [];
  out.push(`<text x="${x0 + W / 2}" y="${y0 + 20}" text-anchor="middle" font-size="13" font-weight="600">${esc(p.title)}</text>`);
  out.push(`<line x1="${x0 + PAD.left}" y1="${y0 + H - PAD.bottom}" x2="${x0 + W - PAD.right}" y2="${y0 + H - PAD.bottom}" stroke="#888"/>`);
  out.push(`<line x1="${x0 + PAD.left}" y1="${y0 + PAD.top}" x2="${x0 + PAD.left}" y2="${y0 + H - PAD.bottom}" stroke="#888"/>`);
  const ticks = p.log
    ? Array.from({ length: Math.round(Math.log10(hi) - Math.log10(lo)) + 1 }, (_, i) => lo * 10 ** i)
    : Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  for (const t of ticks) {
    out.push(`<line x1="${x0 + PAD.left - 4}" y1="${py(t)}" x2="${x0 + W - PAD.right}" y2="${py(t)}" stroke="#eee"/>`);
    out.push(`<text x="${x0 + PAD.left - 7}" y="${py(t) + 4}" text-anchor="end" font-size="10">${fmt(t)}</text>`);
  }
  for (const n of xs) out.push(`<text x="${px(n)}" y="${y0 + H - PAD.bottom + 16}" text-anchor="middle" font-size="10">${n >= 1000 ? `${n / 1000}k` : n}</text>`);
  out.push(`<text x="${x0 + W / 2}" y="${y0 + H - 8}" text-anchor="middle" font-size="10">active runs</text>`);
  if (p.target) {
    const t = p.target(rows[0]);
    if (t >= lo && t <= hi) out.push(`<line x1="${x0 + PAD.left}" y1="${py(t)}" x2="${x0 + W - PAD.right}" y2="${py(t)}" stroke="${COLORS.target}" stroke-dasharray="5 4"/><text x="${x0 + W - PAD.right}" y="${py(t) - 4}" text-anchor="end" font-size="10" fill="${COLORS.target}">target ${fmt(t)}</text>`);
  }
  for (const who of ["naive", "monitor"] as const) {
    const pts = rows.map((s) => [s.runs, p.value(s[who], s)] as const).filter((x): x is readonly [number, number] => x[1] !== null && x[1] > 0);
    if (pts.length === 0) continue;
    out.push(`<polyline fill="none" stroke="${COLORS[who]}" stroke-width="2" points="${pts.map(([n, v]) => `${px(n).toFixed(1)},${py(v).toFixed(1)}`).join(" ")}"/>`);
    for (const [n, v] of pts) {
      out.push(`<circle cx="${px(n).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3.5" fill="${COLORS[who]}"/>`);
      out.push(`<text x="${(px(n) + 6).toFixed(1)}" y="${(py(v) - 6).toFixed(1)}" font-size="10" fill="${COLORS[who]}">${fmt(v)}</text>`);
    }
  }
  return out.join("\n");
}

export function benchChartSvg(report: Pick<BenchReport, "sizes" | "startedAt" | "settings" | "machine">): string {
  const width = W * 2;
  const height = H * 2 + 60;
  const parts = PANELS.map((p, i) => panel(p, report.sizes, (i % 2) * W, 40 + Math.floor(i / 2) * H));
  const s = report.settings;
  const subtitle = `Foundry simulator over loopback HTTPS, ${s.latencyMs} ms latency, ${s.rateLimitPerSecond} reads/s limit; ${report.machine.cpus} cores, load ${report.machine.loadavgStart.join(" ")}; ${report.startedAt.slice(0, 16).replace("T", " ")} UTC`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="16" y="22" font-size="15" font-weight="700">foundry-run-monitor at scale: cost and latency against active runs</text>`,
    `<text x="16" y="38" font-size="10" fill="#555">${esc(subtitle)}</text>`,
    `<g font-size="11"><rect x="${width - 210}" y="10" width="12" height="3" fill="${COLORS.monitor}"/><text x="${width - 194}" y="15">monitor</text><rect x="${width - 130}" y="10" width="12" height="3" fill="${COLORS.naive}"/><text x="${width - 114}" y="15">naive baseline</text></g>`,
    ...parts,
    `</svg>`,
    "",
  ].join("\n");
}
