// What the sample-based writers (speedscope, cpuprofile, collapsed, pprof) share: the session's samples as
// weighted entries in time order, with the weights and the gap rule of SPEC.md §1, running gaps included (so
// their totals equal the tree's) and the frames the report removes (runtime internals, hidden frames; §2) removed
// unless show_all.
// Library frames are kept and nothing is trimmed or grouped: these formats are read by tools that have their
// own folding, and they want the real stacks.
import type { Classification } from "../processing/classify.ts";
import { FrameFlag, SampleState, SyntheticFrame } from "../../session/types.ts";
import type { Session } from "../../session/types.ts";

const STATE_FRAME: Record<number, number> = {
  [SampleState.idle]: SyntheticFrame.idle,
  [SampleState.gc]: SyntheticFrame.gc,
  [SampleState.native]: SyntheticFrame.native,
  [SampleState.await]: SyntheticFrame.await,
  [SampleState.outOfContext]: SyntheticFrame.outOfContext,
};

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
  /**
   * How many samples the entry stands for: 1, or 0 for the time the gap rule makes (the idle rest of a gap, or the
   * late part of a running gap, on the next sample's path).
   */
  count: Uint32Array;
  /** The session's end, us. */
  end: number;
}

const round = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

/** Consecutive entries on the same path are merged when mergeRuns is set (their count adds). */
export function weightedSamples(
  session: Session,
  classification: Classification,
  showAll: boolean,
  mergeRuns = false,
): WeightedSamples {
  const { stacks, samples, meta } = session;
  const parent: number[] = [];
  const frame: number[] = [];
  const nodeIds = new Map<string, number>();
  const intern = (p: number, f: number): number => {
    const key = `${p}:${f}`;
    let id = nodeIds.get(key);
    if (id === undefined) {
      id = parent.length;
      parent.push(p);
      frame.push(f);
      nodeIds.set(key, id);
    }
    return id;
  };
  const removed = FrameFlag.internal | FrameFlag.hidden;
  const ns = stacks.parent.length;
  const pathOf = new Int32Array(ns);
  for (let i = 0; i < ns; i++) {
    const p = stacks.parent[i] < 0 ? -1 : pathOf[stacks.parent[i]];
    const f = stacks.frame[i];
    pathOf[i] = !showAll && (classification.flags[f] & removed) !== 0 ? p : intern(p, f);
  }
  // Per (stack, state): the entry's node, cached.
  const entryNode = new Map<number, number>();
  const nodeFor = (stack: number, state: number): number => {
    const key = (stack + 1) * 8 + state;
    let id = entryNode.get(key);
    if (id === undefined) {
      const p = stack < 0 ? -1 : pathOf[stack];
      const sf = STATE_FRAME[state];
      id = sf !== undefined ? intern(p, sf) : p < 0 ? intern(-1, SyntheticFrame.self) : p;
      entryNode.set(key, id);
    }
    return id;
  };
  const n = samples.stack.length;
  const end = n > 0 ? Math.max(round(meta.duration), round(samples.time[n - 1])) : round(meta.duration);
  const gapCap = meta.gapCap;
  const running = meta.idleSampled === true;
  const interval = round(meta.interval);
  const outNode: number[] = [];
  const outWeight: number[] = [];
  const outStart: number[] = [];
  const outCount: number[] = [];
  const push = (node: number, w: number, start: number, count: number) => {
    if (w <= 0) return;
    const last = outNode.length - 1;
    if (mergeRuns && last >= 0 && outNode[last] === node) {
      outWeight[last] += w;
      outCount[last] += count;
      return;
    }
    outNode.push(node);
    outWeight.push(w);
    outStart.push(start);
    outCount.push(count);
  };
  if (n > 0) {
    const idle = intern(-1, SyntheticFrame.idle);
    const t0 = round(samples.time[0]);
    if (t0 > 0) push(idle, t0, 0, 0);
    for (let i = 0; i < n; i++) {
      const t = round(samples.time[i]);
      const next = i + 1 < n ? round(samples.time[i + 1]) : end;
      const dt = next - t;
      const w = Math.min(dt, gapCap);
      const node = nodeFor(samples.stack[i], samples.state[i]);
      if (running && i + 1 < n && samples.state[i] !== SampleState.idle && samples.state[i + 1] !== SampleState.idle) {
        // A running gap (SPEC.md §1): no idle; sample i keeps up to 2 intervals, the late part is the next one's.
        const head = interval > 0 ? Math.min(w, 2 * interval) : w;
        push(node, head, t, 1);
        push(nodeFor(samples.stack[i + 1], samples.state[i + 1]), dt - head, t + head, 0);
        continue;
      }
      push(node, w, t, 1);
      if (dt - w > 0) push(idle, dt - w, t + w, 0);
    }
  }
  return {
    parent,
    frame,
    node: Int32Array.from(outNode),
    weight: Float64Array.from(outWeight),
    start: Float64Array.from(outStart),
    count: Uint32Array.from(outCount),
    end,
  };
}
