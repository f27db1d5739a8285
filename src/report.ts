// The one function front ends call to turn a Session into a report: process it (src/processing/process.ts) with
// the wasm core, run the processors written in JavaScript over the plain tree (src/processing/frame-tree.ts),
// render it.
import { UsageError } from "../session/errors.ts";
import type { Session } from "../session/types.ts";
import { processSession } from "../wasm/core.ts";
import type { FrameNode } from "./processing/frame-node.ts";
import { FrameTable, fromFrameTree, runProcessors, thrownMessage, toFrameTree } from "./processing/frame-tree.ts";
import { defaultReportOptions } from "./processing/options.ts";
import type { ReportOptions, TreeRenderer } from "./processing/options.ts";
import { processReport } from "./processing/process.ts";
import type { ProcessedReport, ProcessFn } from "./processing/process.ts";
import { RENDERERS } from "./renderers/index.ts";
import { TREE_RENDERERS } from "./renderers/names.ts";

export { applyRenderOption, defaultReportOptions, detectColor, detectUnicode } from "./processing/options.ts";
export type { Processor, ReportOptions, TreeRenderer } from "./processing/options.ts";
export type { ProcessFn } from "./processing/process.ts";

/** A session processed for a report: with processors, every tree is theirs, on a session whose frames grew. */
interface Prepared extends ProcessedReport {
  session: Session;
}

/** The session processed by the core, then (for the tree formats) by the processors, on every tree asked for. */
function prepare(process: ProcessFn, session: Session, opts: ReportOptions, processors: boolean): Prepared {
  const report = processReport(process, session, opts);
  if (!processors || opts.processors.length === 0) return { session, ...report };
  // New and renamed functions become frames of a copy of the session, shared by the report's trees.
  const table = new FrameTable(session, report.classification);
  const apply = (tree: typeof report.tree, o: ReportOptions) => {
    const root = toFrameTree(session, tree, report.classification);
    if (root === null) return tree;
    return fromFrameTree(runProcessors(root, o.processors, o), table, o, tree.cpuTime !== undefined);
  };
  return {
    session: table.session,
    classification: table.classification,
    tree: apply(report.tree, opts),
    reprocess: (change) => apply(report.reprocess(change), { ...opts, ...change }),
    entries: report.entries, // the timeline and the sample formats draw the session, not the processors' tree
  };
}

/** The label of a renderer function in messages: its name (the CLI names a module's by its path). */
function rendererLabel(renderer: TreeRenderer): string {
  // `{ renderer: () => ... }` names the function "renderer": no name worth saying.
  return renderer.name && renderer.name !== "renderer" ? `renderer ${renderer.name}` : "the renderer function";
}

/** A renderer function over the plain tree: its output checked, a throw said in one line. */
function renderWith(
  renderer: TreeRenderer,
  process: ProcessFn,
  session: Session,
  opts: ReportOptions,
): string | Uint8Array {
  const { tree, classification } = processReport(process, session, opts);
  const plain = toFrameTree(session, tree, classification);
  const root: FrameNode | null = plain === null ? null : runProcessors(plain, opts.processors, opts);
  let out: unknown;
  try {
    out = renderer(root, opts, session);
  } catch (err) {
    throw new UsageError(`${rendererLabel(renderer)} threw ${thrownMessage(err)}`);
  }
  if (typeof out !== "string" && !(out instanceof Uint8Array)) {
    const what = out === null ? "null" : typeof out === "object" ? "an object" : `a ${typeof out}`;
    throw new UsageError(`${rendererLabel(renderer)} returned ${what}, not a string or a Uint8Array`);
  }
  return out;
}

/** renderSessionWith with the core of your choice (tests pass the TypeScript oracle); binary formats give bytes. */
export function renderSessionWith(
  process: ProcessFn,
  session: Session,
  options: Partial<ReportOptions> = {},
): string | Uint8Array {
  const opts: ReportOptions = { ...defaultReportOptions(), color: false, ...options };
  opts.processors ??= [];
  if (!Array.isArray(opts.processors)) throw new UsageError("processors: an array of functions");
  if (typeof opts.renderer === "function") return renderWith(opts.renderer, process, session, opts);
  const renderer = RENDERERS[opts.renderer];
  if (!renderer) {
    throw new UsageError(`unknown renderer "${opts.renderer}" (one of: ${Object.keys(RENDERERS).join(", ")})`);
  }
  // The sample formats read samples, not the tree: processors do not apply to them.
  const tree = TREE_RENDERERS.has(opts.renderer);
  const main = prepare(process, session, opts, tree);
  // Each worker thread is processed on its own: its own frames, clock and tree (Session.threads).
  const threads = (session.threads ?? []).map((thread) => ({
    ...prepare(process, thread, opts, tree),
    options: opts,
    threads: [],
  }));
  return renderer({ ...main, options: opts, threads });
}

/** The report for a session, in a text format. Options not given take their defaults, with colour off. */
export function renderSession(session: Session, options: Partial<ReportOptions> = {}): string {
  const out = renderSessionWith(processSession, session, options);
  if (typeof out !== "string") {
    const name = typeof options.renderer === "function" ? "renderer's output" : `${options.renderer} format`;
    throw new UsageError(`the ${name} is binary: write it to a file`);
  }
  return out;
}

/** The report for a session in any format, text or binary. */
export function renderSessionOutput(session: Session, options: Partial<ReportOptions> = {}): string | Uint8Array {
  return renderSessionWith(processSession, session, options);
}
