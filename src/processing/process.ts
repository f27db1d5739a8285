// From a session and the full report options to the processed tree: classify each unique frame once, then let
// the core (or, in tests, the TypeScript oracle) build and process the tree. Renderers get `reprocess`, built
// here from the same options, so a second view of the tree (the HTML page's show-all toggle) is processed
// exactly as the first, async mode included, with only what that view changes.
import { TSPROFILE_ROOT } from "../../session/root.ts";
import type { CoreProcessOptions, ProcessedTree, Session, SessionEntries } from "../../session/types.ts";
import { sessionEntries } from "../../wasm/core.ts";
import { classifyFrames } from "./classify.ts";
import type { Classification } from "./classify.ts";
import type { ReportOptions } from "./options.ts";

/** The core's entry point (wasm/core.ts processSession) or a stand-in with the same contract. */
export type ProcessFn = (
  session: Session,
  options: Omit<CoreProcessOptions, "duration" | "gapCap" | "idleSampled" | "runningGapToPrevious" | "startStack">,
) => ProcessedTree;

/** What a view may change when it processes the session again. */
export type ViewChange = Partial<Pick<ReportOptions, "timeline" | "showAll" | "filterThreshold">>;

export interface ProcessedReport {
  classification: Classification;
  /** The tree processed with the options given. */
  tree: ProcessedTree;
  /** The tree processed with the same options but `change`. */
  reprocess(change: ViewChange): ProcessedTree;
  /** The session's entries in time order (core-rs/SPEC.md, entries), by the wasm core, frames kept if showAll. */
  entries(showAll: boolean): SessionEntries;
}

export function processReport(process: ProcessFn, session: Session, options: ReportOptions): ProcessedReport {
  const classification = classifyFrames(session.frames, {
    cwd: session.meta.cwd,
    hide: options.hide,
    hideRegex: options.hideRegex,
    show: options.show,
    showRegex: options.showRegex,
    ownRoot: TSPROFILE_ROOT || undefined,
    program: session.meta.program,
  });
  const reprocess = (change: ViewChange): ProcessedTree => {
    const o = { ...options, ...change };
    return process(session, {
      timeline: o.timeline,
      showAll: o.showAll,
      filterThreshold: o.filterThreshold,
      flatTime: o.flatTime,
      asyncMode: o.asyncMode,
      frameFlags: classification.flags,
      frameLibrary: classification.library,
    });
  };
  const entries = (showAll: boolean): SessionEntries =>
    sessionEntries(session, {
      showAll,
      asyncMode: options.asyncMode,
      frameFlags: classification.flags,
      frameLibrary: classification.library,
    });
  return { classification, tree: reprocess({}), reprocess, entries };
}
