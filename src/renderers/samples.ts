// What the sample-based writers (speedscope, cpuprofile, collapsed, pprof) share: the session as weighted entries in
// time order, read from the core's timeline tree (the session processed with timeline on and no threshold), so
// they carry what the tree does: the gap rule's weights (SPEC.md §1, running gaps included; their totals equal the
// tree's) and await attribution ([await] under the stack that awaited, async callers included). The frames the
// report removes (runtime internals, hidden frames; §2) are removed unless show_all; library frames are kept and
// nothing is grouped or filtered: these formats are read by tools that have their own folding, and they want the
// real stacks. (Like the tree, the stem above profiler.start()'s caller is trimmed, §3.)
import { SyntheticFrame } from "../../session/types.ts";
import type { ProcessedTree, Session } from "../../session/types.ts";

export interface WeightedSamples {
  /** Path nodes, a prefix tree: node i is frame[i] (a real frame id or a SyntheticFrame) under parent[i] (-1 = top). */
  parent: number[];
  frame: number[];
  /** Entries in time order: path node (never -1: an empty path is SyntheticFrame.self, "[runtime internals]"). */
  node: Int32Array;
  /** Weight, us (integer). */
  weight: Float64Array;
  /** Start time, us since the session start. */
  start: Float64Array;
  /** How many of the session's samples fall in the entry's span (0 for time the gap rule made: an idle gap). */
  count: Uint32Array;
  /** The session's end, us. */
  end: number;
}

/**
 * `timeline`: the session processed by the core with timeline on and filterThreshold 0. Its leaves, in pre-order,
 * are the runs of equal paths in time order, one after the other from 0 to the end; a [self] leaf is its parent's
 * own time.
 */
export function weightedSamples(session: Session, timeline: ProcessedTree): WeightedSamples {
  const parent: number[] = [];
  const frame: number[] = [];
  const nodeIds = new Map<number, number>();
  const intern = (p: number, f: number): number => {
    const key = (p + 1) * 0x1_0000_0000 + f; // below 2^53: path nodes stay far under 2^21
    let id = nodeIds.get(key);
    if (id === undefined) {
      id = parent.length;
      parent.push(p);
      frame.push(f);
      nodeIds.set(key, id);
    }
    return id;
  };
  const n = timeline.frame.length;
  // Per tree node, its path node (-1 for the root and for a [self] directly under it).
  const pathOf = new Int32Array(n).fill(-1);
  const outNode: number[] = [];
  const outWeight: number[] = [];
  const outStart: number[] = [];
  let at = 0;
  for (let i = 1; i < n; i++) {
    const p = timeline.parent[i];
    const f = timeline.frame[i];
    pathOf[i] = f === SyntheticFrame.self ? pathOf[p] : intern(pathOf[p], f);
    const leaf = i + 1 >= n || timeline.parent[i + 1] !== i;
    const w = leaf ? timeline.time[i] : timeline.selfTime[i];
    if (w <= 0) continue;
    const node = pathOf[i] < 0 ? intern(-1, SyntheticFrame.self) : pathOf[i];
    const last = outNode.length - 1;
    if (last >= 0 && outNode[last] === node) outWeight[last] += w;
    else {
      outNode.push(node);
      outWeight.push(w);
      outStart.push(at);
    }
    at += w;
  }
  // The session's samples in each entry's span, by one sweep (both in time order).
  const times = session.samples.time;
  const count = new Uint32Array(outNode.length);
  let s = 0;
  for (let e = 0; e < outNode.length; e++) {
    const to = outStart[e] + outWeight[e];
    while (s < times.length && Math.round(times[s]) < to) {
      count[e]++;
      s++;
    }
  }
  return {
    parent,
    frame,
    node: Int32Array.from(outNode),
    weight: Float64Array.from(outWeight),
    start: Float64Array.from(outStart),
    count,
    end: n > 0 ? timeline.time[0] : 0,
  };
}
