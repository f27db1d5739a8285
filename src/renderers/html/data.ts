// The JSON the HTML renderer embeds in the page and the page reads: shared by src/renderers/html.ts (writer) and
// page.ts (reader, in the browser). Frame ids at and above SYNTHETIC_BASE are the core's synthetic frames.

/** One processed tree (src/types.ts ProcessedTree), as plain arrays, times in integer microseconds. */
export interface TreeData {
  frame: number[];
  parent: number[];
  time: number[];
  self: number[];
  await: number[];
  group: number[];
  flags: number[];
  /** Per group: how many of its frames are hidden, and its library ids (indexes into PageData.libraries). */
  groupHidden: number[];
  groupLibs: number[][];
}

/**
 * The per-sample stream for the timeline, compact: a prefix tree of the distinct frame paths (canonical stacks),
 * a table of distinct (stack, state) keys, and the entries (SPEC.md step 1, gaps included) run-length encoded.
 */
export interface TimelineData {
  /** Canonical stacks: stack i is frame[i] called from stack parent[i] (-1: from the root); parent[i] < i. */
  parent: number[];
  frame: number[];
  /** Key k: (stack + 1) * 8 + state; stack -1 with state idle is an idle gap. Most used first. */
  keys: number[];
  /**
   * Runs, in time order, each two unsigned numbers: the key's index in keys, and zigzag(duration - interval).
   * Numbers are written little-endian in 5-bit digits: RUN_ALPHABET[32 + digit] continues, RUN_ALPHABET[digit] ends.
   */
  runs: string;
  /** Number of runs. */
  count: number;
  /** meta.interval, us: durations are stored relative to it. */
  interval: number;
}

export const RUN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

export interface PageData {
  version: string;
  meta: {
    program: string;
    runtime: string;
    /** Epoch ms. */
    startTime: number;
    /** us. */
    duration: number;
    /** us, -1 unknown. */
    cpuTime: number;
    /** us. */
    interval: number;
    samples: number;
  };
  /** Per real frame: display name, short "path:line", FrameFlag bits, library id or -1. */
  names: string[];
  positions: string[];
  flags: number[];
  library: number[];
  libraries: string[];
  /** The report options the page starts with. */
  showAll: boolean;
  percent: boolean;
  /** The default processing (library groups, threshold) and the show-all one. */
  trees: { normal: TreeData; all: TreeData };
  timeline: TimelineData;
  /** meta.startStack (frame ids), for trimming the stem above profiler.start() in the timeline. */
  startStack: number[];
}
