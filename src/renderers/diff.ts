// The reports of two runs compared (src/diff.ts): NEW's call tree with each node's change against BASE, the flat
// table of functions by the size of their change, and JSON for tools. Times are NEW's unless marked base.
import type { Classification } from "../processing/classify.ts";
import { shortPath } from "../processing/classify.ts";
import type { ReportOptions } from "../processing/options.ts";
import type { ViewChange } from "../processing/process.ts";
import { DiffSide, NodeFlag } from "../../session/types.ts";
import type { DiffTree, ProcessedTree, Session, SessionEntries } from "../../session/types.ts";
import { VERSION } from "../../session/version.ts";
import { codePosition, escapeText, frameName, isApplicationCode, isSynthetic, jsonString } from "./common.ts";
import { changeText, nodeChange } from "./html-page/change.ts";
import type { ChangeScale } from "./html-page/change.ts";
import { renderText } from "./text.ts";

export interface DiffOptions extends ReportOptions {
  /** Compare each node's share of its run rather than its time. */
  normalize: boolean;
}

/** Two runs aligned (src/diff.ts diffSessions). */
export interface SessionDiff {
  base: Session;
  /** NEW, its frames replaced by the table both runs share (tree.frame indexes it). */
  session: Session;
  tree: DiffTree;
  classification: Classification;
  options: DiffOptions;
}

/**
 * What a view of the diff that needs other processing calls (the HTML page's show-all toggle, BASE's own tree),
 * built by src/diff.ts from the same options (src/processing/process.ts's reprocess, for two runs).
 */
export interface DiffViews {
  /** The two runs diffed again with the same options but `change` (the tree view's: options.flat is not applied). */
  rediff(change: ViewChange): DiffTree;
  /** BASE processed on its own, as its ordinary report would be, on the shared frames and classification. */
  processBase(change: ViewChange): ProcessedTree;
  /** Each run's entries in time order (its timeline), all frames kept. */
  entries(run: Session): SessionEntries;
}

const RED = "\x1b[31m";
const GREEN = "\x1b[32m";
const FAINT = "\x1b[2m";
const END = "\x1b[0m";

/** The runs' totals and the unit their changes are in (html-page/change.ts). */
function scaleOf(d: SessionDiff): ChangeScale {
  return { next: d.tree.time[0] ?? 0, base: d.tree.baseTime[0] ?? 0, normalize: d.options.normalize };
}

/** What follows a node's row: its change, or that only one run has it. */
function nodeChangeText(d: SessionDiff, node: number, color: boolean): string {
  const { tree } = d;
  const { text, kind } = nodeChange(tree.time[node], tree.baseTime[node], tree.side[node], scaleOf(d));
  const code = kind === "small" ? FAINT : kind === "grew" || kind === "new" ? RED : GREEN;
  return "  " + (color ? `${code}${text}${END}` : text);
}

function runLine(label: string, s: Session): string {
  const { meta } = s;
  return `${label} ${escapeText(meta.program)}  ${escapeText(meta.runtime)}  Duration: ${
    (meta.duration / 1e6).toFixed(3)
  }  Samples: ${s.samples.stack.length}`;
}

function header(d: SessionDiff): string[] {
  const total = changeText(d.tree.time[0] ?? 0, d.tree.baseTime[0] ?? 0, scaleOf(d));
  const unit = d.options.normalize ? "shares of each run" : "seconds";
  return [
    "",
    `tsprofile ${VERSION} diff (${unit}): NEW's tree, each row's change against BASE`,
    runLine("Base:", d.base),
    runLine("New: ", d.session),
    `Total: ${d.options.normalize ? "" : total}`.trimEnd(),
    "",
  ].filter((_line, i) => i !== 4 || !d.options.normalize);
}

/** The text report: the tree with changes, or with options.flat the table of functions by size of change. */
export function renderDiffText(d: SessionDiff): string {
  const { options, tree, session, classification } = d;
  const out = options.shortMode ? [] : header(d);
  if (options.flat) return out.concat(flatTable(d), "").join("\n");
  const body = renderText(session, tree as unknown as ProcessedTree, classification, { ...options, shortMode: true }, (
    node,
  ) => nodeChangeText(d, node, options.color));
  return out.join("\n") + body;
}

/** One row per function, the biggest change first: own (or total) time in NEW, in BASE, the change. */
function flatTable(d: SessionDiff): string[] {
  const { tree, session, options } = d;
  const total = options.flatTime === "total";
  const cells: string[][] = [];
  for (let i = 0; i < tree.flatFrame.length && cells.length < options.flatLimit; i++) {
    const frame = tree.flatFrame[i];
    const next = total ? tree.flatTotal[i] : tree.flatSelf[i];
    const base = total ? tree.flatBaseTotal[i] : tree.flatBaseSelf[i];
    if (next === 0 && base === 0) continue; // a caller's row in the other view (no own time in either run)
    const change = base === 0 ? "[new]" : next === 0 ? "[gone]" : changeText(next, base, scaleOf(d));
    const position = codePosition(session, frame);
    const name = escapeText(frameName(session, frame)) + (position ? `  ${escapeText(position)}` : "");
    cells.push([(next / 1e6).toFixed(3), (base / 1e6).toFixed(3), change, name]);
  }
  const widths = [3, 4, 6].map((k, c) => Math.max(k, ...cells.map((r) => r[c].length)));
  const line = (r: string[]) =>
    `${r[0].padStart(widths[0])}  ${r[1].padStart(widths[1])}  ${r[2].padEnd(widths[2])}  ${r[3]}`;
  const what = total ? "total" : "self";
  return [line(["new", "base", "change", `function (${what} time, seconds)`]), ...cells.map(line)];
}

/** The JSON report: both runs' figures, the aligned tree and the flat rows, in seconds. */
export function renderDiffJson(d: SessionDiff): string {
  const { tree, session, classification } = d;
  const s = (us: number) => us / 1e6;
  const run = (x: Session) =>
    `{"program": ${jsonString(x.meta.program)}, "runtime": ${jsonString(x.meta.runtime)}, "duration": ${
      s(x.meta.duration)
    }, "sample_count": ${x.samples.stack.length}, "start_time": ${x.meta.startTime / 1000}}`;
  const sideName = (side: number) => (side === DiffSide.new ? "new" : side === DiffSide.base ? "base" : "both");
  const frameJson = (frame: number, topLevel: boolean) => {
    const info = isSynthetic(frame) ? undefined : session.frames[frame];
    return `"function": ${jsonString(frameName(session, frame, topLevel))}, "file_path": ${
      jsonString(info?.file ?? "")
    }, "file_path_short": ${jsonString(shortPath(info?.file ?? "", session.meta.cwd))}, "line_no": ${
      info?.line ?? 0
    }, "is_application_code": ${isApplicationCode(classification, frame)}`;
  };
  const out = [
    `{"base": ${run(d.base)}, "new": ${run(session)}, "normalize": ${d.options.normalize}, "root_frame": `,
  ];
  const n = tree.frame.length;
  let openDepth = -1;
  for (let i = 0; i < n; i++) {
    const depth = tree.depth[i];
    while (openDepth >= depth) {
      out.push("]}");
      openDepth--;
    }
    if (i > 0 && tree.parent[i] !== i - 1) out.push(",");
    out.push(
      `{${frameJson(tree.frame[i], tree.parent[i] === 0)}, "time": ${s(tree.time[i])}, "base_time": ${
        s(tree.baseTime[i])
      }, "self_time": ${s(tree.selfTime[i])}, "base_self_time": ${s(tree.baseSelfTime[i])}, "await_time": ${
        s(tree.awaitTime[i])
      }, "base_await_time": ${s(tree.baseAwaitTime[i])}, "side": "${sideName(tree.side[i])}", "group_id": ${
        tree.group[i] >= 0 ? tree.group[i] : null
      }, "visible": ${(tree.flags[i] & NodeFlag.visible) !== 0}, "children": [`,
    );
    openDepth = depth;
  }
  while (openDepth >= 0) {
    out.push("]}");
    openDepth--;
  }
  if (n === 0) out.push("null");
  const flat: string[] = [];
  for (let i = 0; i < tree.flatFrame.length; i++) {
    flat.push(
      `{${frameJson(tree.flatFrame[i], false)}, "self_time": ${s(tree.flatSelf[i])}, "base_self_time": ${
        s(tree.flatBaseSelf[i])
      }, "total_time": ${s(tree.flatTotal[i])}, "base_total_time": ${s(tree.flatBaseTotal[i])}}`,
    );
  }
  out.push(`, "flat": [${flat.join(", ")}]}\n`);
  return out.join("");
}

/** The diff's renderers by name (tsprofile diff -r). */
export const DIFF_RENDERERS: Record<string, (d: SessionDiff) => string> = {
  text: renderDiffText,
  json: renderDiffJson,
};
