// The HTML report: one self-contained page (no network) with a call-tree view and a timeline. The page's code
// and styles are built from src/renderers/html-page/ by scripts/build-html.mjs into html-page/page.generated.ts;
// this module only gathers the data the page needs and embeds it as JSON in a <script type="application/json">
// block, with every "<" (and U+2028/2029) escaped, so names and paths are data and never markup.
import type { Classification } from "../processing/classify.ts";
import type { ReportOptions } from "../processing/options.ts";
import type { ViewChange } from "../processing/process.ts";
import { NO_LIBRARY, SampleState, SyntheticFrame } from "../../session/types.ts";
import type { DiffTree, ProcessedTree, Session, SessionEntries } from "../../session/types.ts";
import { VERSION } from "../../session/version.ts";
import { accuracyLines, accuracyOf } from "./accuracy.ts";
import { codePosition, frameName } from "./common.ts";
import { packDuration, packFrame, packInts, timelineKey } from "./html-page/data.ts";
import type { PageData, RunMeta, TimelineData, TreeData } from "./html-page/data.ts";
import { PAGE_HEAD, PAGE_TAIL } from "./html-page/page.generated.ts";
import { weightedSamples } from "./samples.ts";

/** The state a synthetic frame at the end of an entry's path stands for (the timeline keys a path by its state). */
const STATE_OF_FRAME = new Map<number, number>([
  [SyntheticFrame.idle, SampleState.idle],
  [SyntheticFrame.gc, SampleState.gc],
  [SyntheticFrame.native, SampleState.native],
  [SyntheticFrame.await, SampleState.await],
  [SyntheticFrame.outOfContext, SampleState.outOfContext],
]);

export interface HtmlContext {
  session: Session;
  /** The tree processed with options (the page starts on it). */
  tree: ProcessedTree;
  classification: Classification;
  options: ReportOptions;
  /** The other processing (show-all or not) the page's toggle switches to. */
  reprocess(change: ViewChange): ProcessedTree;
  /** The session's entries in time order (the timeline). */
  entries(showAll: boolean): SessionEntries;
  /** The session's worker threads (Session.threads), each processed on its own. */
  threads?: HtmlContext[];
}

/** The whole page. */
export function renderHtml(context: HtmlContext): string {
  return PAGE_HEAD + embedJson(pageData(context)) + PAGE_TAIL;
}

/** JSON that is safe inside a <script> element: no "<" (so no "</script>" or "<!--"), no raw U+2028/2029. */
export function embedJson(value: unknown): string {
  const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, escape);
}

export function pageData(
  { session, tree, classification, options, reprocess, entries, threads }: HtmlContext,
): PageData {
  const { meta } = session;
  const processed = (showAll: boolean): ProcessedTree => reprocess({ timeline: false, showAll });
  // The call tree is aggregated (the page's timeline view is the chronological one): a tree processed with
  // timeline: true is not reused.
  const given = options.timeline ? processed(options.showAll) : tree;
  const other = processed(!options.showAll);
  const normal = options.showAll ? other : given;
  const all = options.showAll ? given : other;
  return {
    version: VERSION,
    meta: runMeta(session),
    ...frameTables(session, classification),
    showAll: options.showAll,
    percent: options.time === "percent_of_total",
    trees: { normal: treeData(normal), all: treeData(all) },
    timeline: timelineData(session, entries(true)),
    startStack: Array.from(meta.startStack),
    ...(threads?.length
      ? {
        threads: threads.map((t) => ({
          name: `${t.session.meta.thread?.name ?? "worker"}  ${t.session.meta.program}`,
          data: pageData({ ...t, threads: [] }),
        })),
      }
      : {}),
  };
}

/** A run's figures for the header. */
export function runMeta(session: Session): RunMeta {
  const { meta } = session;
  return {
    program: meta.program,
    runtime: meta.runtime,
    startTime: meta.startTime,
    duration: meta.duration,
    cpuTime: meta.cpuTime,
    interval: meta.interval,
    samples: session.samples.stack.length,
    notes: accuracyLines(accuracyOf(session)),
  };
}

/** Per real frame of the session: its name and position as shown, its flags and library. */
export function frameTables(
  session: Session,
  classification: Classification,
): Pick<PageData, "names" | "positions" | "flags" | "library" | "libraries"> {
  const names: string[] = [];
  const positions: string[] = [];
  const library: number[] = [];
  for (let f = 0; f < session.frames.length; f++) {
    names.push(frameName(session, f));
    positions.push(codePosition(session, f));
    const lib = classification.library[f];
    library.push(lib === NO_LIBRARY ? -1 : lib);
  }
  return {
    names,
    positions,
    flags: Array.from(classification.flags),
    library,
    libraries: classification.libraryNames,
  };
}

/** A processed tree as the page reads it; a diff's tree (DiffTree) with BASE's time and the sides as well. */
export function treeData(tree: ProcessedTree | DiffTree): TreeData {
  const groups = tree.groupRoot.length;
  const groupLibs: number[][] = [];
  for (let g = 0; g < groups; g++) {
    groupLibs.push(Array.from(tree.groupLibs.subarray(tree.groupLibOffsets[g], tree.groupLibOffsets[g + 1])));
  }
  return {
    n: tree.frame.length,
    frame: packInts(tree.frame, packFrame),
    parent: packInts(tree.parent, (p, i) => i - p),
    time: packInts(tree.time),
    self: packInts(tree.selfTime),
    await: packInts(tree.awaitTime),
    group: packInts(tree.group, (g) => g + 1),
    flags: packInts(tree.flags),
    ...("cpuTime" in tree && tree.cpuTime ? { cpu: packInts(tree.cpuTime) } : {}),
    ...("side" in tree ? { baseTime: packInts(tree.baseTime), side: packInts(tree.side) } : {}),
    groupHidden: Array.from(tree.groupHidden),
    groupLibs,
  };
}

/**
 * The timeline's data: the session's entries in time order as the core weighs them (samples.ts: the gap rule,
 * await attribution, [await] under the stack that awaited), all frames kept (the page hides internal and hidden
 * frames itself unless show-all).
 */
export function timelineData(session: Session, entries: SessionEntries): TimelineData {
  const ws = weightedSamples(session, entries);
  // Canonical stacks of the entries' real frames; a state frame ends a path as the key's state.
  const parent: number[] = [];
  const frame: number[] = [];
  const keyOf = new Int32Array(ws.parent.length);
  const stackOf = new Int32Array(ws.parent.length);
  for (let k = 0; k < ws.parent.length; k++) {
    const p = ws.parent[k] < 0 ? -1 : stackOf[ws.parent[k]];
    const f = ws.frame[k];
    const state = STATE_OF_FRAME.get(f);
    if (state !== undefined || f === SyntheticFrame.self) {
      stackOf[k] = p;
      keyOf[k] = timelineKey(p, state ?? SampleState.js);
      continue;
    }
    stackOf[k] = parent.length;
    parent.push(p);
    frame.push(f);
    keyOf[k] = timelineKey(stackOf[k], SampleState.js);
  }
  const runKey: number[] = [];
  const runDur: number[] = [];
  for (let i = 0; i < ws.node.length; i++) {
    const key = keyOf[ws.node[i]];
    const last = runKey.length - 1;
    if (last >= 0 && runKey[last] === key) runDur[last] += ws.weight[i];
    else {
      runKey.push(key);
      runDur.push(ws.weight[i]);
    }
  }
  const { meta } = session;

  // The key table, most used first, so the common runs take one or two characters.
  const uses = new Map<number, number>();
  for (const k of runKey) uses.set(k, (uses.get(k) ?? 0) + 1);
  const keys = [...uses.keys()].sort((a, b) => uses.get(b)! - uses.get(a)! || a - b);
  const index = new Map<number, number>();
  keys.forEach((k, i) => index.set(k, i));
  const interval = Math.max(1, Math.round(meta.interval));
  const pairs = new Float64Array(2 * runKey.length);
  for (let i = 0; i < runKey.length; i++) {
    pairs[2 * i] = index.get(runKey[i])!;
    pairs[2 * i + 1] = packDuration(runDur[i], interval);
  }
  return {
    n: parent.length,
    parent: packInts(parent, (p, i) => i - p),
    frame: packInts(frame),
    keys: packInts(keys),
    keyCount: keys.length,
    runs: packInts(pairs),
    count: runKey.length,
    interval,
  };
}
