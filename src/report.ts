// The one function front ends call to turn a Session into a report: process it (src/processing/process.ts) with
// the wasm core, render it.
import { UsageError } from "../session/errors.ts";
import type { Session } from "../session/types.ts";
import { processSession } from "../wasm/core.ts";
import { defaultReportOptions } from "./processing/options.ts";
import type { ReportOptions } from "./processing/options.ts";
import { processReport } from "./processing/process.ts";
import type { ProcessFn } from "./processing/process.ts";
import { RENDERERS } from "./renderers/index.ts";

export { applyRenderOption, defaultReportOptions, detectColor, detectUnicode } from "./processing/options.ts";
export type { ReportOptions } from "./processing/options.ts";
export type { ProcessFn } from "./processing/process.ts";

/** renderSession with the core of your choice (tests pass the TypeScript oracle); binary formats give bytes. */
export function renderSessionWith(
  process: ProcessFn,
  session: Session,
  options: Partial<ReportOptions> = {},
): string | Uint8Array {
  const opts: ReportOptions = { ...defaultReportOptions(), color: false, ...options };
  const renderer = RENDERERS[opts.renderer];
  if (!renderer) {
    throw new UsageError(`unknown renderer "${opts.renderer}" (one of: ${Object.keys(RENDERERS).join(", ")})`);
  }
  const { tree, classification, reprocess } = processReport(process, session, opts);
  // Each worker thread is processed on its own: its own frames, clock and tree (Session.threads).
  const threads = (session.threads ?? []).map((thread) => ({
    session: thread,
    ...processReport(process, thread, opts),
    options: opts,
    threads: [],
  }));
  return renderer({ session, tree, classification, options: opts, reprocess, threads });
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
