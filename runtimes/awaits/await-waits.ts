// The await recorder's log (runtimes/awaits/await-recorder.mjs) as waits for the tracker (runtimes/awaits/tracker.ts):
// each await of the program's own code is a wait from the await to the resume of the function that awaited, with
// the logical stack (that function at the await, then its async callers, outermost last) as RawSites in the code
// that ran, which resolveWaits maps and locates like the sampler's own frames.
//
// Only the innermost pending await of a chain is charged: an await of activation A covers the time when an
// activation that A started before it (in the same run of A's code, so possibly the one awaited) has not ended; A's
// wait begins when the last of those resumed for the last time (from there on A waits on something else, or only on
// the microtasks that bring it back). So nested awaits never count the same idle time twice, and concurrent ones
// share it (SPEC.md rule 3).
import type { AwaitRecorder } from "./await-recorder.mjs";
import type { RawSite } from "./wait-stacks.ts";

export interface AwaitWaits {
  start: number[];
  end: number[];
  /** Index into stacks. */
  stack: number[];
  stacks: RawSite[][];
  /** Per wait, the async context it was started in (when contexts were tracked). */
  context: number[];
  /** The logical stack (an index into stacks, added if new) of code running in activation a: its function, then
   * its callers. For what the wrapped operations started from the program's instrumented code. */
  activationStack(a: number): number;
}

/** Shorter awaits are left out (in the recorder's milliseconds): an await of a promise already settled, or of an
 * async function that never suspended, lasts microtasks; no idle time lies within it and no sample can tell it. */
const MIN_WAIT_MS = 0.05;

/** The recorded awaits as waits; `toClock` puts the recorder's times on the tracker's clock; stopAt is on that. */
export function awaitsToWaits(rec: AwaitRecorder, toClock: (t: number) => number, stopAt: number): AwaitWaits {
  const out: AwaitWaits = { start: [], end: [], stack: [], stacks: [], context: [], activationStack: () => -1 };
  const siteOf = (site: number): RawSite | null => {
    const row = rec.siteRow[site];
    if (!row) return null;
    return { name: row[1], file: rec.siteFile[site], line: row[2], col: row[3], async: row[0] !== 1 };
  };
  // Stacks as a trie of site ids: an activation's chain of callers is one node, computed once.
  const trie = new Map<string, number>();
  const nodeSites: (RawSite | null)[] = [null];
  const nodeParent: number[] = [-1];
  const nodeStack: number[] = [-1];
  const child = (node: number, site: number): number => {
    const key = `${node},${site}`;
    let id = trie.get(key);
    if (id === undefined) {
      id = nodeSites.length;
      nodeSites.push(siteOf(site));
      nodeParent.push(node);
      nodeStack.push(-1);
      trie.set(key, id);
    }
    return id;
  };
  const chainOf = new Map<number, number>();
  const callers = (act: number): number => {
    // The chain above act (its parent and theirs): iterative, a long chain of callers cannot overflow the stack.
    const todo: number[] = [];
    let p = rec.actParent[act];
    let node = 0;
    for (let guard = 0; p > 0 && guard < 256; guard++) {
      const known = chainOf.get(p);
      if (known !== undefined) {
        node = known;
        break;
      }
      todo.push(p);
      p = rec.actParent[p];
    }
    for (let i = todo.length - 1; i >= 0; i--) {
      node = child(node, rec.actSite[todo[i]]);
      chainOf.set(todo[i], node);
    }
    return node;
  };
  const stackOfNode = (node: number): number => {
    if (nodeStack[node] >= 0) return nodeStack[node];
    const sites: RawSite[] = [];
    for (let n = node; n > 0; n = nodeParent[n]) if (nodeSites[n]) sites.push(nodeSites[n]!);
    nodeStack[node] = out.stacks.length;
    out.stacks.push(sites); // leaf -> root: the await's site first, then its callers
    return nodeStack[node];
  };

  out.activationStack = (a) => a > 0 && a < rec.next ? stackOfNode(child(callers(a), rec.actSite[a])) : -1;
  const add = (a: number, site: number, from: number, to: number, begin: number, end: number, context: number) => {
    let start = begin;
    // Covered by what A started before it: until the last of those resumed for the last time, or to the end.
    for (let c = from; c < to && start < end; c++) {
      if (rec.actParent[c] !== a) continue;
      start = rec.actDone[c] ? Math.max(start, rec.actLastResume[c]) : end;
    }
    if (!(start + MIN_WAIT_MS <= end)) return;
    out.start.push(toClock(start));
    out.end.push(end === Infinity ? stopAt : toClock(end));
    out.stack.push(stackOfNode(child(callers(a), site)));
    out.context.push(context);
  };
  for (let i = 0; i < rec.n; i++) {
    add(rec.wAct[i], rec.wSite[i], rec.wFrom[i], rec.wTo[i], rec.wStart[i], rec.wEnd[i], rec.wContext[i] ?? 0);
  }
  // Still pending at stop: they end there.
  for (let a = 1; a < rec.next; a++) {
    if (rec.actPending[a] === 0 || !(rec.pendStart[a] >= rec.startedAt)) continue;
    add(a, rec.pendSite[a], rec.pendFrom[a], rec.pendTo[a], rec.pendStart[a], Infinity, rec.pendContext[a] ?? 0);
  }
  return out;
}
