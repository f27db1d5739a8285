// The page's header: the program, and when, how long and on what runtime it ran; for a diff (PageData.diff), both
// runs, the total change, and which run the page shows.
import { changeText } from "./change.ts";
import { unpackInts } from "./data.ts";
import type { RunMeta } from "./data.ts";
import { byId, data, el, escapeText, seconds, state, threadNames, threadShown } from "./shared.ts";

export function header(): void {
  const m = data.meta;
  const program = escapeText(m.program);
  byId("version").textContent = data.version;
  if (data.diff) {
    diffHeader(data.diff.base.meta, data.diff.normalize);
    return;
  }
  document.title = `tsprofile: ${program}`;
  const items: Array<[string, string]> = [
    ["Recorded", recorded(m)],
    ["Duration", `${seconds(m.duration)} s`],
    ["CPU time", m.cpuTime >= 0 ? `${seconds(m.cpuTime)} s` : "n/a"],
    ["Samples", String(m.samples)],
    ["Interval", `${(m.interval / 1000).toFixed(3)} ms`],
    ["Runtime", escapeText(m.runtime)],
  ];
  summary(items);
  byId("program").textContent = program;
  for (const note of m.notes) byId("top").append(el("div", "note", escapeText(note)));
  threadPicker();
}

function recorded(m: RunMeta): string {
  const started = new Date(m.startTime);
  return Number.isFinite(started.getTime()) ? started.toLocaleString() : "unknown";
}

function summary(items: Array<[string, string]>): void {
  const box = byId("summary");
  for (const [k, v] of items) {
    const d = el("div");
    d.append(el("dt", "", k), el("dd", "", v));
    box.append(d);
  }
}

/** Two runs compared: the change of the total, then a line per run (NEW first), the one shown marked. */
function diffHeader(base: RunMeta, normalize: boolean): void {
  const next = data.meta;
  document.title = `tsprofile diff: ${escapeText(next.program)}`;
  byId("top").classList.add("diff");
  byId("program").hidden = true;
  // The total's change as the text diff states it: the trees' roots, both runs' whole time.
  const tree = data.trees.normal;
  const root = (packed: string | undefined) => (tree.n > 0 && packed ? unpackInts(packed, 1)[0] : 0);
  summary([
    ["Diff", "NEW against BASE"],
    normalize
      ? ["Changes", "of each run's share, in points"]
      : ["Total", changeText(root(tree.time), root(tree.baseTime), { next: 0, base: 0, normalize: false })],
  ]);
  const runs = byId("runs");
  for (const [run, label, m] of [["new", "New", next], ["base", "Base", base]] as const) {
    const line = el("div", "run");
    line.dataset.run = run;
    line.append(
      el("span", "run-label", label),
      el("span", "run-program", escapeText(m.program)),
      el(
        "span",
        "run-figures",
        `${seconds(m.duration)} s \u00b7 ${m.samples} samples \u00b7 ${escapeText(m.runtime)} \u00b7 ${recorded(m)}`,
      ),
    );
    runs.append(line);
    for (const note of m.notes) runs.append(el("div", "note", `${label}: ${escapeText(note)}`));
  }
  runs.hidden = false;
  byId("run-pick").hidden = false;
  markRun();
}

/** Marks the run the page shows in a diff's header and run selector. */
export function markRun(): void {
  for (const line of Array.from(byId("runs").querySelectorAll<HTMLElement>(".run"))) {
    line.classList.toggle("shown", line.dataset.run === state.run);
  }
  byId("run-new").setAttribute("aria-selected", String(state.run === "new"));
  byId("run-base").setAttribute("aria-selected", String(state.run === "base"));
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
