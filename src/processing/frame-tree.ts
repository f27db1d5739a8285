// The processed tree as plain objects (frame-node.ts) and back: rootFrame() and renderer modules read the plain
// tree, processors written in JavaScript change it, and the built-in tree reports (text, json, html) render what
// they made through the ProcessedTree shape they already read. Nothing here recurses over depth: a 10,000-deep
// stack is walked with explicit stacks, as the renderers do.
import { UsageError } from "../../session/errors.ts";
import {
  FrameFlag,
  NO_LIBRARY,
  NodeFlag,
  SYNTHETIC_BASE,
  SYNTHETIC_NAMES,
  SyntheticFrame,
} from "../../session/types.ts";
import type { FrameInfo, ProcessedTree, Session } from "../../session/types.ts";
import type { Classification } from "./classify.ts";
import type { FrameGroup, FrameNode } from "./frame-node.ts";
import type { Processor, ReportOptions } from "./options.ts";

export function isSynthetic(frame: number): boolean {
  return frame >= SYNTHETIC_BASE;
}

/**
 * topLevel: the node hangs off the root. A [self] there holds samples whose every frame was a runtime
 * internal (module loading, the event loop's own code): "[self]" of nothing would mean nothing to a reader.
 */
export function frameName(session: Session, frame: number, topLevel = false): string {
  if (topLevel && frame === SyntheticFrame.self) return "[runtime internals]";
  if (isSynthetic(frame)) return SYNTHETIC_NAMES[frame] ?? "[unknown]";
  const name = session.frames[frame]?.name ?? "";
  return name === "" ? "(anonymous)" : name;
}

/** Application code: a real frame with none of the internal/hidden/library flags. */
export function isApplicationCode(classification: Classification, frame: number): boolean {
  if (isSynthetic(frame)) return false;
  return (classification.flags[frame] & (FrameFlag.internal | FrameFlag.hidden | FrameFlag.library)) === 0;
}

/** The frame each plain node was made from, so a node a processor kept (and did not rename) keeps its frame. */
const ORIGIN = new WeakMap<FrameNode, number>();

const s = (us: number): number => us / 1e6;
const us = (seconds: number): number => seconds * 1e6;

/** The plain tree of a processed tree, or null when the session has no samples (as the JSON report's root_frame). */
export function toFrameTree(session: Session, tree: ProcessedTree, classification: Classification): FrameNode | null {
  const n = tree.frame.length;
  if (session.samples.stack.length === 0 || n === 0 || tree.time[0] <= 0) return null;
  const groups: FrameGroup[] = [];
  for (let g = 0; g < tree.groupRoot.length; g++) {
    const libraries: string[] = [];
    for (let k = tree.groupLibOffsets[g]; k < tree.groupLibOffsets[g + 1]; k++) {
      libraries.push(classification.libraryNames[tree.groupLibs[k]] ?? "?");
    }
    groups.push({ id: g, hiddenFrames: tree.groupHidden[g], libraries });
  }
  const cpu = tree.cpuTime;
  const nodes: FrameNode[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const frame = tree.frame[i];
    const info: FrameInfo | undefined = isSynthetic(frame) ? undefined : session.frames[frame];
    const lib = info ? classification.library[frame] : NO_LIBRARY;
    const node: FrameNode = {
      function: frameName(session, frame, tree.parent[i] === 0),
      file: info?.file ?? "",
      line: info?.line ?? 0,
      time: s(tree.time[i]),
      selfTime: s(tree.selfTime[i]),
      awaitTime: s(tree.awaitTime[i]),
      cpuTime: cpu ? s(cpu[i]) : null,
      library: lib === NO_LIBRARY ? null : classification.libraryNames[lib] ?? null,
      isApplication: isApplicationCode(classification, frame),
      group: tree.group[i] >= 0 ? groups[tree.group[i]] ?? null : null,
      visible: (tree.flags[i] & NodeFlag.visible) !== 0,
      children: [],
    };
    ORIGIN.set(node, frame);
    nodes[i] = node;
    if (i > 0) nodes[tree.parent[i]].children.push(node); // pre-order: children come in display order
  }
  return nodes[0];
}

/** A short description of a value a processor gave where a node belongs. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && typeof (value as { then?: unknown }).then === "function") {
    return "a Promise (processors are synchronous)";
  }
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * Why root is not a tree of FrameNodes, or undefined. Iterative; a node met twice (a cycle) is an error. A node a
 * processor made needs only function, time and children: the other fields are filled in with their defaults
 * (file "", line 0, selfTime and awaitTime 0, cpuTime null, library null, isApplication when library is null,
 * group null, visible true), so a renderer reads whole nodes.
 */
export function treeProblem(root: unknown): string | undefined {
  const thenable = typeof (root as { then?: unknown } | null)?.then === "function";
  if (root === null || typeof root !== "object" || Array.isArray(root) || thenable) {
    return `${describe(root)}, not a tree`;
  }
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Record<string, unknown>;
    if (node === null || typeof node !== "object" || Array.isArray(node)) return `a child that is ${describe(node)}`;
    if (seen.has(node)) return "a node that appears twice (a cycle)";
    seen.add(node);
    const name = typeof node.function === "string" ? JSON.stringify(node.function) : "a node";
    if (typeof node.function !== "string") return "a node whose function is not a string";
    if (typeof node.time !== "number" || !Number.isFinite(node.time)) return `${name} whose time is not a number`;
    if (!Array.isArray(node.children)) return `${name} whose children is not an array`;
    for (const key of ["selfTime", "awaitTime", "line"]) {
      if (node[key] !== undefined && (typeof node[key] !== "number" || !Number.isFinite(node[key]))) {
        return `${name} whose ${key} is not a number`;
      }
    }
    if (node.file !== undefined && typeof node.file !== "string") return `${name} whose file is not a string`;
    const group = node.group as FrameGroup | null | undefined;
    if (group != null && (typeof group !== "object" || typeof group.id !== "number")) {
      return `${name} whose group has no numeric id`;
    }
    if (node.cpuTime != null && (typeof node.cpuTime !== "number" || !Number.isFinite(node.cpuTime))) {
      return `${name} whose cpuTime is not a number or null`;
    }
    if (node.library != null && typeof node.library !== "string") return `${name} whose library is not a string`;
    node.file ??= "";
    node.line ??= 0;
    node.selfTime ??= 0;
    node.awaitTime ??= 0;
    node.cpuTime ??= null;
    node.library ??= null;
    node.isApplication ??= node.library === null;
    node.group ??= null;
    node.visible ??= true;
    for (let k = node.children.length - 1; k >= 0; k--) stack.push(node.children[k]);
  }
  return undefined;
}

/** A processor's label in messages: the module path the CLI gives it as its name, or its function name. */
function labelOf(processor: Processor, index: number): string {
  return processor.name ? processor.name : `#${index + 1}`;
}

/** The first line of what was thrown. */
export function thrownMessage(err: unknown): string {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return message.split("\n")[0];
}

/**
 * Runs the processors in order over the plain tree: each returns the new root, or undefined when it changed the
 * tree in place. One that throws or gives back something that is not a tree is a UsageError in one line naming it.
 */
export function runProcessors(root: FrameNode, processors: readonly Processor[], options: ReportOptions): FrameNode {
  for (let i = 0; i < processors.length; i++) {
    const processor = processors[i];
    if (typeof processor !== "function") {
      throw new UsageError(`processor ${i + 1} is ${describe(processor)}, not a function`);
    }
    let out: unknown;
    try {
      out = processor(root, options);
    } catch (err) {
      throw new UsageError(`processor ${labelOf(processor, i)} threw ${thrownMessage(err)}`);
    }
    const next = out === undefined ? root : out;
    const problem = treeProblem(next);
    if (problem !== undefined) {
      throw new UsageError(`processor ${labelOf(processor, i)} returned ${problem} (it returns the root or undefined)`);
    }
    root = next as FrameNode;
  }
  return root;
}

/**
 * The frames the plain trees of one report name: the session's, then a frame for each node a processor made or
 * renamed (or whose library it changed), with its classification. One table serves every tree of a report (the
 * HTML page's two trees), so `session` and `classification` are copies that grow, read by the renderers after
 * the trees are made.
 */
export class FrameTable {
  readonly session: Session;
  readonly classification: Classification;
  readonly #base: Session;
  readonly #baseClassification: Classification;
  #byKey: Map<string, number> | undefined;
  readonly #libraries = new Map<string, number>();
  readonly #addedFlags: number[] = [];
  readonly #addedLibrary: number[] = [];

  constructor(session: Session, classification: Classification) {
    this.#base = session;
    this.#baseClassification = classification;
    this.session = { ...session, frames: [...session.frames] };
    this.classification = {
      flags: classification.flags,
      library: classification.library,
      libraryNames: [...classification.libraryNames],
    };
    this.classification.libraryNames.forEach((name, id) => {
      if (!this.#libraries.has(name)) this.#libraries.set(name, id);
    });
  }

  /** What a node shows of its frame: a frame is reused only when all of it is the same. */
  static key(name: string, file: string, line: number, app: boolean, library: string | null): string {
    return `${name}\0${file}\0${line}\0${app ? 1 : 0}\0${library ?? ""}`;
  }

  #frameKey(frame: number): string {
    const info = this.#base.frames[frame];
    const lib = this.#baseClassification.library[frame];
    return FrameTable.key(
      frameName(this.#base, frame),
      info?.file ?? "",
      info?.line ?? 0,
      isApplicationCode(this.#baseClassification, frame),
      lib === NO_LIBRARY ? null : this.#baseClassification.libraryNames[lib] ?? null,
    );
  }

  /** The frame id a node is drawn with: its own, a session frame that shows the same, a synthetic one, or new. */
  frameOf(node: FrameNode, topLevel: boolean): number {
    const name = node.function;
    const file = node.file ?? "";
    const line = node.line ?? 0;
    const library = node.library ?? null;
    const app = node.isApplication ?? library === null;
    const origin = ORIGIN.get(node);
    if (origin !== undefined && isSynthetic(origin) && name === frameName(this.#base, origin, topLevel)) return origin;
    if (file === "" && line === 0 && library === null && !app) {
      if (name === "[runtime internals]") return SyntheticFrame.self;
      for (const [id, synthetic] of Object.entries(SYNTHETIC_NAMES)) if (synthetic === name) return Number(id);
    }
    const key = FrameTable.key(name, file, line, app, library);
    if (origin !== undefined && !isSynthetic(origin) && origin < this.#base.frames.length) {
      if (this.#frameKey(origin) === key) return origin;
    }
    if (this.#byKey === undefined) {
      this.#byKey = new Map();
      for (let f = 0; f < this.#base.frames.length; f++) {
        const k = this.#frameKey(f);
        if (!this.#byKey.has(k)) this.#byKey.set(k, f);
      }
    }
    const known = this.#byKey.get(key);
    if (known !== undefined) return known;
    const id = this.session.frames.length;
    this.session.frames.push({ name, file, line, col: 0, kind: "js" });
    this.#addedFlags.push(app ? 0 : FrameFlag.library);
    this.#addedLibrary.push(library === null ? NO_LIBRARY : this.libraryId(library));
    this.#byKey.set(key, id);
    return id;
  }

  libraryId(name: string): number {
    let id = this.#libraries.get(name);
    if (id === undefined) {
      id = this.classification.libraryNames.length;
      this.classification.libraryNames.push(name);
      this.#libraries.set(name, id);
    }
    return id;
  }

  /** The classification's per-frame arrays, grown to the frames added so far. */
  settle(): void {
    const n = this.session.frames.length;
    if (this.classification.flags.length === n) return;
    const base = this.#base.frames.length;
    const flags = new Uint8Array(n);
    flags.set(this.#baseClassification.flags.subarray(0, base));
    flags.set(this.#addedFlags, base);
    const library = new Uint32Array(n);
    library.set(this.#baseClassification.library.subarray(0, base));
    library.set(this.#addedLibrary, base);
    this.classification.flags = flags;
    this.classification.library = library;
  }
}

/**
 * The ProcessedTree the renderers read, from a plain tree (checked by treeProblem): pre-order arrays in
 * microseconds, groups renumbered in order of first appearance (the first node of a group is its root), and the
 * flat view computed from the tree as the core computes it from the samples (SPEC.md §9): a function's self time
 * is its nodes' time less their children's ([self] nodes count for their parent), its total the time of its
 * nodes not under another node of the same function.
 */
export function fromFrameTree(
  root: FrameNode,
  table: FrameTable,
  options: Pick<ReportOptions, "flatTime" | "filterThreshold" | "showAll">,
  withCpu: boolean,
): ProcessedTree {
  const frame: number[] = [];
  const parent: number[] = [];
  const depth: number[] = [];
  const time: number[] = [];
  const selfTime: number[] = [];
  const awaitTime: number[] = [];
  const cpuTime: number[] = [];
  const group: number[] = [];
  const flags: number[] = [];
  const groupIds = new Map<number, number>();
  const groupRoot: number[] = [];
  const groupHidden: number[] = [];
  const groupLibOffsets: number[] = [0];
  const groupLibs: number[] = [];

  const stack: Array<[FrameNode, number, number]> = [[root, -1, 0]];
  while (stack.length > 0) {
    const [node, p, d] = stack.pop()!;
    const i = frame.length;
    frame.push(p < 0 ? SyntheticFrame.root : table.frameOf(node, p === 0));
    parent.push(p);
    depth.push(d);
    time.push(us(node.time));
    selfTime.push(us(node.selfTime ?? 0));
    awaitTime.push(us(node.awaitTime ?? 0));
    cpuTime.push(us(node.cpuTime ?? 0));
    let flag = node.visible === false ? 0 : NodeFlag.visible;
    let g = -1;
    const nodeGroup = node.group;
    if (nodeGroup != null && p >= 0) {
      const known = groupIds.get(nodeGroup.id);
      if (known !== undefined) g = known;
      else {
        g = groupRoot.length;
        groupIds.set(nodeGroup.id, g);
        groupRoot.push(i);
        groupHidden.push(Math.max(0, Math.round(Number(nodeGroup.hiddenFrames) || 0)));
        for (const lib of Array.isArray(nodeGroup.libraries) ? nodeGroup.libraries : []) {
          groupLibs.push(table.libraryId(String(lib)));
        }
        groupLibOffsets.push(groupLibs.length);
        flag |= NodeFlag.groupRoot;
      }
    }
    group.push(g);
    flags.push(flag);
    for (let k = node.children.length - 1; k >= 0; k--) stack.push([node.children[k], i, d + 1]);
  }
  table.settle();

  const flat = flatView(frame, parent, depth, time, options);
  return {
    frame: Uint32Array.from(frame),
    parent: Int32Array.from(parent),
    depth: Uint32Array.from(depth),
    time: Float64Array.from(time),
    selfTime: Float64Array.from(selfTime),
    awaitTime: Float64Array.from(awaitTime),
    ...(withCpu ? { cpuTime: Float64Array.from(cpuTime) } : {}),
    group: Int32Array.from(group),
    flags: Uint8Array.from(flags),
    groupRoot: Uint32Array.from(groupRoot),
    groupHidden: Uint32Array.from(groupHidden),
    groupLibOffsets: Uint32Array.from(groupLibOffsets),
    groupLibs: Uint32Array.from(groupLibs),
    ...flat,
  };
}

function flatView(
  frame: number[],
  parent: number[],
  depth: number[],
  time: number[],
  options: Pick<ReportOptions, "flatTime" | "filterThreshold" | "showAll">,
): Pick<ProcessedTree, "flatFrame" | "flatSelf" | "flatTotal"> {
  const n = frame.length;
  const childTime = new Float64Array(n);
  for (let i = n - 1; i > 0; i--) childTime[parent[i]] += time[i];
  const row = new Map<number, number>(); // frame -> row, in order of first appearance
  const rowFrame: number[] = [];
  const self: number[] = [];
  const total: number[] = [];
  const rowOf = (f: number): number => {
    let r = row.get(f);
    if (r === undefined) {
      r = rowFrame.length;
      row.set(f, r);
      rowFrame.push(f);
      self.push(0);
      total.push(0);
    }
    return r;
  };
  const onPath = new Map<number, number>(); // frame -> how many times it is on the current path
  const path: number[] = [];
  for (let i = 1; i < n; i++) {
    while (path.length >= depth[i]) {
      const f = path.pop()!;
      onPath.set(f, onPath.get(f)! - 1);
    }
    const f = frame[i];
    const own = Math.max(0, time[i] - childTime[i]);
    if (f === SyntheticFrame.self) {
      const pf = frame[parent[i]];
      if (parent[i] > 0 && !isSynthetic(pf)) self[rowOf(pf)] += own;
    } else {
      const r = rowOf(f);
      self[r] += own;
      if (!onPath.get(f)) total[r] += time[i];
    }
    path.push(f);
    onPath.set(f, (onPath.get(f) ?? 0) + 1);
  }
  const chosen = options.flatTime === "total" ? total : self;
  const limit = options.showAll ? -Infinity : options.filterThreshold * (time[0] ?? 0);
  const rows = rowFrame.map((_, r) => r).filter((r) => chosen[r] >= limit);
  rows.sort((a, b) => chosen[b] - chosen[a] || a - b);
  return {
    flatFrame: Uint32Array.from(rows, (r) => rowFrame[r]),
    flatSelf: Float64Array.from(rows, (r) => self[r]),
    flatTotal: Float64Array.from(rows, (r) => total[r]),
  };
}
