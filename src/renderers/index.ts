// Every output format, by the name -r/--renderer and Profiler.output() take. A renderer is a pure function of
// the processed tree (and, for sample-based formats, the session itself), with `reprocess` for a view that
// needs the tree processed otherwise; add a format by adding a module and a line here.
import type { Classification } from "../processing/classify.ts";
import type { ReportOptions } from "../processing/options.ts";
import type { ViewChange } from "../processing/process.ts";
import type { ProcessedTree, Session, SessionEntries } from "../../session/types.ts";
import { encodeSession } from "../../session/session.ts";
import { renderCollapsed, renderCpuProfile, renderPprof, renderSpeedscope } from "./formats.ts";
import type { FormatContext } from "./formats.ts";
import { renderHtml } from "./html.ts";
import { renderJson } from "./json.ts";
import { renderText, renderThreadsText } from "./text.ts";

export interface RenderContext {
  session: Session;
  tree: ProcessedTree;
  classification: Classification;
  options: ReportOptions;
  /** The same session processed with the same options but `change` (src/processing/process.ts). */
  reprocess(change: ViewChange): ProcessedTree;
  /** The session's entries in time order with the same options, frames removed unless showAll (process.ts). */
  entries(showAll: boolean): SessionEntries;
  /** The session's worker threads (Session.threads), each processed on its own; absent or empty without any. */
  threads?: RenderContext[];
}

/** What a sample format reads of a thread: its session and its entries in time order (samples.ts). */
function sampleFormat({ session, entries, options }: RenderContext): FormatContext {
  return { session, entries: entries(options.showAll) };
}

/** Text formats return a string; binary ones (e.g. gzipped pprof) a Uint8Array. */
export type Renderer = (context: RenderContext) => string | Uint8Array;

export const RENDERERS: Record<string, Renderer> = {
  // One section per thread, main first (text.ts, renderThreadsText). The flat view lists the top flatLimit
  // functions, whatever the threshold (a tool's profile spreads its time over many small ones).
  text: ({ session, tree, classification, options, reprocess, threads }) => {
    const view = (c: Pick<RenderContext, "tree" | "reprocess">) =>
      options.flat ? c.reprocess({ filterThreshold: 0 }) : c.tree;
    return threads?.length
      ? renderThreadsText(
        { session, tree: view({ tree, reprocess }), classification },
        threads.map((t) => ({ ...t, tree: view(t) })),
        options,
      )
      : renderText(session, view({ tree, reprocess }), classification, options);
  },
  json: ({ session, tree, classification, threads }) => renderJson(session, tree, classification, {}, threads),
  html: (context) => renderHtml(context),
  // The sample formats write the session's entries in time order (samples.ts): no grouping, no threshold.
  speedscope: (c) => renderSpeedscope(sampleFormat(c), c.threads?.map(sampleFormat)),
  cpuprofile: (c) => renderCpuProfile(sampleFormat(c)),
  collapsed: (c) => renderCollapsed(sampleFormat(c), c.threads?.map(sampleFormat)),
  pprof: (c) => renderPprof(sampleFormat(c), c.threads?.map(sampleFormat)),
  // The session itself (-o run.tsprof): loads back with --load for any other view.
  tsprof: ({ session }) => encodeSession(session),
};
