// The page's entry, which scripts/build-html.mjs bundles: wires the header, tree, search and timeline to the
// controls. Names and paths are data: only textContent and canvas fillText show them, never as markup.
// deno-lint-ignore-file no-window no-window-prefix -- browser code: window is the page's global object
import { header, markRun } from "./header.ts";
import { applySearch } from "./search.ts";
import { byId, state, timings } from "./shared.ts";
import type { Run } from "./shared.ts";
import { prepareTimeline, scheduleDraw, setupTimeline } from "./timeline.ts";
import { onTreeClick, onTreeKey, renderTree, setCurrent } from "./tree.ts";

function showView(v: "tree" | "timeline"): void {
  state.view = v;
  byId("tab-tree").setAttribute("aria-selected", String(v === "tree"));
  byId("tab-timeline").setAttribute("aria-selected", String(v === "timeline"));
  byId("tree-view").hidden = v !== "tree";
  byId("timeline-view").hidden = v !== "timeline";
  if (v === "timeline") {
    prepareTimeline();
    scheduleDraw();
    byId("timeline").focus({ preventScroll: true });
  }
}

/** A diff's run shown: NEW's tree with the changes and its timeline, or BASE's own tree and timeline. */
function showRun(run: Run): void {
  if (state.run === run) return;
  state.run = run;
  markRun();
  applySearch(); // the run's own tree, the search applied to it
  if (state.view === "timeline") {
    prepareTimeline();
    scheduleDraw();
  }
}

function main(): void {
  header();
  const tree = byId("tree");
  tree.addEventListener("click", onTreeClick);
  tree.addEventListener("keydown", onTreeKey);
  const search = byId<HTMLInputElement>("search");
  let timer = 0;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => {
      state.query = search.value;
      applySearch();
      if (state.view === "timeline") scheduleDraw();
    }, 120);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && search.value !== "") {
      search.value = "";
      search.dispatchEvent(new Event("input"));
      return;
    }
    if (e.key === "Enter") {
      clearTimeout(timer);
      state.query = search.value;
      applySearch();
      const first = byId("tree").querySelector<HTMLElement>(".match")?.closest<HTMLElement>(".item");
      if (first) setCurrent(first);
    }
  });
  const percent = byId<HTMLInputElement>("percent");
  percent.checked = state.percent;
  percent.addEventListener("change", () => {
    state.percent = percent.checked;
    renderTree();
  });
  const showAll = byId<HTMLInputElement>("show-all");
  showAll.checked = state.showAll;
  showAll.addEventListener("change", () => {
    state.showAll = showAll.checked;
    applySearch();
    if (state.view === "timeline") scheduleDraw();
  });
  byId("tab-tree").addEventListener("click", () => showView("tree"));
  byId("tab-timeline").addEventListener("click", () => showView("timeline"));
  byId("run-new").addEventListener("click", () => showRun("new"));
  byId("run-base").addEventListener("click", () => showRun("base"));
  setupTimeline();
  renderTree();
  timings.ready = performance.now();
  document.body.dataset.ready = "1";
}

main();
