// What the page's modules share: the data the renderer embedded (parsed once, at load), the page's state (the
// toggles, the view, the search), the load timings, DOM helpers, and how a frame reads (name, position, app code).
import { FrameFlag, SYNTHETIC_BASE, SYNTHETIC_NAMES, SyntheticFrame } from "../../../session/types.ts";
import { escapeText } from "./escape.ts";
import type { PageData, RunData } from "./data.ts";

/** Milliseconds since navigation start at each step, for bench/html.ts (window.tsprofileTimings). */
export const timings: Record<string, number> = { script: performance.now() };
(window as unknown as { tsprofileTimings: Record<string, number> }).tsprofileTimings = timings;
const embedded: PageData = JSON.parse(byId("tsprofile-data").textContent ?? "null");
timings.parsed = performance.now();

/** The threads the page can show, main first (none without workers); the one shown, from the URL's #thread=N. */
export const threadNames: string[] = embedded.threads?.length ? ["main", ...embedded.threads.map((t) => t.name)] : [];
export const threadShown: number = (() => {
  const n = Number(/(?:^#|&)thread=(\d+)/.exec(location.hash)?.[1] ?? 0);
  return n > 0 && n < threadNames.length ? n : 0;
})();
export const data: PageData = threadShown > 0 ? embedded.threads![threadShown - 1].data : embedded;

// Names and paths as shown: bidi controls and invisible code points escaped, as the text report does (textContent
// keeps markup out, not a right-to-left override). Once per unique frame; searching matches what is shown.
const shownNames = data.names.map((name) => escapeText(name ?? ""));
const shownPositions = data.positions.map((position) => escapeText(position ?? ""));

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

export function el(tag: string, className?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function isSynthetic(frame: number): boolean {
  return frame >= SYNTHETIC_BASE;
}

export function frameName(frame: number, topLevel = false): string {
  if (topLevel && frame === SyntheticFrame.self) return "[runtime internals]";
  if (isSynthetic(frame)) return SYNTHETIC_NAMES[frame] ?? "[unknown]";
  return shownNames[frame] ?? "(unknown)";
}

export function framePosition(frame: number): string {
  return isSynthetic(frame) ? "" : (shownPositions[frame] ?? "");
}

export function isApp(frame: number): boolean {
  return !isSynthetic(frame) && (data.flags[frame] & (FrameFlag.internal | FrameFlag.hidden | FrameFlag.library)) === 0;
}

export const state = {
  showAll: data.showAll,
  percent: data.percent,
  view: "tree" as "tree" | "timeline",
  /** A diff's run shown (PageData.diff): NEW's (its tree the diff's) or BASE's; any other page has only "new". */
  run: "new" as Run,
  query: "",
};

export type Run = "new" | "base";

/** The run shown: its trees, timeline and figures (`data` itself but for a diff's BASE). */
export function runData(): RunData {
  return state.run === "base" && data.diff ? data.diff.base : data;
}

export { escapeText };

export function seconds(us: number): string {
  return (us / 1e6).toFixed(3);
}
