// The page's header: the program, and when, how long and on what runtime it ran.
import { byId, data, el, escapeText, seconds, threadNames, threadShown } from "./shared.ts";

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
  for (const note of m.notes) byId("top").append(el("div", "note", escapeText(note)));
  threadPicker();
}

/** With worker threads, the selector of the thread shown: choosing one reloads the page on it (#thread=N). */
function threadPicker(): void {
  if (threadNames.length === 0) return;
  const select = byId<HTMLSelectElement>("thread");
  threadNames.forEach((name, i) => {
    const option = el("option", "", escapeText(name)) as HTMLOptionElement;
    option.value = String(i);
    select.append(option);
  });
  select.value = String(threadShown);
  select.addEventListener("change", () => {
    location.hash = `thread=${select.value}`;
    location.reload();
  });
  byId("thread-pick").hidden = false;
}
