// The call tree view: the embedded trees unpacked (each when first shown), rows drawn as nodes open, the
// library groups, keyboard and mouse. The search (search.ts) narrows it through setFilter.
import { NodeFlag } from "../../../session/types.ts";
import { nodeChange } from "./change.ts";
import { unpackFrame, unpackInts } from "./data.ts";
import type { TreeData } from "./data.ts";
import {
  byId,
  data,
  el,
  escapeText,
  frameName,
  framePosition,
  isApp,
  isSynthetic,
  runData,
  seconds,
  state,
} from "./shared.ts";

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
  /** A diff's tree only (TreeData.baseTime, side): BASE's time and which runs have the node; null otherwise. */
  baseTime: Float64Array | null;
  side: Uint8Array | null;
  groupHidden: number[];
  groupLibs: number[][];
}

function unpackTree(t: TreeData): TreeArrays {
  const n = t.n;
  const frame = unpackInts(t.frame, n) as Float64Array;
  for (let i = 0; i < n; i++) frame[i] = unpackFrame(frame[i]);
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
    baseTime: t.baseTime === undefined ? null : (unpackInts(t.baseTime, n) as Float64Array),
    side: t.side === undefined ? null : (unpackInts(t.side, n, new Uint8Array(n)) as Uint8Array),
    groupHidden: t.groupHidden,
    groupLibs: t.groupLibs,
  };
}

export interface Tree {
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

/** Per run shown and show-all or not ("new:normal", "base:all"), each unpacked when first shown. */
const trees = new Map<string, Tree>();

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
  // thousands deep is opened by hand, a level at a time, not all at once). A diff's tree opens the hot path of
  // either run: what BASE spent its time in shows, gone or not.
  const hot = (time: Float64Array | null): (i: number) => boolean => {
    const total = time && n > 0 ? time[0] : 0;
    return (i) => total > 0 && time![i] >= 0.2 * total;
  };
  const [hotNew, hotBase] = [hot(d.time), hot(d.baseTime)];
  const depth = new Int32Array(n);
  t.expanded.add(0);
  for (let i = 1; i < n; i++) {
    depth[i] = depth[d.parent[i]] + 1;
    if ((hotNew(i) || hotBase(i)) && depth[i] <= AUTO_OPEN_DEPTH) t.expanded.add(i);
  }
  return t;
}

export function currentTree(): Tree {
  const which = state.showAll ? "all" : "normal";
  const key = `${state.run}:${which}`;
  let t = trees.get(key);
  if (!t) trees.set(key, t = buildTree(runData().trees[which]));
  return t;
}

export function shown(t: Tree, node: number): boolean {
  return (t.d.flags[node] & NodeFlag.visible) !== 0 || (t.d.group[node] >= 0 && t.openGroups.has(t.d.group[node]));
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

export function label(t: Tree, node: number): string {
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

/** The search's filter: the nodes kept (null: all) and the matches (highlighted). */
let keep: Uint8Array | null = null;
let matchSet: Uint8Array | null = null;
let current: HTMLElement | null = null;

/** Sets the search's filter; renderTree draws with it. */
export function setFilter(kept: Uint8Array | null, matches: Uint8Array | null): void {
  keep = kept;
  matchSet = matches;
}

function hasGroupLine(t: Tree, node: number): boolean {
  const g = t.d.group[node];
  return (t.d.flags[node] & NodeFlag.groupRoot) !== 0 && g >= 0 && t.d.groupHidden[g] > 0;
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
  if (d.baseTime && d.side) row.append(changeCell(d.time[node], d.baseTime[node], d.side[node], total, d.baseTime[0]));
  const name = el("span", "name", frameName(f, d.parent[node] === 0));
  if (matchSet && matchSet[node]) name.classList.add("match");
  row.append(name);
  const pos = framePosition(f);
  if (pos) row.append(el("span", "pos", pos));
  if (d.await[node] > 0 && !isSynthetic(f)) {
    row.append(el("span", "await", `(await ${formatTime(d.await[node], total)})`));
  }
  if (isApp(f)) item.classList.add("app");
  if (isSynthetic(f)) item.classList.add("synthetic");
  item.append(row);
  if (open) item.append(renderChildren(t, node));
  return item;
}

/** A diff row's change against BASE (html-page/change.ts, as the text diff says it), both times in its title. */
function changeCell(next: number, base: number, side: number, total: number, baseTotal: number): HTMLElement {
  const normalize = data.diff?.normalize ?? false;
  const { text, kind } = nodeChange(next, base, side, { next: total, base: baseTotal, normalize });
  const cell = el("span", `change c-${kind}`, text);
  const share = (us: number, of: number) => `${of > 0 ? ((us / of) * 100).toFixed(1) : "0.0"}%`;
  cell.title = normalize
    ? `base ${share(base, baseTotal)} of its run, new ${share(next, total)}`
    : `base ${seconds(base)} s, new ${seconds(next)} s`;
  return cell;
}

function renderChildren(t: Tree, node: number): HTMLElement {
  const box = el("div", "children");
  box.setAttribute("role", "group");
  if (hasGroupLine(t, node)) {
    const g = t.d.group[node];
    const libs = t.d.groupLibs[g].map((l) => escapeText(data.libraries[l] ?? "?")).join(", ");
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

export function renderTree(): void {
  const t = currentTree();
  const root = byId("tree");
  const focusedNode = current?.parentElement?.dataset.node;
  root.replaceChildren();
  current = null;
  const empty = t.n <= 1 || (t.d.time[0] <= 0 && !(t.d.baseTime && t.d.baseTime[0] > 0));
  byId("empty").hidden = !empty;
  if (empty) return;
  for (const c of displayChildren(t, 0, keep)) root.append(renderNode(t, c));
  const again = focusedNode !== undefined
    ? root.querySelector<HTMLElement>(`[data-node="${focusedNode}"] > .row`)
    : null;
  setCurrent(again ?? root.querySelector<HTMLElement>(".row"), false);
}

export function setCurrent(row: HTMLElement | null, focus = true): void {
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

export function onTreeKey(e: KeyboardEvent): void {
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
      const expanded = (isGroup ? current : item).getAttribute("aria-expanded") === "true";
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
        const target = (isGroup ? item.parentElement : parentItem)?.querySelector<HTMLElement>(":scope > .row");
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

export function onTreeClick(e: MouseEvent): void {
  const row = (e.target as HTMLElement).closest<HTMLElement>(".item");
  if (!row) return;
  setCurrent(row);
  const onToggle = (e.target as HTMLElement).closest(".tog") !== null;
  if (onToggle || row.dataset.group !== undefined || e.detail >= 2) toggle(row);
}
