// JavaScriptCore stamps a sample before it stops the thread to walk its stack (it reads the time, takes its locks,
// then suspends the thread), so a sample stamped while the program waited can hold the code that ran once the wait
// ended: the first sample of a resumed function often comes before the resume. Charged from its stamp, that sample
// takes the end of the wait from the awaiting function (measured on test/fixtures/await-kinds.ts callback, 200
// rounds of a 7 ms await and a 3 ms spin: 69 such samples, 17 ms, 0.8 points moved from the await to the spin;
// none on Node). Such a sample is moved to the wait's end, as the core's async stacks already take its path from
// that wait (core-rs/SPEC.md, "Async stacks").
import type { Session } from "../../session/types.ts";
import { SampleState } from "../../session/types.ts";

/**
 * Moves each running sample stamped inside a wait that ends within `interval` after it to that end, when its
 * outermost frame of the program's code (kind js) is one of the wait's frames (the code the wait resumed) and the
 * next sample comes after that end. In place; returns the session.
 */
export function restampEarlySamples(session: Session, interval: number): Session {
  const waits = session.waits;
  if (!waits || waits.start.length === 0 || !(interval > 0)) return session;
  const { frames, stacks, samples } = session;
  // Waits by end, with their start and stack.
  const order = Array.from(waits.end.keys()).sort((a, b) => waits.end[a] - waits.end[b]);
  const ends = Float64Array.from(order, (i) => waits.end[i]);
  // Per wait stack id, its frames (memoized).
  const waitFrames = new Map<number, Set<number>>();
  const framesOf = (stack: number): Set<number> => {
    let set = waitFrames.get(stack);
    if (!set) {
      set = new Set();
      for (let s = stack; s >= 0; s = stacks.parent[s]) set.add(stacks.frame[s]);
      waitFrames.set(stack, set);
    }
    return set;
  };
  // Per sample stack id, its outermost js frame (-1: none), memoized.
  const outer = new Map<number, number>();
  const outermostJs = (stack: number): number => {
    let f = outer.get(stack);
    if (f === undefined) {
      f = -1;
      for (let s = stack; s >= 0; s = stacks.parent[s]) {
        if (frames[stacks.frame[s]].kind === "js") f = stacks.frame[s];
      }
      outer.set(stack, f);
    }
    return f;
  };
  const { time, state, stack } = samples;
  const n = time.length;
  let k = 0; // first wait (by end) ending after the current sample
  for (let i = 0; i < n; i++) {
    const t = time[i];
    while (k < ends.length && ends[k] <= t) k++;
    if (k >= ends.length) break;
    const e = ends[k];
    if (e - t > interval || e > session.meta.duration || state[i] === SampleState.idle) continue;
    if (i + 1 < n && time[i + 1] <= e) continue;
    const w = order[k];
    if (waits.start[w] > t || waits.stack[w] < 0 || stack[i] < 0) continue;
    const f = outermostJs(stack[i]);
    if (f >= 0 && framesOf(waits.stack[w]).has(f)) time[i] = e;
  }
  return session;
}
