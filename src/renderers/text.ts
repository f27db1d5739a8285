// The console report, laid out like pyinstrument's ConsoleRenderer: a header, then the call tree with
// "time name  path:line" rows, library groups folded into "[N frames hidden]  libs" lines. Reads the processed
// tree (pre-order arrays) as the core gives it; nothing here recurses over depth.
import type { Classification } from "../processing/classify.ts";
import { NodeFlag } from "../../session/types.ts";
import type { ProcessedTree, Session } from "../../session/types.ts";
import { VERSION } from "../../session/version.ts";
import { accuracyLines, accuracyOf } from "./accuracy.ts";
import { codePosition, escapeText, frameName, isApplicationCode, isSynthetic } from "./common.ts";

export interface TextOptions {
  unicode: boolean;
  color: boolean;
  /** A flat list of functions instead of the tree. */
  flat: boolean;
  flatTime: "self" | "total";
  /** The flat view shows this many rows, the most time first. */
  flatLimit: number;
  time: "seconds" | "percent_of_total";
  /** No header (for embedding the report in other output). */
  shortMode: boolean;
  /** "(cpu X)" after each row of the tree when the session recorded CPU time (tree.cpuTime); nothing otherwise. */
  showCpu: boolean;
}

export const defaultTextOptions: TextOptions = {
  unicode: false,
  color: false,
  flat: false,
  flatTime: "self",
  flatLimit: 30,
  time: "seconds",
  shortMode: false,
  showCpu: false,
};

const ANSI = {
  red: "\x1b[31m",
  yellow: "\x1b[33m",
  green: "\x1b[32m",
  brightGreen: "\x1b[92m",
  faint: "\x1b[2m",
  // pyinstrument's highlight for application code: white on dark blue (256-colour).
  app: "\x1b[48;5;24m\x1b[38;5;15m",
  end: "\x1b[0m",
};
const NO_ANSI: typeof ANSI = { red: "", yellow: "", green: "", brightGreen: "", faint: "", app: "", end: "" };

const GUIDES_UNICODE = { branch: "├─ ", pipe: "│  ", last: "└─ ", space: "   " };
const GUIDES_ASCII = { branch: "|- ", pipe: "|  ", last: "`- ", space: "   " };
const GROUP_GUIDES = { branch: "      ", pipe: "      ", last: "      ", space: "      " };
const NO_GUIDES = { branch: "", pipe: "", last: "", space: "" };

/** The widest indentation a row gets (50 levels of guides); deeper rows continue after DEEPER. */
const MAX_INDENT = 150;
const DEEPER = "... ";

export const NO_SAMPLES_MESSAGE = "No samples were recorded.";
export const NO_SAMPLES_HINT =
  "The program may have finished before the first sample: try a smaller sampling interval (--interval).";

/** rowSuffix: what follows a node's row (the diff report's change against the base run). */
export function renderText(
  session: Session,
  tree: ProcessedTree,
  classification: Classification,
  options: Partial<TextOptions> = {},
  rowSuffix?: (node: number) => string,
): string {
  const opts = { ...defaultTextOptions, ...options };
  const c = opts.color ? ANSI : NO_ANSI;
  const total = tree.time.length > 0 ? tree.time[0] : 0;
  const out: string[] = [];
  if (!opts.shortMode) out.push(...header(session, opts));

  if (session.samples.stack.length === 0 || total <= 0) {
    out.push(NO_SAMPLES_MESSAGE, NO_SAMPLES_HINT);
    return out.join("\n") + "\n";
  }

  const formatTime = (us: number): string =>
    opts.time === "percent_of_total" ? `${((us / total) * 100).toFixed(1)}%` : (us / 1e6).toFixed(3);
  // pyinstrument's scale: red over 60% of the total, yellow over 20%, green over 5%, faint below.
  const timeColor = (us: number): string => {
    const share = us / total;
    if (share > 0.6) return c.red;
    if (share > 0.2) return c.yellow;
    if (share > 0.05) return c.green;
    return c.brightGreen + c.faint;
  };
  const row = (
    indent: string,
    frame: number,
    time: number,
    awaitTime: number,
    topLevel = false,
    cpuTime?: number,
  ): string => {
    const app = isApplicationCode(classification, frame);
    let line = `${indent}${timeColor(time)}${formatTime(time)}${c.end} ${app ? c.app : ""}${
      escapeText(frameName(session, frame, topLevel))
    }${app ? c.end : ""}`;
    const position = codePosition(session, frame);
    if (position) line += `  ${c.faint}${escapeText(position)}${c.end}`;
    if (awaitTime > 0 && !isSynthetic(frame)) line += ` ${c.faint}(await ${formatTime(awaitTime)})${c.end}`;
    if (cpuTime !== undefined) line += ` ${c.faint}(cpu ${formatTime(cpuTime)})${c.end}`;
    return line;
  };

  if (opts.flat) {
    const times = opts.flatTime === "total" ? tree.flatTotal : tree.flatSelf;
    const rows = Math.min(tree.flatFrame.length, opts.flatLimit);
    for (let i = 0; i < rows; i++) out.push(row("", tree.flatFrame[i], times[i], 0));
    return out.join("\n") + "\n";
  }

  const n = tree.frame.length;
  // Children lists from the parent array (pre-order keeps each node's children in display order).
  const childStart = new Int32Array(n + 1);
  for (let i = 1; i < n; i++) childStart[tree.parent[i] + 1]++;
  for (let i = 0; i < n; i++) childStart[i + 1] += childStart[i];
  const children = new Int32Array(Math.max(0, n - 1));
  const fill = childStart.slice(0, n);
  for (let i = 1; i < n; i++) children[fill[tree.parent[i]]++] = i;

  // Whether a node prints anything (it or a descendant is visible), so the last guide is "└─" for the last child
  // that prints, not for an invisible [self] after it (pyinstrument leaves a dangling "├─" there).
  const prints = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    if ((tree.flags[i] & NodeFlag.visible) !== 0) prints[i] = 1;
    if (prints[i] && i > 0) prints[tree.parent[i]] = 1;
  }

  // Unknown CPU time shows nothing, not zeros; the flat view has no CPU column.
  const cpu = opts.showCpu ? tree.cpuTime : undefined;
  const guides = opts.unicode ? GUIDES_UNICODE : GUIDES_ASCII;
  // pyinstrument's render_frame, iteratively: a node that is not visible prints nothing and its children take
  // its place with no guides; under a group root that prints its "[N frames hidden]" line, guides become blanks.
  const stack: Array<{ node: number; indent: string; childIndent: string }> = [];
  const pushChildren = (node: number, childIndent: string, g: typeof guides): void => {
    // Past MAX_INDENT the guides start again after a "..." mark, so a row's width (and the report) stays linear
    // in its nodes however deep the stack: a 10,000-deep recursion would otherwise print 150 MB of guides.
    if (childIndent.length > MAX_INDENT) childIndent = DEEPER;
    const from = childStart[node];
    let to = childStart[node + 1];
    while (to > from && !prints[children[to - 1]]) to--;
    for (let k = to - 1; k >= from; k--) {
      if (!prints[children[k]]) continue;
      const last = k === to - 1;
      stack.push({
        node: children[k],
        indent: childIndent + (last ? g.last : g.branch),
        childIndent: childIndent + (last ? g.space : g.pipe),
      });
    }
  };
  pushChildren(0, "", NO_GUIDES); // the synthetic root is never printed; its children are the top rows
  while (stack.length > 0) {
    const { node, indent, childIndent } = stack.pop()!;
    if ((tree.flags[node] & NodeFlag.visible) === 0) {
      pushChildren(node, childIndent, NO_GUIDES);
      continue;
    }
    out.push(
      row(indent, tree.frame[node], tree.time[node], tree.awaitTime[node], tree.parent[node] === 0, cpu?.[node]) +
        (rowSuffix?.(node) ?? ""),
    );
    let g = guides;
    const group = tree.group[node];
    if ((tree.flags[node] & NodeFlag.groupRoot) !== 0 && group >= 0 && tree.groupHidden[group] > 0) {
      const libs: string[] = [];
      for (let k = tree.groupLibOffsets[group]; k < tree.groupLibOffsets[group + 1]; k++) {
        libs.push(classification.libraryNames[tree.groupLibs[k]] ?? "?");
      }
      out.push(
        `${childIndent}   ${c.faint}[${tree.groupHidden[group]} ${
          tree.groupHidden[group] === 1 ? "frame" : "frames"
        } hidden]  ${escapeText(truncate(libs.join(", "), 40))}${c.end}`,
      );
      g = GROUP_GUIDES;
    }
    pushChildren(node, childIndent, g);
  }
  return out.join("\n") + "\n";
}

/** A thread's session and its processed tree (Session.threads). */
export interface ThreadReport {
  session: Session;
  tree: ProcessedTree;
  classification: Classification;
}

/**
 * A session with worker threads: the main thread's report as without them, under a "Thread: main" line, then one
 * section per worker, each under its own header line (its name, entry file and figures) and on its own clock.
 * The flat view too is per thread.
 */
export function renderThreadsText(
  main: ThreadReport,
  threads: readonly ThreadReport[],
  options: Partial<TextOptions> = {},
): string {
  const opts = { ...defaultTextOptions, ...options };
  const f = opts.color ? ANSI.faint : "";
  const e = opts.color ? ANSI.end : "";
  const head = opts.shortMode ? "" : header(main.session, opts).join("\n") + "\n";
  const out = [
    head + `${f}Thread: main${e}\n` +
    renderText(main.session, main.tree, main.classification, { ...opts, shortMode: true }),
  ];
  for (const t of threads) {
    const { meta } = t.session;
    const samples = t.session.samples.stack.length;
    const cpu = meta.cpuTime >= 0 ? `  CPU time: ${(meta.cpuTime / 1e6).toFixed(3)}` : "";
    const line = `Thread: ${escapeText(meta.thread?.name ?? "worker")}  ${escapeText(meta.program)}  ` +
      `Duration: ${(meta.duration / 1e6).toFixed(3)}  Samples: ${samples}${cpu}`;
    out.push(`${f}${line}${e}\n` + renderText(t.session, t.tree, t.classification, { ...opts, shortMode: true }));
  }
  return out.join("\n");
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 3) + "..." : text;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** Our header: a small logo with name and version, then pyinstrument's figures, the interval, the program. */
function header(session: Session, opts: TextOptions): string[] {
  const { meta } = session;
  const samples = session.samples.stack.length;
  const started = new Date(meta.startTime);
  // A loaded profile's start time may be out of Date's range: unknown, not NaN:NaN:NaN.
  const recorded = Number.isFinite(started.getTime())
    ? `${pad2(started.getHours())}:${pad2(started.getMinutes())}:${pad2(started.getSeconds())}`
    : "unknown";
  const cpu = meta.cpuTime >= 0 ? (meta.cpuTime / 1e6).toFixed(3) : "n/a";
  const achieved = samples > 0 ? `${(meta.duration / samples / 1000).toFixed(3)} ms` : "n/a";
  const logo = opts.unicode ? ["╭─╮", "├─╯", "╵  "] : [".-.", "|-'", "'  "];
  const left = [`tsprofile ${VERSION}`, escapeText(meta.runtime), ""].map((s) => s.padEnd(20));
  const first = [recorded, (meta.duration / 1e6).toFixed(3), `${(meta.interval / 1000).toFixed(3)} ms`];
  // The second column starts after the widest value, two spaces clear of it, so wide values never run together.
  const width = Math.max(10, ...first.map((v) => v.length + 2));
  const right = [
    `Recorded: ${first[0].padEnd(width)}Samples:  ${samples}`,
    `Duration: ${first[1].padEnd(width)}CPU time: ${cpu}`,
    `Interval: ${first[2].padEnd(width)}Achieved: ${achieved}`,
  ];
  const f = opts.color ? ANSI.faint : "";
  const e = opts.color ? ANSI.end : "";
  return [
    "",
    ...logo.map((l, i) => `  ${f}${l}${e} ${left[i]}  ${right[i]}`),
    "",
    `Program: ${escapeText(meta.program)}`,
    ...accuracyLines(accuracyOf(session)).map((line) => `${f}${line}${e}`),
    "",
  ];
}
