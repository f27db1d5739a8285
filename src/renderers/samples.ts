// What the sample-based writers (speedscope, cpuprofile, collapsed, pprof) and the HTML timeline share: the session
// as weighted entries in time order, from the core (core-rs/SPEC.md, entries), so they carry what the tree does:
// the gap rule's weights (SPEC.md §1, running gaps included; their totals equal the tree's) and await attribution
// ([await] under the stack that awaited, async callers included). The frames the report removes (runtime
// internals, hidden frames; §2) are removed unless show_all; library frames are kept and nothing is grouped or
// filtered: these formats are read by tools that have their own folding, and they want the real stacks. (Like the
// tree, the stem above profiler.start()'s caller is trimmed, §3.)
import { SyntheticFrame } from "../../session/types.ts";
import type { Session, SessionEntries } from "../../session/types.ts";

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

/** `entries`: the session's entries in time order from the core (core-rs/SPEC.md, entries). */
export function weightedSamples(session: Session, entries: SessionEntries): WeightedSamples {
  const { pathParent, pathFrame, entryPath, entryWeight } = entries;
  // Path nodes renumbered in order of first use, as the writers number their nodes (the core's table holds
  // every path it interned, used or not); the empty path is "[runtime internals]".
  const parent: number[] = [];
  const frame: number[] = [];
  const ids = new Int32Array(pathFrame.length).fill(-1);
  const idOf = (x: number): number => {
    if (ids[x] >= 0) return ids[x];
    const chain: number[] = [];
    for (let y = x; y !== 0 && ids[y] < 0; y = pathParent[y]) chain.push(y);
    for (let i = chain.length - 1; i >= 0; i--) {
      const y = chain[i];
      const p = pathParent[y];
      ids[y] = parent.length;
      parent.push(p === 0 ? -1 : ids[p]);
      frame.push(pathFrame[y]);
    }
    return ids[x];
  };
  let empty = -1;
  const n = entryPath.length;
  const node = new Int32Array(n);
  const start = new Float64Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const p = entryPath[i];
    if (p === 0) {
      if (empty < 0) {
        empty = parent.length;
        parent.push(-1);
        frame.push(SyntheticFrame.self);
      }
      node[i] = empty;
    } else node[i] = idOf(p);
    start[i] = at;
    at += entryWeight[i];
  }
  // The session's samples in each entry's span, by one sweep (both in time order).
  const times = session.samples.time;
  const count = new Uint32Array(n);
  let s = 0;
  for (let e = 0; e < n; e++) {
    const to = start[e] + entryWeight[e];
    while (s < times.length && Math.round(times[s]) < to) {
      count[e]++;
      s++;
    }
  }
  const end = n > 0 ? at : Math.round(session.meta.duration);
  return { parent, frame, node, weight: Float64Array.from(entryWeight), start, count, end };
}
