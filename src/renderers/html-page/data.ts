// The JSON the HTML renderer embeds in the page and the page reads: shared by src/renderers/html.ts (writer) and
// the page (reader, in the browser: tree.ts, timeline-decode.ts). Frame ids at and above SYNTHETIC_BASE are the
// core's synthetic frames. How each number is stored is written once here, both ways (packFrame and unpackFrame,
// timelineKey, keyStack and keyState, packDuration and unpackDuration), for the writer and the reader alike.
import { SYNTHETIC_BASE } from "../../../session/types.ts";

/**
 * One processed tree (session/types.ts ProcessedTree), n nodes, each array packed (packInts) as unsigned integers:
 * packFrame(frame) (frame + 256 mod 2^32, so the synthetic frames are 0..255), node - parent (the root: 1), times
 * in integer microseconds, group + 1, flags.
 */
export interface TreeData {
  n: number;
  frame: string;
  parent: string;
  time: string;
  self: string;
  await: string;
  group: string;
  flags: string;
  /** Inclusive CPU time (us, packed) when the session recorded it (ProcessedTree.cpuTime); absent otherwise. */
  cpu?: string;
  /**
   * A diff's tree only (PageData.diff; session/types.ts DiffTree): BASE's inclusive time (us, packed) and which
   * runs have the node (DiffSide bits, packed); the columns above are NEW's.
   */
  baseTime?: string;
  side?: string;
  /** Per group: how many of its frames are hidden, and its library ids (indexes into PageData.libraries). */
  groupHidden: number[];
  groupLibs: number[][];
}

/**
 * The per-sample stream for the timeline, compact: a prefix tree of the distinct frame paths (canonical stacks),
 * a table of distinct (stack, state) keys, and the entries (SPEC.md step 1, gaps included) run-length encoded.
 */
export interface TimelineData {
  /** Canonical stacks (n of them): stack i is frame[i] called from stack parent[i] (-1: the root), parent[i] < i. */
  n: number;
  /** Packed (packInts): i - parent[i]. */
  parent: string;
  /** Packed: frame ids. */
  frame: string;
  /** Keys (timelineKey): (stack + 1) * 8 + state; stack -1 with state idle is an idle gap. Most used first. Packed. */
  keys: string;
  keyCount: number;
  /** Runs, in time order, each two numbers (packInts): the key's index in keys, and packDuration(duration). */
  runs: string;
  /** Number of runs. */
  count: number;
  /** meta.interval, us: durations are stored relative to it. */
  interval: number;
}

/** How many frame ids are synthetic (SYNTHETIC_BASE up to 2^32 - 1): 256. */
const SYNTHETIC_COUNT = 0x100000000 - SYNTHETIC_BASE;

/** A frame id as TreeData.frame stores it: real frames shifted up, the synthetic ones down to 0..255. */
export function packFrame(frame: number): number {
  return (frame + SYNTHETIC_COUNT) % 0x100000000;
}

/** The frame id packFrame stored. */
export function unpackFrame(packed: number): number {
  return packed < SYNTHETIC_COUNT ? packed + SYNTHETIC_BASE : packed - SYNTHETIC_COUNT;
}

/** A TimelineData key: a canonical stack (-1: none) and a SampleState (below 8). */
export function timelineKey(stack: number, state: number): number {
  return (stack + 1) * 8 + state;
}

/** The canonical stack of a timelineKey, -1 for none. */
export function keyStack(key: number): number {
  return Math.floor(key / 8) - 1;
}

/** The SampleState of a timelineKey. */
export function keyState(key: number): number {
  return key % 8;
}

/** A run's duration (us) as TimelineData.runs stores it: duration - interval, zigzagged (0, -1, 1 -> 0, 1, 2). */
export function packDuration(duration: number, interval: number): number {
  const d = duration - interval;
  return d >= 0 ? 2 * d : -2 * d - 1;
}

/** The duration packDuration stored. */
export function unpackDuration(packed: number, interval: number): number {
  return (packed % 2 === 0 ? packed / 2 : -(packed + 1) / 2) + interval;
}

export const RUN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Unsigned integers (up to 2^53) as text, little-endian 5-bit digits: RUN_ALPHABET[32 + digit] continues,
 * RUN_ALPHABET[digit] ends. A few characters a number instead of JSON's digits and commas, and nothing JSON or
 * HTML would escape.
 */
export function packInts(values: ArrayLike<number>, map: (v: number, i: number) => number = (v) => v): string {
  let buf = new Uint8Array(Math.max(16, values.length * 3));
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    let v = map(values[i], i);
    if (!(v >= 0) || !Number.isFinite(v)) v = 0;
    v = Math.round(v);
    if (at + 12 > buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    while (v >= 32) {
      const digit = v % 32;
      buf[at++] = RUN_ALPHABET.charCodeAt(32 + digit);
      v = (v - digit) / 32;
    }
    buf[at++] = RUN_ALPHABET.charCodeAt(v);
  }
  let out = "";
  for (let i = 0; i < at; i += 8192) out += String.fromCharCode(...buf.subarray(i, Math.min(at, i + 8192)));
  return out;
}

/** Reads n numbers packed by packInts into out (or a new Float64Array). */
export function unpackInts(
  text: string,
  n: number,
  out: { [i: number]: number } = new Float64Array(n),
): { [i: number]: number } {
  const digit = new Int8Array(128).fill(0);
  for (let i = 0; i < RUN_ALPHABET.length; i++) digit[RUN_ALPHABET.charCodeAt(i)] = i;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    let v = 0;
    let scale = 1;
    for (;;) {
      const c = digit[text.charCodeAt(pos++) & 127];
      if (c < 32 || pos > text.length) {
        v += c * scale;
        break;
      }
      v += (c - 32) * scale;
      scale *= 32;
    }
    out[i] = v;
  }
  return out;
}

/** One run's figures, as the page's header shows them. */
export interface RunMeta {
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
  /** What limits the profile's accuracy, one line each (accuracy.ts): none when nothing does. */
  notes: string[];
}

/** What the page shows of one run: its header figures, its trees, its timeline. */
export type RunData = Pick<PageData, "meta" | "trees" | "timeline" | "startStack">;

export interface PageData {
  version: string;
  meta: RunMeta;
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
  /**
   * The worker threads (Session.threads), each a page of its own (no threads of its own), with the name the page's
   * thread selector shows; absent without any. The page shows one thread at a time: the main thread's data (this
   * object), or the one its URL's hash names (#thread=N, 1-based).
   */
  threads?: { name: string; data: PageData }[];
  /**
   * Two runs compared (tsprofile diff -r html): this object is NEW's run, its trees the diff trees (with baseTime
   * and side), and BASE's run is here with its own trees (its ordinary processing) and timeline. Both runs are on
   * one frame table (names, positions, flags, library above). The page shows one run at a time; NEW's first.
   */
  diff?: {
    /** Changes are of each run's share of its total (percentage points), not of time. */
    normalize: boolean;
    base: RunData;
  };
}
