// The processed tree as plain objects: what rootFrame() returns, what processors written in JavaScript change and
// what a renderer module reads (pyinstrument's session.root_frame()). Times are in seconds, pyinstrument's unit
// and the unit of the Profiler's interval; the core's ProcessedTree (session/types.ts) is in microseconds.

/** A library group: frames folded into one "[N frames hidden]  libs" line under the group's first node. */
export interface FrameGroup {
  /** The group's number; every node of the group has a group with this id (the same object, as given). */
  id: number;
  /** How many of the group's frames are not visible (the N of "[N frames hidden]"). */
  hiddenFrames: number;
  /** The library names of the group's frames, in order of first appearance. */
  libraries: string[];
}

/** One node of the call tree. */
export interface FrameNode {
  /** The function's name: "(anonymous)" when it has none; synthetic nodes are "[root]", "[self]", "[await]",
   * "[idle]", "[gc]", "[native]", "[out-of-context]", and "[runtime internals]" (a [self] under the root). */
  function: string;
  /** Its file as the runtime gave it (absolute path, node:..., a URL), or "" (synthetic and native frames). */
  file: string;
  /** 1-based line of the function, 0 when unknown. */
  line: number;
  /** Inclusive wall-clock time, seconds. */
  time: number;
  /** Time folded into this node itself (a synthetic leaf's, a removed lone [self] child's), seconds. */
  selfTime: number;
  /** Inclusive time spent awaiting under this node, seconds. */
  awaitTime: number;
  /** Inclusive CPU time of the sampled thread, seconds; null when the session recorded none. */
  cpuTime: number | null;
  /** The library (package name, "node", "native"...) the frame belongs to, or null for application code. */
  library: string | null;
  /** Application code: a real frame that is not a runtime internal, tsprofile's own or library code. */
  isApplication: boolean;
  /** The library group the node is in, or null. */
  group: FrameGroup | null;
  /** The text and HTML reports show this node; an invisible node's children take its place. */
  visible: boolean;
  /** Callees, in display order (the most time first, or chronological in a timeline). */
  children: FrameNode[];
}
