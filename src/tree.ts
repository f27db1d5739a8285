// The processed tree in code, as pyinstrument's session.root_frame(): plain objects (src/processing/frame-node.ts),
// times in seconds, after the core's processing and then the processors written in JavaScript.
import type { Session } from "../session/types.ts";
import { processSession } from "../wasm/core.ts";
import type { FrameNode } from "./processing/frame-node.ts";
import { runProcessors, toFrameTree } from "./processing/frame-tree.ts";
import { defaultReportOptions } from "./processing/options.ts";
import type { ReportOptions } from "./processing/options.ts";
import { processReport } from "./processing/process.ts";

export type { FrameGroup, FrameNode } from "./processing/frame-node.ts";

/**
 * The session's call tree, processed as renderSession would with the same options (hide/show, showAll,
 * asyncMode, filterThreshold, timeline, processors): the synthetic "[root]" node, its children the top-level
 * calls. Null when the session has no samples. Worker threads (session.threads) are sessions of their own:
 * rootFrame(session.threads[i]).
 */
export function rootFrame(session: Session, options: Partial<ReportOptions> = {}): FrameNode | null {
  const opts: ReportOptions = { ...defaultReportOptions(), color: false, ...options };
  opts.processors ??= [];
  const { tree, classification } = processReport(processSession, session, opts);
  const root = toFrameTree(session, tree, classification);
  return root === null ? null : runProcessors(root, opts.processors, opts);
}
