// The one function front ends call to turn a Session into a report: classify each unique frame, let the core
// build and process the tree, render it.
import { classifyFrames } from "./classify.ts";
import { UsageError } from "./errors.ts";
import { defaultReportOptions } from "./options.ts";
import type { ReportOptions } from "./options.ts";
import { RENDERERS } from "./renderers/index.ts";
import type { CoreProcessOptions, ProcessedTree, Session } from "./types.ts";
import { processSession } from "../wasm/core.ts";
import { TSPROFILE_ROOT } from "../runtimes/root.ts";

export { applyRenderOption, defaultReportOptions, detectColor, detectUnicode } from "./options.ts";
export type { ReportOptions } from "./options.ts";

export type ProcessFn = (
  session: Session,
  options: Omit<CoreProcessOptions, "duration" | "gapCap" | "startStack">,
) => ProcessedTree;

/** renderSession with the core of your choice (tests pass the TypeScript oracle); binary formats give bytes. */
export function renderSessionWith(process: ProcessFn, session: Session, options: Partial<ReportOptions> = {}): string | Uint8Array {
  const opts: ReportOptions = { ...defaultReportOptions(), color: false, ...options };
  const classification = classifyFrames(session.frames, {
    cwd: session.meta.cwd,
    hide: opts.hide,
    hideRegex: opts.hideRegex,
    show: opts.show,
    showRegex: opts.showRegex,
    ownRoot: TSPROFILE_ROOT || undefined,
  });
  const tree = process(session, {
    timeline: opts.timeline,
    showAll: opts.showAll,
    filterThreshold: opts.filterThreshold,
    flatTime: opts.flatTime,
    asyncMode: opts.asyncMode,
    frameFlags: classification.flags,
    frameLibrary: classification.library,
  });
  const renderer = RENDERERS[opts.renderer];
  if (!renderer) throw new UsageError(`unknown renderer "${opts.renderer}" (one of: ${Object.keys(RENDERERS).join(", ")})`);
  return renderer({ session, tree, classification, options: opts });
}

/** The report for a session, in a text format. Options not given take their defaults, with colour off. */
export function renderSession(session: Session, options: Partial<ReportOptions> = {}): string {
  const out = renderSessionWith(processSession, session, options);
  if (typeof out !== "string") throw new UsageError(`the ${options.renderer} format is binary: write it to a file`);
  return out;
}

/** The report for a session in any format, text or binary. */
export function renderSessionOutput(session: Session, options: Partial<ReportOptions> = {}): string | Uint8Array {
  return renderSessionWith(processSession, session, options);
}
