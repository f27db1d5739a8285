// Two runs compared (tsprofile diff, diffSessions): both sessions put on one frame table, where a function is the
// same in both runs if its name, file and kind are (its line may move when the code around it is edited), then
// processed alike and aligned by the core (core-rs/SPEC.md, diff); renderers/diff.ts shows the result.
import { frameKey, StackInterner } from "../session/frames.ts";
import { UsageError } from "../session/errors.ts";
import { TSPROFILE_ROOT } from "../session/root.ts";
import type { DiffTree, FrameInfo, ProcessedTree, Session } from "../session/types.ts";
import { diffSessionsInCore, processSession, sessionEntries } from "../wasm/core.ts";
import { classifyFrames } from "./processing/classify.ts";
import type { Classification } from "./processing/classify.ts";
import { defaultReportOptions } from "./processing/options.ts";
import type { ViewChange } from "./processing/process.ts";
import { DIFF_RENDERERS } from "./renderers/diff.ts";
import type { DiffOptions, DiffViews, SessionDiff } from "./renderers/diff.ts";
import { renderDiffHtml } from "./renderers/diff-html.ts";
import { attachDisplay, htmlDisplayBundle } from "./jupyter.ts";
import { accuracyOf } from "./renderers/accuracy.ts";
import { codePosition, frameName, isSynthetic } from "./renderers/common.ts";

export type { DiffOptions, DiffViews, SessionDiff } from "./renderers/diff.ts";

/** One frame's identity across runs: name, file and kind; the line too for anonymous functions, which have no other. */
function diffKey(f: FrameInfo): string {
  return f.name === "" || f.name === "(anonymous)" ? frameKey(f) : `${f.kind}\0${f.name}\0${f.file}`;
}

/** `session` on `frames` (ids by diffKey, appended when new), its stacks re-interned; times, samples, waits kept. */
function onSharedFrames(session: Session, frames: FrameInfo[], ids: Map<string, number>): Session {
  const frameMap = session.frames.map((f) => {
    const key = diffKey(f);
    let id = ids.get(key);
    if (id === undefined) {
      id = frames.push(f) - 1;
      ids.set(key, id);
    }
    return id;
  });
  const stacks = new StackInterner();
  const n = session.stacks.parent.length;
  const stackMap = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = session.stacks.parent[i];
    stackMap[i] = stacks.stack(p < 0 ? -1 : stackMap[p], frameMap[session.stacks.frame[i]]);
  }
  const remap = (s: Int32Array) => s.map((x) => (x < 0 ? -1 : stackMap[x]));
  return {
    ...session,
    meta: { ...session.meta, startStack: session.meta.startStack.map((f) => frameMap[f] ?? f) },
    frames,
    stacks: stacks.tables(),
    samples: { ...session.samples, stack: remap(session.samples.stack) },
    waits: session.waits && { ...session.waits, stack: remap(session.waits.stack) },
    threads: undefined,
  };
}

/**
 * NEW against BASE: each function's time in both runs, aligned by call path after the same processing (library
 * folding, --hide, the threshold: a node stays if it matters in either run). Worker threads are not compared.
 */
export function diffSessions(base: Session, next: Session, options: Partial<DiffOptions> = {}): SessionDiff {
  const opts: DiffOptions = { ...defaultReportOptions(), color: false, normalize: false, ...options };
  const frames: FrameInfo[] = [];
  const ids = new Map<string, number>();
  // NEW first: a function in both runs is shown at NEW's position.
  const n = onSharedFrames(next, frames, ids);
  const b = onSharedFrames(base, frames, ids);
  const classification = classifyFrames(frames, {
    cwd: next.meta.cwd,
    hide: opts.hide,
    hideRegex: opts.hideRegex,
    show: opts.show,
    showRegex: opts.showRegex,
    ownRoot: TSPROFILE_ROOT || undefined,
    program: next.meta.program,
  });
  const tree = align(b, n, classification, { ...opts, filterThreshold: opts.flat ? 0 : opts.filterThreshold });
  const diff: SessionDiff = { base: b, session: { ...n, frames }, tree, classification, options: opts };
  // In a notebook (Deno's Jupyter kernel) the diff shows as its HTML report.
  return attachDisplay(diff, () => {
    const [before, after] = [b, n].map((s) => `${s.meta.program} (${(s.meta.duration / 1e6).toFixed(3)} s)`);
    return htmlDisplayBundle(renderDiff(diff, "html"), `tsprofile diff: ${before} -> ${after}`);
  });
}

/** The core's diff of two sessions already on one frame table (diffSessions). */
function align(base: Session, next: Session, classification: Classification, o: DiffOptions): DiffTree {
  return diffSessionsInCore(base, next, {
    asyncMode: o.asyncMode,
    showAll: o.showAll,
    filterThreshold: o.filterThreshold,
    flatTime: o.flatTime,
    normalize: o.normalize,
    frameFlags: classification.flags,
    frameLibrary: classification.library,
  });
}

/** The other processings a diff's view may need (the HTML page's show-all toggle, BASE's own tree). */
function diffViews({ base, session, classification, options }: SessionDiff): DiffViews {
  const processBase = (change: ViewChange): ProcessedTree => {
    const o = { ...options, ...change };
    return processSession(base, {
      timeline: o.timeline,
      showAll: o.showAll,
      filterThreshold: o.filterThreshold,
      flatTime: o.flatTime,
      asyncMode: o.asyncMode,
      frameFlags: classification.flags,
      frameLibrary: classification.library,
    });
  };
  return {
    rediff: (change) => align(base, session, classification, { ...options, ...change }),
    processBase,
    entries: (run) =>
      sessionEntries(run, {
        showAll: true,
        asyncMode: options.asyncMode,
        frameFlags: classification.flags,
        frameLibrary: classification.library,
      }),
  };
}

/** Every report of a diff, by name (tsprofile diff -r): the renderers' own, and the HTML page with its views. */
const DIFF_REPORTS: Record<string, (d: SessionDiff) => string> = {
  ...DIFF_RENDERERS,
  html: (d) => renderDiffHtml(d, diffViews(d)),
};

/** The diff as a report: text (the tree or, with flat, the table), json or html. */
export function renderDiff(diff: SessionDiff, renderer: string = String(diff.options.renderer)): string {
  const render = Object.hasOwn(DIFF_REPORTS, renderer) ? DIFF_REPORTS[renderer] : undefined;
  if (!render) {
    throw new UsageError(`diff: no ${renderer} report (one of: ${Object.keys(DIFF_REPORTS).join(", ")})`);
  }
  return render(diff);
}

/** A function whose own time grew past a --fail-above limit. */
export interface Regression {
  function: string;
  position: string;
  /** Own time in each run, seconds (with normalize: shares of each run, 0-1). */
  base: number;
  next: number;
  /** Growth in percent; Infinity for a function BASE did not have. */
  growth: number;
}

/**
 * The functions whose own time grew by more than `percent`, biggest growth first. Sampling noise is not growth: a
 * function counts only when its own time is at least the report's threshold share of NEW (filterThreshold, 1% by
 * default) and the change is over 3 standard errors of the two estimates (a time estimated from n samples of
 * interval i has a standard error of sqrt(n) * i), so two runs of the same program do not fail a build. A
 * sampler's silence is given to the samples around it, or to idle where nothing says the thread ran (accuracy.ts,
 * guessed): a run's function may have gained or lost up to that much, so the change must be over that too. (On
 * Bun, JSC falls silent for tens of ms in optimized loops: two runs of one program differed by 110% there.)
 */
export function regressions(diff: SessionDiff, percent: number): Regression[] {
  const { tree, session, base, options } = diff;
  const totals = [tree.baseTime[0] ?? 0, tree.time[0] ?? 0];
  const intervals = [achievedInterval(base), achievedInterval(session)];
  const scale = (side: number, us: number) => options.normalize ? (totals[side] > 0 ? us / totals[side] : 0) : us;
  const lost = scale(0, accuracyOf(base).guessed) + scale(1, accuracyOf(session).guessed);
  const out: Regression[] = [];
  for (let i = 0; i < tree.flatFrame.length; i++) {
    const frame = tree.flatFrame[i];
    if (isSynthetic(frame)) continue;
    const [b, n] = [tree.flatBaseSelf[i], tree.flatSelf[i]];
    if (n < options.filterThreshold * totals[1] || n <= b) continue;
    const [sb, sn] = [scale(0, b), scale(1, n)];
    const growth = sb > 0 ? (sn / sb - 1) * 100 : Infinity;
    if (!(growth > percent)) continue;
    // Standard errors in the compared unit: sqrt(samples) * interval, scaled like the times.
    const se = Math.hypot(
      scale(0, Math.sqrt(b * intervals[0])),
      scale(1, Math.sqrt(n * intervals[1])),
    );
    if (sn - sb <= 3 * se + lost) continue;
    out.push({
      function: frameName(session, frame),
      position: codePosition(session, frame),
      base: options.normalize ? sb : sb / 1e6,
      next: options.normalize ? sn : sn / 1e6,
      growth,
    });
  }
  return out.sort((x, y) => y.growth - x.growth);
}

/** The achieved sampling interval, us (the requested one when there are no samples). */
function achievedInterval(s: Session): number {
  const n = s.samples.stack.length;
  return n > 0 ? Math.max(1, s.meta.duration / n) : Math.max(1, s.meta.interval);
}
