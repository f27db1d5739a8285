// The timeline view: the runs drawn on a canvas as a flame chart over time (the visible span only), zoom, pan,
// hover and click; the search fades the frames that do not match.
// deno-lint-ignore-file no-window no-window-prefix -- browser code: window is the page's global object
import { FrameFlag, SyntheticFrame } from "../../../session/types.ts";
import { currentPaths, decodeRuns } from "./timeline-decode.ts";
import type { Paths, Timeline } from "./timeline-decode.ts";
import { byId, data, el, frameName, framePosition, isSynthetic, runData, state, timings } from "./shared.ts";

/** The run shown's timeline and the span of it in view (prepareTimeline); each run keeps its own. */
let timeline: Timeline | null = null;
let view = { start: 0, end: 1 };
const runs = new Map<string, { timeline: Timeline; view: { start: number; end: number } }>();
const ROW = 18;
const AXIS = 20;
let drawPending = false;
let draws = 0;
// Segments of the last draw, for hover and click.
let segX0 = new Float64Array(1024);
let segX1 = new Float64Array(1024);
let segDepth = new Int32Array(1024);
let segNode = new Int32Array(1024);
let segCount = 0;
let segPaths: Paths | null = null;
/** The timeline's vertical scroll (px) and the canvas's height, as last drawn. */
let scrollY = 0;
let viewHeight = 0;

function pushSegment(x0: number, x1: number, depth: number, node: number): void {
  if (segCount === segX0.length) {
    const grow = <T extends Float64Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    segX0 = grow(segX0);
    segX1 = grow(segX1);
    segDepth = grow(segDepth);
    segNode = grow(segNode);
  }
  segX0[segCount] = x0;
  segX1[segCount] = x1;
  segDepth[segCount] = depth;
  segNode[segCount] = node;
  segCount++;
}

function hashHue(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0) % 360;
}

const colorCache = new Map<number, string>();
function frameColor(frame: number): string {
  let c = colorCache.get(frame);
  if (c !== undefined) return c;
  if (isSynthetic(frame)) {
    if (frame === SyntheticFrame.await) c = "#c9b8e8";
    else if (frame === SyntheticFrame.gc) c = "#f2b8b5";
    else if (frame === SyntheticFrame.native) c = "#e0cfa8";
    else c = "#dde1e8";
  } else {
    const flags = data.flags[frame];
    const h = hashHue(data.names[frame] ?? "");
    if (flags & (FrameFlag.internal | FrameFlag.hidden)) c = `hsl(220, 8%, ${78 + (h % 8)}%)`;
    else if (flags & FrameFlag.library) c = `hsl(${30 + (h % 20)}, 70%, ${72 + (h % 10)}%)`;
    else c = `hsl(${195 + (h % 35)}, 60%, ${62 + (h % 14)}%)`;
  }
  colorCache.set(frame, c);
  return c;
}

function fmtDuration(us: number): string {
  if (us >= 1e6) return `${(us / 1e6).toFixed(us >= 1e7 ? 1 : 3)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(us >= 1e5 ? 0 : 2)} ms`;
  return `${us.toFixed(0)} \u00b5s`;
}

export function scheduleDraw(): void {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

/** Index of the last run starting at or before t. */
function runAt(tl: Timeline, t: number): number {
  let lo = 0;
  let hi = tl.count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (tl.starts[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function draw(): void {
  const canvas = byId<HTMLCanvasElement>("timeline");
  prepareTimeline();
  const tl = timeline!;
  timings.decoded ??= performance.now();
  const P = currentPaths();
  timings.paths ??= performance.now();
  segPaths = P;
  const dpr = window.devicePixelRatio || 1;
  const scroller = canvas.parentElement!;
  const width = Math.max(100, scroller.clientWidth);
  // The canvas is at most a window high and stays put (sticky) while a spacer under it scrolls: deep stacks
  // scroll instead of asking for a canvas taller than the browser allows.
  const needed = AXIS + Math.max(10, P.maxDepth + 1) * ROW;
  const height = Math.min(needed, Math.max(300, window.innerHeight - 200));
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.height = `${height}px`;
    scroller.style.height = `${height + 2}px`;
  }
  const spacer = byId("tl-spacer");
  if (spacer.style.height !== `${needed - height}px`) spacer.style.height = `${needed - height}px`;
  scrollY = Math.min(scroller.scrollTop, needed - height);
  viewHeight = height;
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  segCount = 0;
  const q = state.query.trim().toLowerCase();
  if (q !== timelineQuery) {
    timelineQuery = q;
    frameMatchCache.clear();
  }
  const span = view.end - view.start;
  const scale = width / span;
  byId("tl-range").textContent = `${fmtDuration(view.start)} \u2013 ${fmtDuration(view.end)} (${fmtDuration(span)})`;
  if (tl.count === 0) {
    drawAxis(ctx, width, scale);
    return;
  }

  const maxDepth = P.maxDepth;
  const openNode = new Int32Array(maxDepth + 1);
  const openX = new Float64Array(maxDepth + 1);
  let openDepth = 0;
  ctx.font = "11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";
  ctx.textBaseline = "middle";
  const close = (from: number, x: number): void => {
    for (let d = openDepth - 1; d >= from; d--) drawSegment(ctx, openX[d], x, d, openNode[d], P);
    openDepth = Math.min(openDepth, from);
  };
  const emit = (path: Int32Array, xa: number): void => {
    let k = 0;
    while (k < openDepth && k < path.length && openNode[k] === path[k]) k++;
    close(k, xa);
    for (let d = k; d < path.length; d++) {
      openNode[d] = path[d];
      openX[d] = xa;
    }
    openDepth = path.length;
  };
  const first = runAt(tl, view.start);
  const last = runAt(tl, view.end);
  if (last - first + 1 <= 2 * width) {
    // Exact: every run in view, adjacent equal frames merged.
    for (let i = first; i <= last; i++) {
      const xa = Math.max(0, (tl.starts[i] - view.start) * scale);
      emit(P.paths[tl.keyIndex[i]], xa);
    }
    close(0, Math.min(width, (tl.starts[last + 1] - view.start) * scale));
  } else {
    // More runs than pixels: each pixel column shows the run at its middle, equal neighbours merged.
    let i = first;
    for (let x = 0; x < width; x++) {
      const t = view.start + (x + 0.5) / scale;
      while (i + 1 < tl.count && tl.starts[i + 1] <= t) i++;
      emit(P.paths[tl.keyIndex[i]], x);
    }
    close(0, width);
  }
  drawAxis(ctx, width, scale); // last: it covers rows scrolled up under it
  draws++;
  timings.drawn ??= performance.now();
  canvas.dataset.draws = String(draws);
}

function drawAxis(ctx: CanvasRenderingContext2D, width: number, scale: number): void {
  const span = view.end - view.start;
  const target = span / Math.max(1, width / 110);
  const pow = Math.pow(10, Math.floor(Math.log10(Math.max(target, 1e-3))));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= target) ?? 10 * pow;
  ctx.fillStyle = "#f1f3f7";
  ctx.fillRect(0, 0, width, AXIS - 2);
  ctx.font = "11px -apple-system, Segoe UI, Roboto, sans-serif";
  ctx.textBaseline = "middle";
  for (let t = Math.ceil(view.start / step) * step; t <= view.end; t += step) {
    const x = Math.round((t - view.start) * scale) + 0.5;
    ctx.fillStyle = "#c9ced8";
    ctx.fillRect(x, 0, 1, AXIS - 2);
    const text = fmtDuration(t);
    if (x + 3 + ctx.measureText(text).width > width) continue; // no label cut off at the right edge
    ctx.fillStyle = "#505868";
    ctx.fillText(text, x + 3, (AXIS - 2) / 2);
  }
}

function drawSegment(
  ctx: CanvasRenderingContext2D,
  x0: number,
  x1: number,
  depth: number,
  node: number,
  P: Paths,
): void {
  if (x1 <= x0) return;
  const y = AXIS + depth * ROW - scrollY;
  if (y + ROW <= AXIS || y >= viewHeight) return;
  pushSegment(x0, x1, depth, node);
  const frame = P.nodeFrame[node];
  const w = Math.max(1, x1 - x0 - (x1 - x0 > 3 ? 1 : 0));
  const dim = timelineQuery !== "" && !frameMatches(frame, depth === 0);
  ctx.globalAlpha = dim ? 0.25 : 1;
  ctx.fillStyle = frameColor(frame);
  ctx.fillRect(x0, y, w, ROW - 1);
  if (w > 28) {
    const name = frameName(frame, depth === 0);
    const max = Math.floor((w - 6) / 6.7);
    const text = name.length > max ? name.slice(0, Math.max(1, max - 1)) + "\u2026" : name;
    ctx.globalAlpha = dim ? 0.45 : 1;
    ctx.fillStyle = "#1d2330";
    ctx.fillText(text, x0 + 3, y + ROW / 2);
  }
  ctx.globalAlpha = 1;
}

/** The search, as the timeline last drew it: frames that do not match it are faded. */
let timelineQuery = "";
const frameMatchCache = new Map<number, boolean>();

function frameMatches(frame: number, topLevel: boolean): boolean {
  let m = frameMatchCache.get(frame);
  if (m === undefined) {
    m = `${frameName(frame, topLevel)}\u0000${framePosition(frame)}`.toLowerCase().includes(timelineQuery);
    frameMatchCache.set(frame, m);
  }
  return m;
}

function segmentAt(x: number, y: number): number {
  if (y < AXIS) return -1;
  const depth = Math.floor((y - AXIS + scrollY) / ROW);
  for (let i = 0; i < segCount; i++) if (segDepth[i] === depth && segX0[i] <= x && x < segX1[i]) return i;
  return -1;
}

function clampView(): void {
  const end = timeline?.end ?? 1;
  const minSpan = Math.min(end, 20);
  let span = Math.max(minSpan, Math.min(end, view.end - view.start));
  if (!(span > 0)) span = 1;
  let start = Math.max(0, Math.min(view.start, end - span));
  if (!Number.isFinite(start)) start = 0;
  view.start = start;
  view.end = start + span;
}

function zoom(factor: number, atFraction = 0.5): void {
  const span = view.end - view.start;
  const at = view.start + span * atFraction;
  const next = span * factor;
  view.start = at - next * atFraction;
  view.end = view.start + next;
  clampView();
  scheduleDraw();
}

function pan(fraction: number): void {
  const span = view.end - view.start;
  view.start += span * fraction;
  view.end += span * fraction;
  clampView();
  scheduleDraw();
}

/** The run shown's timeline: when first shown its runs decoded and all of it in view, then as it was left. */
export function prepareTimeline(): void {
  let r = runs.get(state.run);
  if (!r) {
    const decoded = decodeRuns(runData().timeline);
    r = { timeline: decoded, view: { start: 0, end: Math.max(1, decoded.end) } };
    runs.set(state.run, r);
  }
  timeline = r.timeline;
  view = r.view;
}

function resetView(): void {
  view.start = 0;
  view.end = Math.max(1, timeline?.end ?? 1);
  scheduleDraw();
}

export function setupTimeline(): void {
  const canvas = byId<HTMLCanvasElement>("timeline");
  const tip = byId("tooltip");
  let drag: { x: number; start: number; end: number; moved: boolean } | null = null;
  canvas.addEventListener(
    "wheel",
    (e) => {
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      if (Math.abs(e.deltaX) > Math.abs(e.deltaY) || e.shiftKey) {
        pan(((e.shiftKey ? e.deltaY : e.deltaX) || 0) / rect.width);
      } else {
        zoom(Math.pow(1.0015, e.deltaY), (e.clientX - rect.left) / rect.width);
      }
    },
    { passive: false },
  );
  canvas.addEventListener("mousedown", (e) => {
    drag = { x: e.clientX, start: view.start, end: view.end, moved: false };
    canvas.classList.add("dragging");
  });
  window.addEventListener("mousemove", (e) => {
    if (drag) {
      const dx = e.clientX - drag.x;
      if (Math.abs(dx) > 2) drag.moved = true;
      const perPx = (drag.end - drag.start) / canvas.clientWidth;
      view.start = drag.start - dx * perPx;
      view.end = drag.end - dx * perPx;
      clampView();
      scheduleDraw();
      tip.hidden = true;
      return;
    }
    if (e.target !== canvas) {
      tip.hidden = true;
      return;
    }
    const rect = canvas.getBoundingClientRect();
    const i = segmentAt(e.clientX - rect.left, e.clientY - rect.top);
    if (i < 0 || !segPaths) {
      tip.hidden = true;
      return;
    }
    const frame = segPaths.nodeFrame[segNode[i]];
    const scale = canvas.clientWidth / (view.end - view.start);
    tip.replaceChildren(
      el("div", "tt-name", frameName(frame, segDepth[i] === 0)),
      el("div", "tt-pos", framePosition(frame)),
      el("div", "", fmtDuration((segX1[i] - segX0[i]) / scale)),
    );
    tip.hidden = false;
    tip.style.left = `${Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8)}px`;
    tip.style.top = `${e.clientY + 16}px`;
  });
  window.addEventListener("mouseup", (e) => {
    if (!drag) return;
    const wasClick = !drag.moved && e.target === canvas;
    drag = null;
    canvas.classList.remove("dragging");
    if (wasClick) {
      const rect = canvas.getBoundingClientRect();
      const i = segmentAt(e.clientX - rect.left, e.clientY - rect.top);
      if (i >= 0) {
        const perPx = (view.end - view.start) / canvas.clientWidth;
        const s = view.start + segX0[i] * perPx;
        const en = view.start + segX1[i] * perPx;
        const pad = (en - s) * 0.02;
        view.start = s - pad;
        view.end = en + pad;
        clampView();
        scheduleDraw();
      }
    }
  });
  canvas.addEventListener("mouseleave", () => {
    tip.hidden = true;
  });
  canvas.addEventListener("keydown", (e) => {
    const keys: Record<string, () => void> = {
      "+": () => zoom(1 / 1.5),
      "=": () => zoom(1 / 1.5),
      "-": () => zoom(1.5),
      "0": resetView,
      ArrowLeft: () => pan(-0.1),
      ArrowRight: () => pan(0.1),
      ArrowUp: () => canvas.parentElement!.scrollBy(0, -3 * ROW),
      ArrowDown: () => canvas.parentElement!.scrollBy(0, 3 * ROW),
      PageUp: () => canvas.parentElement!.scrollBy(0, -viewHeight / 2),
      PageDown: () => canvas.parentElement!.scrollBy(0, viewHeight / 2),
    };
    const f = keys[e.key];
    if (f) {
      e.preventDefault();
      f();
    }
  });
  canvas.parentElement!.addEventListener("scroll", scheduleDraw);
  byId("zoom-in").addEventListener("click", () => zoom(1 / 1.5));
  byId("zoom-out").addEventListener("click", () => zoom(1.5));
  byId("zoom-reset").addEventListener("click", resetView);
  window.addEventListener("resize", () => {
    if (state.view === "timeline") scheduleDraw();
  });
}
