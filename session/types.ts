// Shared shapes of the pipeline: sampler -> Session -> core -> renderers.
// The core's exact semantics are specified in core-rs/SPEC.md; this file holds the TypeScript side of them.

/** What the runtime was doing when a sample was taken. */
export const SampleState = {
  js: 0,
  idle: 1,
  gc: 2,
  native: 3,
  await: 4,
  outOfContext: 5,
} as const;
export type SampleStateValue = (typeof SampleState)[keyof typeof SampleState];

/** Where a frame comes from, as far as the sampler knows. Classification (library, internal) happens later. */
export type FrameKind = "js" | "native" | "runtime";

/** One unique frame. line and col are 1-based; 0 means unknown. */
export interface FrameInfo {
  name: string;
  /** A path (absolute or as the runtime reports it: node:fs, ext:core/..., ...), or "" when there is none. */
  file: string;
  line: number;
  col: number;
  kind: FrameKind;
}

/** The shortest sampling interval, in microseconds (the samplers' unit, SessionMeta.interval's). */
export const MIN_INTERVAL_US = 100;
/** The shortest sampling interval, in seconds (the unit of the API's and the CLI's interval options). */
export const MIN_INTERVAL = MIN_INTERVAL_US / 1e6;

/** SessionMeta.sampler. */
export type SamplerName = "addon" | "inspector" | "jsc";
export const SAMPLER_NAMES: readonly SamplerName[] = ["addon", "inspector", "jsc"];

export interface SessionMeta {
  /** Wall clock at start, epoch milliseconds (for "Recorded:"). */
  startTime: number;
  /** Microseconds from start to stop on the session's monotonic clock; every sample time is within it. */
  duration: number;
  /** Process CPU time (user + system) during the session, microseconds; -1 when unknown. */
  cpuTime: number;
  /** Requested sampling interval, microseconds. */
  interval: number;
  /** The longest gap (us) credited to the sample before it; the rest of a longer gap is idle (SPEC.md, weights). */
  gapCap: number;
  /**
   * The sampler records idle explicitly, as samples in state idle (V8's "(idle)": Node, Deno; on Bun, placed where
   * the kernel says the thread waited in the event loop), so a gap between two running samples is a starved
   * sampler, and the core credits it as running time (core-rs/SPEC.md §1, running gap). False where idle is a gap
   * (Bun where /proc cannot say), and in files written before the flag existed.
   */
  idleSampled: boolean;
  /** Who a running gap goes to (SPEC.md §1): absent, the next sample's late part; "previous", the sample before it
   * (Bun: JSC's silences are the code sampled before them running on). */
  runningGap?: "previous";
  /** The command line that was profiled, for the header. */
  program: string;
  /** Working directory of the profiled program (short paths are relative to it). */
  cwd: string;
  /** e.g. "node 20.20.2". */
  runtime: string;
  /**
   * What recorded it (runtimes/index.ts): "addon" tsprofile's native sampler over V8's CPU profiler (Node),
   * "inspector" V8's through node:inspector (Node without the addon, Deno), "jsc" bun:jsc's sampling profiler.
   * Absent in a loaded .cpuprofile and in files written before the field existed.
   */
  sampler?: SamplerName;
  /** Frame ids (root -> leaf) of the stack that called start(); empty when unknown (SPEC.md, trim stem). */
  startStack: number[];
  /** Set on a worker thread's session (Session.threads); absent on the main thread's. */
  thread?: ThreadInfo;
}

/** Which worker thread a session records (runtimes/workers). */
export interface ThreadInfo {
  /** The runtime's thread id (Node's threadId; on Deno and Bun a number tsprofile gives each Web Worker). */
  id: number;
  /** What the report calls it: "worker <id>" and the worker's entry file. */
  name: string;
}

/** Stacks are a prefix tree: stack i is frame[i] called from stack parent[i] (-1 = called from the root). */
export interface StackTable {
  parent: Int32Array;
  frame: Uint32Array;
}

/** Samples in time order. stack -1 = empty stack. time: integer microseconds since the session start. */
export interface SampleTable {
  stack: Int32Array;
  time: Float64Array;
  state: Uint8Array;
  /**
   * CPU time of the sampled thread (the JS thread) from the session start to each sample, integer us,
   * non-decreasing like `time`: the CPU time of sample i's span is cpu[i + 1] - cpu[i], as its wall time is
   * time[i + 1] - time[i]. Only the native Node sampler records it (read between samples and interpolated, so
   * exact to about one reading interval, runtimes/node/addon); absent elsewhere.
   */
  cpu?: Float64Array;
}

/**
 * Asynchronous operations the program waited on (await attribution, core-rs/SPEC.md): started at
 * start, completed (back in JavaScript) at end, both us on the session clock; requested by the logical stack
 * `stack` (-1 unknown). In order of start.
 */
export interface WaitTable {
  start: Float64Array;
  end: Float64Array;
  stack: Int32Array;
}

export interface Session {
  version: 1;
  meta: SessionMeta;
  frames: FrameInfo[];
  stacks: StackTable;
  samples: SampleTable;
  /** Absent when the sampler tracked no waits (async_mode disabled, or not supported). */
  waits?: WaitTable;
  /**
   * The worker threads the program started, each its own session on its own clock (meta.thread set, no threads
   * of its own), in the order they ended. Only on the main thread's session; absent when there were none.
   */
  threads?: Session[];
}

/**
 * What a streaming sampler recorded since its previous drain (Sampler.drain), on the session clock. Frame and
 * stack ids are session-wide: each chunk's frames and stacks continue the ids of the chunks before it (the
 * first new frame of a chunk has the id "frames in all earlier chunks"), and a stack's parent or a sample's
 * stack may name a stack of an earlier chunk. Samples are in time order and come after every earlier chunk's.
 * Concatenating the chunks' tables (and the rest stop() returns, see Sampler) gives the whole session.
 */
export interface SessionChunk {
  /** Frames first seen since the previous drain. */
  frames: FrameInfo[];
  /** Stacks first seen since the previous drain. */
  stacks: StackTable;
  /** Samples taken since the previous drain. */
  samples: SampleTable;
  /** Waits completed and resolved since the previous drain, if the sampler resolves them per drain. */
  waits?: WaitTable;
  /**
   * Session time (us) the chunk is complete up to: no later chunk holds a sample before it. A file cut off
   * after this chunk has a duration of at least this.
   */
  end: number;
}

// ---- Core input / output (see core-rs/SPEC.md) ----

/** Per-frame flags, computed once per unique frame in TypeScript (src/processing/classify.ts). */
export const FrameFlag = {
  /** Runtime internals (node:internal/*, ext:core/*, ...): removed unless showAll. */
  internal: 1,
  /** Marked hidden (tsprofile's own frames, the CLI launcher): removed unless showAll. */
  hidden: 2,
  /** Library code after --hide/--show overrides: grouped into "[N frames hidden]" unless showAll. */
  library: 4,
  /** A builtin: a function with no source file (a native one) or of a runtime module (node:net, node:events ...):
   * when no frame of the program calls it, the runtime's own work (await attribution, core-rs/SPEC.md); shown as
   * any other frame. */
  builtin: 8,
} as const;

/** Frame ids at and above this value are synthetic frames made by the core; they never appear in a StackTable. */
export const SYNTHETIC_BASE = 0xffffff00;
export const SyntheticFrame = {
  root: 0xffffff00,
  self: 0xffffff01,
  idle: 0xffffff02,
  gc: 0xffffff03,
  native: 0xffffff04,
  await: 0xffffff05,
  outOfContext: 0xffffff06,
} as const;
export const SYNTHETIC_NAMES: Record<number, string> = {
  [SyntheticFrame.root]: "[root]",
  [SyntheticFrame.self]: "[self]",
  [SyntheticFrame.idle]: "[idle]",
  [SyntheticFrame.gc]: "[gc]",
  [SyntheticFrame.native]: "[native]",
  [SyntheticFrame.await]: "[await]",
  [SyntheticFrame.outOfContext]: "[out-of-context]",
};
/** No library name for this frame. */
export const NO_LIBRARY = 0xffffffff;

export type AsyncMode = "enabled" | "strict" | "disabled";

export interface CoreProcessOptions {
  /** Session end, us (meta.duration). */
  duration: number;
  /** meta.interval, us (the gap rule's trust in pending waits). */
  interval?: number;
  /** How waits are charged (SPEC.md, await attribution); default "enabled". */
  asyncMode?: AsyncMode;
  /** meta.gapCap, us. */
  gapCap: number;
  /** meta.idleSampled: a gap between two running samples is running time (SPEC.md §1); default false. */
  idleSampled?: boolean;
  /** meta.runningGap "previous": a running gap is wholly the sample's before it (SPEC.md §1). */
  runningGapToPrevious?: boolean;
  /** Chronological tree instead of aggregated. */
  timeline: boolean;
  /** Keep internal and hidden frames; no grouping; no filter threshold. */
  showAll: boolean;
  /** Nodes (and flat rows) under this fraction of the total are dropped. Default 0.01. */
  filterThreshold: number;
  /** Which time orders the flat view. */
  flatTime: "self" | "total";
  /** meta.startStack. */
  startStack: ArrayLike<number>;
  /** Per frame: FrameFlag bits. Its length is the frame count. */
  frameFlags: Uint8Array;
  /** Per frame: index into the library-name table, or NO_LIBRARY. */
  frameLibrary: Uint32Array;
}

/**
 * The session's entries in time order (core-rs/SPEC.md, entries): SPEC §1-3's weighted paths, consecutive equal ones
 * merged, what a sample format writes and the HTML timeline draws. Paths are a prefix tree (node 0 the empty path).
 */
export interface SessionEntries {
  pathParent: Uint32Array;
  /** A real frame id or a SyntheticFrame (a state at the end of a path: idle, gc, native, await, outOfContext). */
  pathFrame: Uint32Array;
  /** Per entry: its path node; weight in us. */
  entryPath: Uint32Array;
  entryWeight: Float64Array;
}

/** What the core's diff takes besides the two sessions' processing options (core-rs/SPEC.md, diff). */
export interface CoreDiffOptions {
  showAll: boolean;
  /** Nodes and flat rows under this fraction of its run's total on both sides are dropped. */
  filterThreshold: number;
  /** Which time the flat rows compare. */
  flatTime: "self" | "total";
  /** Flat rows ordered by the change of their share of each run rather than of their time. */
  normalize: boolean;
}

/** DiffTree.side bits: which runs have the node. */
export const DiffSide = { base: 1, new: 2 } as const;

/**
 * Two runs' trees aligned by frame path (core-rs/SPEC.md, diff): the NEW run's columns under ProcessedTree's names,
 * the BASE run's beside them (0 where it lacks the node), groups and visibility from NEW's times.
 */
export interface DiffTree extends Omit<ProcessedTree, "cpuTime"> {
  baseTime: Float64Array;
  baseSelfTime: Float64Array;
  baseAwaitTime: Float64Array;
  /** DiffSide bits. */
  side: Uint8Array;
  /** Flat rows (flatFrame, flatSelf, flatTotal are NEW's), ordered by the size of the change. */
  flatBaseSelf: Float64Array;
  flatBaseTotal: Float64Array;
}

/** Node flag bits in ProcessedTree.flags. */
export const NodeFlag = {
  /** Renderers show this node (not hidden inside a library group). */
  visible: 1,
  /** This node is the root of its group: print "[N frames hidden] libs" under it when N > 0. */
  groupRoot: 2,
} as const;

/** The processed tree, nodes in pre-order (children in display order); node 0 is the root (SyntheticFrame.root). */
export interface ProcessedTree {
  frame: Uint32Array;
  parent: Int32Array;
  depth: Uint32Array;
  /** Inclusive time, us. */
  time: Float64Array;
  /** Self time folded into this node (synthetic leaves, a removed lone [self] child), us. */
  selfTime: Float64Array;
  /** Inclusive time of await samples under this node, us. */
  awaitTime: Float64Array;
  /**
   * Inclusive CPU time of the sampled thread, us (SampleTable.cpu; core-rs/SPEC.md, CPU time). Absent when the
   * session has no CPU column: renderers then show nothing rather than zeros.
   */
  cpuTime?: Float64Array;
  /** Group id or -1. */
  group: Int32Array;
  flags: Uint8Array;
  /** Per group: its root node, how many of its real frames are not visible, its library ids (CSR). */
  groupRoot: Uint32Array;
  groupHidden: Uint32Array;
  groupLibOffsets: Uint32Array;
  groupLibs: Uint32Array;
  /** Flat view, ordered by options.flatTime descending. */
  flatFrame: Uint32Array;
  flatSelf: Float64Array;
  flatTotal: Float64Array;
}
