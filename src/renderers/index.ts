// Every output format, by the name -r/--renderer and Profiler.output() take. A renderer reads the processed
// tree (and, for sample-based formats, the session itself); add a format by adding a module and a line here.
import type { Classification } from "../classify.ts";
import type { ReportOptions } from "../options.ts";
import type { ProcessedTree, Session } from "../types.ts";
import { encodeSession } from "../session.ts";
import { renderCollapsed, renderCpuProfile, renderPprof, renderSpeedscope } from "./formats.ts";
import { processSession } from "../../wasm/core.ts";
import { renderHtml } from "./html.ts";
import { renderJson } from "./json.ts";
import { renderText } from "./text.ts";

export interface RenderContext {
  session: Session;
  tree: ProcessedTree;
  classification: Classification;
  options: ReportOptions;
}

/** Text formats return a string; binary ones (e.g. gzipped pprof) a Uint8Array. */
export type Renderer = (context: RenderContext) => string | Uint8Array;

export const RENDERERS: Record<string, Renderer> = {
  text: ({ session, tree, classification, options }) => renderText(session, tree, classification, options),
  json: ({ session, tree, classification }) => renderJson(session, tree, classification),
  html: (context) => renderHtml(context, processSession),
  // The sample formats write the samples (internals and hidden frames removed unless show_all), not the tree.
  speedscope: ({ session, classification, options }) => renderSpeedscope({ session, classification, showAll: options.showAll }),
  cpuprofile: ({ session, classification, options }) => renderCpuProfile({ session, classification, showAll: options.showAll }),
  collapsed: ({ session, classification, options }) => renderCollapsed({ session, classification, showAll: options.showAll }),
  pprof: ({ session, classification, options }) => renderPprof({ session, classification, showAll: options.showAll }),
  // The session itself (-o run.tsprof): loads back with --load for any other view.
  tsprof: ({ session }) => encodeSession(session),
};
