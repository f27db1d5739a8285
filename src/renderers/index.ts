// Every output format, by the name -r/--renderer and Profiler.output() take. A renderer reads the processed
// tree (and, for sample-based formats, the session itself); add a format by adding a module and a line here.
import type { Classification } from "../classify.ts";
import type { ReportOptions } from "../options.ts";
import type { ProcessedTree, Session } from "../types.ts";
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
};
