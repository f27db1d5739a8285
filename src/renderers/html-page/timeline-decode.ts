// The embedded timeline decoded: its runs (start time and key each) and, per key, its path of display nodes
// (internal and hidden frames left out unless show-all, the stem above start() trimmed), each built when first drawn.
import { FrameFlag, SampleState, SyntheticFrame } from "../../../session/types.ts";
import { keyStack, keyState, unpackDuration, unpackInts } from "./data.ts";
import type { RunData, TimelineData } from "./data.ts";
import { data, isSynthetic, runData, state } from "./shared.ts";

export interface Timeline {
  /** Per run: start time (us) and the key index; starts has count + 1 entries (the last is the end). */
  starts: Float64Array;
  keyIndex: Int32Array;
  count: number;
  end: number;
}

export interface Paths {
  /** Per key index: the node ids of its path, root side first (the stem above start() trimmed). */
  paths: Array<Int32Array>;
  nodeFrame: number[];
  maxDepth: number;
}

/** Per run shown and show-all or not ("new:normal", "base:all"). */
const pathsFor = new Map<string, Paths>();

export function decodeRuns(tl: TimelineData): Timeline {
  const count = tl.count;
  const pairs = unpackInts(tl.runs, 2 * count) as Float64Array;
  const starts = new Float64Array(count + 1);
  const keyIndex = new Int32Array(count);
  let t = 0;
  for (let i = 0; i < count; i++) {
    keyIndex[i] = pairs[2 * i];
    starts[i] = t;
    t += unpackDuration(pairs[2 * i + 1], tl.interval);
  }
  starts[count] = t;
  return { starts, keyIndex, count, end: t };
}

/** Node identity = the whole path above it, so adjacent equal nodes at a depth are one frame call. */
function buildPaths(run: RunData, showAll: boolean): Paths {
  const tl = run.timeline;
  const nodeParent: number[] = [-1];
  const nodeFrame: number[] = [SyntheticFrame.root];
  const ids = new Map<string, number>();
  const intern = (p: number, f: number): number => {
    const key = `${p},${f}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = nodeParent.length;
      nodeParent.push(p);
      nodeFrame.push(f);
      ids.set(key, id);
    }
    return id;
  };
  const removed = (f: number): boolean => !showAll && (data.flags[f] & (FrameFlag.internal | FrameFlag.hidden)) !== 0;
  const stackParent = unpackInts(tl.parent, tl.n, new Int32Array(tl.n)) as Int32Array;
  const stackFrame = unpackInts(tl.frame, tl.n) as Float64Array;
  const stackNode = new Int32Array(tl.n);
  for (let i = 0; i < tl.n; i++) {
    const parent = i - stackParent[i];
    const p = parent < 0 ? 0 : stackNode[parent];
    stackNode[i] = removed(stackFrame[i]) ? p : intern(p, stackFrame[i]);
  }
  const keys = Array.from(unpackInts(tl.keys, tl.keyCount) as Float64Array);
  const full: Int32Array[] = keys.map((key) => {
    const stack = keyStack(key);
    const st = keyState(key);
    let leaf = stack < 0 ? 0 : stackNode[stack];
    // The states after js (idle, gc, native, await, out-of-context) have their synthetic frames in the same order.
    if (st !== SampleState.js) leaf = intern(leaf, SyntheticFrame.self + st);
    const path: number[] = [];
    for (let n = leaf; n > 0; n = nodeParent[n]) path.push(n);
    return Int32Array.from(path.reverse());
  });
  // SPEC.md step 3 (trim stem), on the paths that start with a real frame.
  const start = run.startStack.filter((f) => !removed(f));
  const candidates = full.filter((p) => p.length > 0 && !isSynthetic(nodeFrame[p[0]]));
  let j = 0;
  if (start.length > 0 && candidates.length > 0 && candidates.every((p) => nodeFrame[p[0]] === start[0])) {
    const along = (k: number): boolean => candidates.every((p) => p.length > k && nodeFrame[p[k]] === start[k]);
    while (j + 1 < start.length && along(j + 1)) j++;
  }
  let maxDepth = 0;
  const paths = full.map((p) => {
    const q = j > 0 && p.length > 0 && !isSynthetic(nodeFrame[p[0]]) ? p.subarray(j) : p;
    if (q.length > maxDepth) maxDepth = q.length;
    return q;
  });
  return { paths, nodeFrame, maxDepth };
}

export function currentPaths(): Paths {
  const key = `${state.run}:${state.showAll ? "all" : "normal"}`;
  let paths = pathsFor.get(key);
  if (!paths) pathsFor.set(key, paths = buildPaths(runData(), state.showAll));
  return paths;
}
