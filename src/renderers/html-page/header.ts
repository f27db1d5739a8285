// The page's header: the program, and when, how long and on what runtime it ran.
import { byId, data, el, escapeText, seconds } from "./shared.ts";

export function header(): void {
  const m = data.meta;
  const program = escapeText(m.program);
  document.title = `tsprofile: ${program}`;
  byId("version").textContent = data.version;
  const started = new Date(m.startTime);
  const items: Array<[string, string]> = [
    ["Recorded", Number.isFinite(started.getTime()) ? started.toLocaleString() : "unknown"],
    ["Duration", `${seconds(m.duration)} s`],
    ["CPU time", m.cpuTime >= 0 ? `${seconds(m.cpuTime)} s` : "n/a"],
    ["Samples", String(m.samples)],
    ["Interval", `${(m.interval / 1000).toFixed(3)} ms`],
    ["Runtime", escapeText(m.runtime)],
  ];
  const summary = byId("summary");
  for (const [k, v] of items) {
    const d = el("div");
    d.append(el("dt", "", k), el("dd", "", v));
    summary.append(d);
  }
  byId("program").textContent = program;
}
