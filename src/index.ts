// The package's public API: the Profiler, sessions (save/load), rendering, and the shared types.
export { profile, Profiler } from "./profiler.ts";
export type { OutputStream, Profiled, ProfilerOptions } from "./profiler.ts";
export { combineSessions, encodeSession, isSessionFile, saveSession, SessionError } from "../session/session.ts";
// Their sessions display in a notebook (Deno's Jupyter kernel) as the HTML report.
export { decodeSession, displayable, loadSession, Session } from "./display.ts";
export { attachDisplay, htmlDisplayBundle, JUPYTER_DISPLAY } from "./jupyter.ts";
export type { DisplayBundle } from "./jupyter.ts";
export { rootFrame } from "./tree.ts";
export type { FrameGroup, FrameNode } from "./tree.ts";
export type { EncodeOptions } from "../session/session.ts";
export { applyRenderOption, defaultReportOptions, renderSession } from "./report.ts";
export type { Processor, ReportOptions, TreeRenderer } from "./report.ts";
export { diffSessions, regressions, renderDiff } from "./diff.ts";
export type { DiffOptions, Regression, SessionDiff } from "./diff.ts";
export { UsageError } from "../session/errors.ts";
export { VERSION } from "../session/version.ts";
export { DiffSide, FrameFlag, NodeFlag, SampleState, SyntheticFrame } from "../session/types.ts";
export type {
  DiffTree,
  FrameInfo,
  FrameKind,
  ProcessedTree,
  SampleTable,
  SessionMeta,
  StackTable,
} from "../session/types.ts";
