// The one function front ends call to turn a Session into a report: classify each unique frame, let the core
// build and process the tree, render it.
import { classifyFrames } from "./classify.ts";
import { defaultReportOptions } from "./options.ts";
import type { ReportOptions } from "./options.ts";
import { renderJson } from "./renderers/json.ts";
import { renderText } from "./renderers/text.ts";
import type { CoreProcessOptions, ProcessedTree, Session } from "./types.ts";
import { processSession } from "../wasm/core.ts";
import { TSPROFILE_ROOT } from "../runtimes/root.ts";

export { applyRenderOption, defaultReportOptions, detectColor, detectUnicode } from "./options.ts";
export type { ReportOptions } from "./options.ts";

export type ProcessFn = (
  session: Session,
  options: Omit<CoreProcessOptions, "duration" | "gapCap" | "startStack">,
) => ProcessedTree;

/** renderSession with the core of your choice (tests pass the TypeScript oracle). */
export function renderSessionWith(process: ProcessFn, session: Session, options: Partial<ReportOptions> = {}): string {
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
    frameFlags: classification.flags,
    frameLibrary: classification.library,
  });
  if (opts.renderer === "json") return renderJson(session, tree, classification);
  return renderText(session, tree, classification, opts);
}

/** The report for a session. Options not given take their defaults, with colour off (pass color to force it). */
export function renderSession(session: Session, options: Partial<ReportOptions> = {}): string {
  return renderSessionWith(processSession, session, options);
}
