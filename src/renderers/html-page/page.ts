// The HTML report's page code (runs in the browser; scripts/bundle.mjs builds it into page.generated.ts).
// It reads the JSON the renderer embedded, and shows a call tree and a timeline. Names and paths are data: they
// reach the page only through textContent and canvas fillText, never as markup.
import { unpackInts } from "./data.ts";
import type { PageData, TreeData } from "./data.ts";

const SYNTHETIC_BASE = 0xffffff00;
const SYNTH_ROOT = 0xffffff00;
const SYNTH_SELF = 0xffffff01;
const SYNTH_NAMES: Record<number, string> = {
  [0xffffff00]: "[root]",
  [0xffffff01]: "[self]",
  [0xffffff02]: "[idle]",
  [0xffffff03]: "[gc]",
  [0xffffff04]: "[native]",
  [0xffffff05]: "[await]",
  [0xffffff06]: "[out-of-context]",
};
const FLAG_INTERNAL = 1;
const FLAG_HIDDEN = 2;
const FLAG_LIBRARY = 4;
const NODE_VISIBLE = 1;
const NODE_GROUP_ROOT = 2;

/** Milliseconds since navigation start at each step, for bench/html.ts (window.tsprofileTimings). */
const timings: Record<string, number> = { script: performance.now() };
(window as unknown as { tsprofileTimings: Record<string, number> }).tsprofileTimings = timings;
const data: PageData = JSON.parse(byId("tsprofile-data").textContent ?? "null");
timings.parsed = performance.now();

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

function el(tag: string, className?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function isSynthetic(frame: number): boolean {
  return frame >= SYNTHETIC_BASE;
}

function frameName(frame: number, topLevel = false): string {
  if (topLevel && frame === SYNTH_SELF) return "[runtime internals]";
  if (isSynthetic(frame)) return SYNTH_NAMES[frame] ?? "[unknown]";
  return data.names[frame] ?? "(unknown)";
}

function framePosition(frame: number): string {
  return isSynthetic(frame) ? "" : (data.positions[frame] ?? "");
}

function isApp(frame: number): boolean {
  return !isSynthetic(frame) && (data.flags[frame] & (FLAG_INTERNAL | FLAG_HIDDEN | FLAG_LIBRARY)) === 0;
}

const state = {
  showAll: data.showAll,
  percent: data.percent,
  view: "tree" as "tree" | "timeline",
  query: "",
};

// ---- header ---------------------------------------------------------------------------------------------------------

function seconds(us: number): string {
  return (us / 1e6).toFixed(3);
}

function header(): void {
  const m = data.meta;
  document.title = `tsprofile: ${m.program}`;
  byId("version").textContent = data.version;
  const started = new Date(m.startTime);
  const items: Array<[string, string]> = [
    ["Recorded", started.toLocaleString()],
    ["Duration", `${seconds(m.duration)} s`],
    ["CPU time", m.cpuTime >= 0 ? `${seconds(m.cpuTime)} s` : "n/a"],
    ["Samples", String(m.samples)],
    ["Interval", `${(m.interval / 1000).toFixed(3)} ms`],
    ["Runtime", m.runtime],
  ];
  const summary = byId("summary");
  for (const [k, v] of items) {
    const d = el("div");
    d.append(el("dt", "", k), el("dd", "", v));
    summary.append(d);
  }
  byId("program").textContent = m.program;
}

// ---- the call tree --------------------------------------------------------------------------------------------------

/** A TreeData unpacked. */
interface TreeArrays {
  frame: Float64Array;
  parent: Int32Array;
  time: Float64Array;
  await: Float64Array;
  /** Null when the session has no CPU time: the page then shows none. */
  cpu: Float64Array | null;
  group: Int32Array;
  flags: Uint8Array;
  groupHidden: number[];
  groupLibs: number[][];
}

function unpackTree(t: TreeData): TreeArrays {
  const n = t.n;
  const frame = unpackInts(t.frame, n) as Float64Array;
  for (let i = 0; i < n; i++) frame[i] = frame[i] < 256 ? frame[i] + SYNTHETIC_BASE : frame[i] - 256;
  const parent = unpackInts(t.parent, n, new Int32Array(n)) as Int32Array;
  for (let i = 0; i < n; i++) parent[i] = i - parent[i];
  const group = unpackInts(t.group, n, new Int32Array(n)) as Int32Array;
  for (let i = 0; i < n; i++) group[i] -= 1;
  return {
    frame,
    parent,
    time: unpackInts(t.time, n) as Float64Array,
    await: unpackInts(t.await, n) as Float64Array,
    cpu: t.cpu === undefined ? null : (unpackInts(t.cpu, n) as Float64Array),
    group,
    flags: unpackInts(t.flags, n, new Uint8Array(n)) as Uint8Array,
    groupHidden: t.groupHidden,
    groupLibs: t.groupLibs,
  };
}

interface Tree {
  d: TreeArrays;
  n: number;
  childStart: Int32Array;
  children: Int32Array;
  /** End (exclusive) of each node's subtree in pre-order. */
  end: Int32Array;
  expanded: Set<number>;
  openGroups: Set<number>;
  lower: Array<string | undefined>;
}

const trees: Record<"normal" | "all", Tree | undefined> = { normal: undefined, all: undefined };

const AUTO_OPEN_DEPTH = 40;

function buildTree(packed: TreeData): Tree {
  const d = unpackTree(packed);
  const n = d.frame.length;
  const childStart = new Int32Array(n + 1);
  for (let i = 1; i < n; i++) childStart[d.parent[i] + 1]++;
  for (let i = 0; i < n; i++) childStart[i + 1] += childStart[i];
  const children = new Int32Array(Math.max(0, n - 1));
  const fill = childStart.slice(0, n);
  for (let i = 1; i < n; i++) children[fill[d.parent[i]]++] = i;
  const end = new Int32Array(n);
  for (let i = n - 1; i >= 0; i--) {
    if (end[i] === 0) end[i] = i + 1;
    if (i > 0 && end[d.parent[i]] < end[i]) end[d.parent[i]] = end[i];
  }
  const t: Tree = { d, n, childStart, children, end, expanded: new Set(), openGroups: new Set(), lower: [] };
  // Start with the hot path open: every node over 20% of the total, down to AUTO_OPEN_DEPTH (a recursion
  // thousands deep is opened by hand, a level at a time, not all at once).
  const total = n > 0 ? d.time[0] : 0;
  const depth = new Int32Array(n);
  t.expanded.add(0);
  for (let i = 1; i < n; i++) {
    depth[i] = depth[d.parent[i]] + 1;
    if (d.time[i] >= 0.2 * total && depth[i] <= AUTO_OPEN_DEPTH) t.expanded.add(i);
  }
  return t;
}

function currentTree(): Tree {
  const key = state.showAll ? "all" : "normal";
  return (trees[key] ??= buildTree(data.trees[key]));
}

function shown(t: Tree, node: number): boolean {
  return (t.d.flags[node] & NODE_VISIBLE) !== 0 || (t.d.group[node] >= 0 && t.openGroups.has(t.d.group[node]));
}

/** The rows under node: its children, with a child that is not shown replaced by its own children (iteratively). */
function displayChildren(t: Tree, node: number, keep: Uint8Array | null): number[] {
  const out: number[] = [];
  const stack: number[] = [];
  for (let k = t.childStart[node + 1] - 1; k >= t.childStart[node]; k--) stack.push(t.children[k]);
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (keep && !keep[c]) continue;
    if (shown(t, c)) out.push(c);
    else for (let k = t.childStart[c + 1] - 1; k >= t.childStart[c]; k--) stack.push(t.children[k]);
  }
  return out;
}

function label(t: Tree, node: number): string {
  let s = t.lower[node];
  if (s === undefined) {
    const f = t.d.frame[node];
    s = t.lower[node] = `${frameName(f, t.d.parent[node] === 0)}\u0000${framePosition(f)}`.toLowerCase();
  }
  return s;
}

function formatTime(us: number, total: number): string {
  return state.percent ? `${total > 0 ? ((us / total) * 100).toFixed(1) : "0.0"}%` : seconds(us);
}

function timeClass(us: number, total: number): string {
  const share = total > 0 ? us / total : 0;
  if (share > 0.6) return "time t-hot";
  if (share > 0.2) return "time t-warm";
  if (share > 0.05) return "time t-mild";
  return "time t-cool";
}

let keep: Uint8Array | null = null;
let matchSet: Uint8Array | null = null;
let current: HTMLElement | null = null;

function hasGroupLine(t: Tree, node: number): boolean {
  const g = t.d.group[node];
  return (t.d.flags[node] & NODE_GROUP_ROOT) !== 0 && g >= 0 && t.d.groupHidden[g] > 0;
}

function expandable(t: Tree, node: number): boolean {
  return hasGroupLine(t, node) || displayChildren(t, node, keep).length > 0;
}

/** One node: its row, then (when expanded) its group line and its children. */
function renderNode(t: Tree, node: number): HTMLElement {
  const d = t.d;
  const total = d.time[0];
  const f = d.frame[node];
  const item = el("div", "node");
  item.setAttribute("role", "treeitem");
  item.dataset.node = String(node);
  const row = el("div", "row item");
  row.tabIndex = -1;
  const canOpen = expandable(t, node);
  const open = canOpen && t.expanded.has(node);
  if (canOpen) item.setAttribute("aria-expanded", String(open));
  row.append(el("span", "tog", canOpen ? (open ? "\u25be" : "\u25b8") : ""));
  row.append(el("span", timeClass(d.time[node], total), formatTime(d.time[node], total)));
  if (d.cpu) row.append(el("span", "cpu", `cpu ${formatTime(d.cpu[node], total)}`));
  const name = el("span", "name", frameName(f, d.parent[node] === 0));
  if (matchSet && matchSet[node]) name.classList.add("match");
  row.append(name);
  const pos = framePosition(f);
  if (pos) row.append(el("span", "pos", pos));
  if (d.await[node] > 0 && !isSynthetic(f)) row.append(el("span", "await", `(await ${formatTime(d.await[node], total)})`));
  if (isApp(f)) item.classList.add("app");
  if (isSynthetic(f)) item.classList.add("synthetic");
  item.append(row);
  if (open) item.append(renderChildren(t, node));
  return item;
}

function renderChildren(t: Tree, node: number): HTMLElement {
  const box = el("div", "children");
  box.setAttribute("role", "group");
  if (hasGroupLine(t, node)) {
    const g = t.d.group[node];
    const libs = t.d.groupLibs[g].map((l) => data.libraries[l] ?? "?").join(", ");
    const n = t.d.groupHidden[g];
    const isOpen = t.openGroups.has(g);
    const line = el("div", "row item group");
    line.tabIndex = -1;
    line.dataset.group = String(g);
    line.setAttribute("role", "treeitem");
    line.setAttribute("aria-expanded", String(isOpen));
    line.append(el("span", "tog", isOpen ? "\u25be" : "\u25b8"));
    line.append(el("span", "name", `[${n} ${n === 1 ? "frame" : "frames"} ${isOpen ? "shown" : "hidden"}]`));
    if (libs) line.append(el("span", "pos", libs));
    box.append(line);
  }
  for (const c of displayChildren(t, node, keep)) box.append(renderNode(t, c));
  return box;
}

function renderTree(): void {
  const t = currentTree();
  const root = byId("tree");
  const focusedNode = current?.parentElement?.dataset.node;
  root.replaceChildren();
  current = null;
  const empty = t.n <= 1 || t.d.time[0] <= 0;
  byId("empty").hidden = !empty;
  if (empty) return;
  for (const c of displayChildren(t, 0, keep)) root.append(renderNode(t, c));
  const again = focusedNode !== undefined ? root.querySelector<HTMLElement>(`[data-node="${focusedNode}"] > .row`) : null;
  setCurrent(again ?? root.querySelector<HTMLElement>(".row"), false);
}

function setCurrent(row: HTMLElement | null, focus = true): void {
  if (current) {
    current.classList.remove("current");
    current.tabIndex = -1;
  }
  current = row;
  if (!row) return;
  row.classList.add("current");
  row.tabIndex = 0;
  if (focus) {
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
}

/** Opens or closes a node's row (or a group line) in place. */
function toggle(row: HTMLElement, open?: boolean): void {
  const t = currentTree();
  const item = row.parentElement as HTMLElement;
  if (row.dataset.group !== undefined) {
    const g = Number(row.dataset.group);
    const want = open ?? !t.openGroups.has(g);
    if (want === t.openGroups.has(g)) return;
    if (want) t.openGroups.add(g);
    else t.openGroups.delete(g);
    // The group's frames change which rows its root shows: redraw the root's children.
    const owner = item.parentElement as HTMLElement; // the root's node element
    const node = Number(owner.dataset.node);
    const fresh = renderChildren(t, node);
    item.replaceWith(fresh);
    setCurrent(fresh.querySelector<HTMLElement>(".group"));
    return;
  }
  const node = Number(item.dataset.node);
  if (!item.hasAttribute("aria-expanded")) return;
  const isOpen = t.expanded.has(node);
  const want = open ?? !isOpen;
  if (want === isOpen) return;
  if (want) t.expanded.add(node);
  else t.expanded.delete(node);
  const fresh = renderNode(t, node);
  item.replaceWith(fresh);
  setCurrent(fresh.querySelector<HTMLElement>(".row"));
}

function visibleRows(): HTMLElement[] {
  return Array.from(byId("tree").querySelectorAll<HTMLElement>(".item"));
}

function onTreeKey(e: KeyboardEvent): void {
  if (!current) return;
  const rows = visibleRows();
  const i = rows.indexOf(current);
  const item = current.parentElement as HTMLElement;
  const isGroup = current.dataset.group !== undefined;
  let handled = true;
  switch (e.key) {
    case "ArrowDown":
      if (i + 1 < rows.length) setCurrent(rows[i + 1]);
      break;
    case "ArrowUp":
      if (i > 0) setCurrent(rows[i - 1]);
      break;
    case "Home":
      setCurrent(rows[0]);
      break;
    case "End":
      setCurrent(rows[rows.length - 1]);
      break;
    case "ArrowRight": {
      const expanded = isGroup ? current.getAttribute("aria-expanded") === "true" : item.getAttribute("aria-expanded") === "true";
      if (!isGroup && item.hasAttribute("aria-expanded") && !expanded) toggle(current, true);
      else if (isGroup && !expanded) toggle(current, true);
      else if (!isGroup && expanded && i + 1 < rows.length) setCurrent(rows[i + 1]);
      break;
    }
    case "ArrowLeft": {
      if (!isGroup && item.getAttribute("aria-expanded") === "true") toggle(current, false);
      else {
        // To the parent row.
        const parentItem = (isGroup ? item : item.parentElement)?.closest<HTMLElement>(".node");
        const target = isGroup ? item.parentElement?.querySelector<HTMLElement>(":scope > .row") : parentItem?.querySelector<HTMLElement>(":scope > .row");
        if (target) setCurrent(target);
      }
      break;
    }
    case "Enter":
    case " ":
      toggle(current);
      break;
    default:
      handled = false;
  }
  if (handled) e.preventDefault();
}

function onTreeClick(e: MouseEvent): void {
  const row = (e.target as HTMLElement).closest<HTMLElement>(".item");
  if (!row) return;
  setCurrent(row);
  const onToggle = (e.target as HTMLElement).closest(".tog") !== null;
  if (onToggle || row.dataset.group !== undefined || e.detail >= 2) toggle(row);
}

// ---- search ---------------------------------------------------------------------------------------------------------

/** Matches whose paths a search opens; the tree keeps the paths to the others too, closed. */
const MAX_REVEALED = 200;

function applySearch(): void {
  const t = currentTree();
  const q = state.query.trim().toLowerCase();
  keep = null;
  matchSet = null;
  if (q === "") {
    byId("matches").textContent = "";
    renderTree();
    return;
  }
  keep = new Uint8Array(t.n);
  matchSet = new Uint8Array(t.n);
  let count = 0;
  let coveredEnd = 0; // pre-order: the subtree of a match is [match, end[match])
  for (let i = 1; i < t.n; i++) {
    if (!label(t, i).includes(q)) continue;
    count++;
    matchSet[i] = 1;
    // The match's subtree stays; its ancestors are kept so it shows.
    if (i >= coveredEnd) {
      keep.fill(1, i, t.end[i]);
      coveredEnd = t.end[i];
    }
    for (let a = t.d.parent[i]; a > 0 && !keep[a]; a = t.d.parent[a]) keep[a] = 1;
    if (count > MAX_REVEALED) continue;
    // Open the path to it (and its group, if it is a hidden frame).
    if (!shown(t, i) && t.d.group[i] >= 0) t.openGroups.add(t.d.group[i]);
    for (let a = t.d.parent[i]; a > 0; a = t.d.parent[a]) {
      if (t.expanded.has(a)) continue;
      t.expanded.add(a);
      if (!shown(t, a) && t.d.group[a] >= 0) t.openGroups.add(t.d.group[a]);
    }
  }
  byId("matches").textContent =
    count === 0 ? "no matches" : `${count} ${count === 1 ? "match" : "matches"}${count > MAX_REVEALED ? ` (first ${MAX_REVEALED} opened)` : ""}`;
  renderTree();
}

// ---- timeline -------------------------------------------------------------------------------------------------------

interface Timeline {
  /** Per run: start time (us) and the key index; starts has count + 1 entries (the last is the end). */
  starts: Float64Array;
  keyIndex: Int32Array;
  count: number;
  end: number;
}

interface Paths {
  /** Per key index: the node ids of its path, root side first (the stem above start() trimmed). */
  paths: Array<Int32Array>;
  nodeFrame: number[];
  maxDepth: number;
}

let timeline: Timeline | null = null;
const pathsFor: Record<"normal" | "all", Paths | undefined> = { normal: undefined, all: undefined };

function decodeRuns(): Timeline {
  const tl = data.timeline;
  const count = tl.count;
  const pairs = unpackInts(tl.runs, 2 * count) as Float64Array;
  const starts = new Float64Array(count + 1);
  const keyIndex = new Int32Array(count);
  let t = 0;
  for (let i = 0; i < count; i++) {
    keyIndex[i] = pairs[2 * i];
    const z = pairs[2 * i + 1];
    starts[i] = t;
    t += (z % 2 === 0 ? z / 2 : -(z + 1) / 2) + tl.interval;
  }
  starts[count] = t;
  return { starts, keyIndex, count, end: t };
}

/** Node identity = the whole path above it, so adjacent equal nodes at a depth are one frame call. */
function buildPaths(showAll: boolean): Paths {
  const tl = data.timeline;
  const nodeParent: number[] = [-1];
  const nodeFrame: number[] = [SYNTH_ROOT];
  const ids = new Map<string, number>();
  const intern = (p: number, f: number): number => {
    const key = `${p},${f}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = nodeParent.length;
      nodeParent.push(p);
      nodeFrame.push(f);
      ids.set(key, id);
    }
    return id;
  };
  const removed = (f: number): boolean => !showAll && (data.flags[f] & (FLAG_INTERNAL | FLAG_HIDDEN)) !== 0;
  const stackParent = unpackInts(tl.parent, tl.n, new Int32Array(tl.n)) as Int32Array;
  const stackFrame = unpackInts(tl.frame, tl.n) as Float64Array;
  const stackNode = new Int32Array(tl.n);
  for (let i = 0; i < tl.n; i++) {
    const parent = i - stackParent[i];
    const p = parent < 0 ? 0 : stackNode[parent];
    stackNode[i] = removed(stackFrame[i]) ? p : intern(p, stackFrame[i]);
  }
  const keys = Array.from(unpackInts(tl.keys, tl.keyCount) as Float64Array);
  const full: Int32Array[] = keys.map((key) => {
    const stack = Math.floor(key / 8) - 1;
    const st = key % 8;
    let leaf = stack < 0 ? 0 : stackNode[stack];
    if (st !== 0) leaf = intern(leaf, SYNTH_SELF + st);
    const path: number[] = [];
    for (let n = leaf; n > 0; n = nodeParent[n]) path.push(n);
    return Int32Array.from(path.reverse());
  });
  // SPEC.md step 3 (trim stem), on the paths that start with a real frame.
  const start = data.startStack.filter((f) => !removed(f));
  const candidates = full.filter((p) => p.length > 0 && !isSynthetic(nodeFrame[p[0]]));
  let j = 0;
  if (start.length > 0 && candidates.length > 0 && candidates.every((p) => nodeFrame[p[0]] === start[0])) {
    while (j + 1 < start.length && candidates.every((p) => p.length > j + 1 && nodeFrame[p[j + 1]] === start[j + 1])) j++;
  }
  let maxDepth = 0;
  const paths = full.map((p) => {
    const q = j > 0 && p.length > 0 && !isSynthetic(nodeFrame[p[0]]) ? p.subarray(j) : p;
    if (q.length > maxDepth) maxDepth = q.length;
    return q;
  });
  return { paths, nodeFrame, maxDepth };
}

function currentPaths(): Paths {
  const key = state.showAll ? "all" : "normal";
  return (pathsFor[key] ??= buildPaths(state.showAll));
}

const ROW = 18;
const AXIS = 20;
const view = { start: 0, end: 1 };
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
    c = frame === 0xffffff05 ? "#c9b8e8" : frame === 0xffffff03 ? "#f2b8b5" : frame === 0xffffff04 ? "#e0cfa8" : "#dde1e8";
  } else {
    const flags = data.flags[frame];
    const h = hashHue(data.names[frame] ?? "");
    if (flags & (FLAG_INTERNAL | FLAG_HIDDEN)) c = `hsl(220, 8%, ${78 + (h % 8)}%)`;
    else if (flags & FLAG_LIBRARY) c = `hsl(${30 + (h % 20)}, 70%, ${72 + (h % 10)}%)`;
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

function scheduleDraw(): void {
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
  const tl = (timeline ??= decodeRuns());
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

function drawSegment(ctx: CanvasRenderingContext2D, x0: number, x1: number, depth: number, node: number, P: Paths): void {
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

function resetView(): void {
  view.start = 0;
  view.end = Math.max(1, timeline?.end ?? 1);
  scheduleDraw();
}

function setupTimeline(): void {
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

// ---- wiring ---------------------------------------------------------------------------------------------------------

function showView(v: "tree" | "timeline"): void {
  state.view = v;
  byId("tab-tree").setAttribute("aria-selected", String(v === "tree"));
  byId("tab-timeline").setAttribute("aria-selected", String(v === "timeline"));
  byId("tree-view").hidden = v !== "tree";
  byId("timeline-view").hidden = v !== "timeline";
  if (v === "timeline") {
    if (!timeline) {
      timeline = decodeRuns();
      view.start = 0;
      view.end = Math.max(1, timeline.end);
    }
    scheduleDraw();
    byId("timeline").focus({ preventScroll: true });
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
  setupTimeline();
  renderTree();
  timings.ready = performance.now();
  document.body.dataset.ready = "1";
}

main();
