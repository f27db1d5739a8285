// asyncMode "strict" (await attribution's strict mode, as pyinstrument's strict async mode): only the async context
// that started the profiler is profiled; time when other contexts run shows as [out-of-context] under the code of
// ours that was awaiting.
//
// The context is an AsyncLocalStorage store entered by start() (it follows timers, I/O callbacks and promise
// continuations alike on Node, Deno and Bun). Samplers cannot ask which context a sample ran in, so switches are
// recorded as events and the last event before a sample holds for it:
// - the waits: when a wait starts, the context that started it is running; when it ends, that context runs again;
// - async_hooks' `before` of every callback the event loop runs (timers, I/O, sockets: also operations started
//   before start() or not wrapped by the wait tracker), recorded when the context changes. Node 24+ runs it without
//   promise hooks (trackPromises: false); on Node 20/22 any hook turns them on (strict mode only). Deno reports
//   timers only, Bun nothing.
// Limits: a context woken by a promise another context settled, with no callback between, counts as the other
// context; on Deno and Bun so do callbacks of operations the tracker does not see (started before start(), or of
// sources it does not wrap); on Bun, sample times are only as exact as its clock calibration (~0.2 ms).
import { AsyncLocalStorage, createHook } from "node:async_hooks";
import { SampleState, type Session } from "../../session/types.ts";

// One storage for every profiled context (a strict profiler's, each web request's), each holding a numbered
// token; 0 is no profiled context. On Node 20/22 an AsyncLocalStorage follows only promises created after it first
// became active (its promise hooks start then); continuations of older promises share one resource, so entering a
// context there leaks into others. Hence prepareContextTracking() ahead of the code to profile (at the creation
// of a strict Profiler or of a web middleware).
let storage: AsyncLocalStorage<{ id: number }> | null = null;
let lastId = 0;

/** Activates context tracking (idempotent). */
export function prepareContextTracking(): void {
  if (storage) return;
  storage = new AsyncLocalStorage<{ id: number }>();
  storage.enterWith({ id: 0 }); // activates it
}

/** The profiled context running now, or 0. */
export function currentContext(): number {
  return storage?.getStore()?.id ?? 0;
}

/** A fresh context id, for runInContext. */
export function newContext(): number {
  return ++lastId;
}

/** Enters a fresh context in the caller's async context (what follows start() in the caller, and everything it
 * schedules from there on); returns its id. */
export function enterProfiledContext(): number {
  prepareContextTracking();
  const id = newContext();
  storage!.enterWith({ id });
  return id;
}

/** Runs fn in context `id` (and what it schedules, as AsyncLocalStorage.run does). */
export function runInContext<T>(id: number, fn: () => T): T {
  prepareContextTracking();
  return storage!.run({ id }, fn);
}

/** Context switches on the tracker's clock: at time[i] context id[i] started running. */
export interface ContextSwitches {
  time: number[];
  id: number[];
}

export interface ContextWatch {
  /** A switch seen by the wait tracker (the context that started a wait runs again) or made by a caller; returns
   * the time noted. */
  note(id: number): number;
  stop(): ContextSwitches;
}

/** Records the context of every callback the event loop enters (as far as the runtime's async_hooks report them:
 * Node all, Deno timers, Bun none) and the switches noted, when it changes. */
export function watchContextSwitches(clock: () => number, first = currentContext()): ContextWatch {
  const switches: ContextSwitches = { time: [], id: [] };
  let last = first;
  const note = (id: number): number => {
    const t = clock();
    if (id === last) return t;
    last = id;
    switches.time.push(t);
    switches.id.push(id);
    return t;
  };
  const before = (): void => {
    note(currentContext());
  };
  let hook: { enable(): unknown; disable(): unknown } | null = null;
  try {
    hook = createHook({ before, trackPromises: false } as Parameters<typeof createHook>[0]).enable();
  } catch {
    // A runtime whose async_hooks cannot hook callbacks: only the switches the waits note are recorded.
  }
  return {
    note,
    stop() {
      hook?.disable();
      return switches;
    },
  };
}

/**
 * Several contexts profiled side by side (one per web request, src/integrations/requests.ts): the wait tracker of
 * a sampler started with it records every wait's context and every switch without separating them, and hands
 * them over at stop, in session time; the caller then cuts one profile per context (separateContexts).
 */
export class ContextLog {
  /** Set by the recording tracker while it runs. */
  watch: ContextWatch | null = null;
  /** The recording tracker's recorder (runtimes/awaits/tracker.ts). */
  recorder: unknown = null;
  /** The log of the sampler this one's replaces: its tracker's pending waits are taken over at start. */
  previous: ContextLog | null = null;
  /** Set by resolveWaits at stop. */
  resolved: {
    /** A time of note() -> session microseconds. */
    toSession: (t: number) => number;
    /** Per wait of session.waits, the context that started it. */
    waitContext: Uint32Array;
    /** Switches in session time. */
    switches: ContextSwitches;
  } | null = null;

  /** Context `id` runs from now on (0: none); returns the time on the tracker's clock, NaN when not recording. */
  note(id: number): number {
    try {
      return this.watch ? this.watch.note(id) : NaN;
    } catch {
      return NaN;
    }
  }
}

/** Sample times jitter against the switches' times by about 0.1 ms (Deno, Bun; runtimes/bun/clock.ts): this close
 * to a switch, the time alone cannot tell which side a sample ran on. */
const NEAR_SWITCH_US = 300;

/**
 * Which side a stack ran on, from the waits' stacks: true when it holds a function that only our waits were started
 * from (through), false when it holds one that only the other contexts' waits were, undefined when neither or both
 * (the same handler code serving both sides, say). For the samples near a switch.
 */
function stackSides(session: Session, ours: ArrayLike<number>): (stack: number) => boolean | undefined {
  const { parent, frame } = session.stacks;
  const waits = session.waits!;
  const seen = [new Set<number>(), new Set<number>()]; // frames of the others' waits, of ours
  for (let i = 0; i < waits.stack.length; i++) {
    const set = seen[ours[i] === 1 ? 1 : 0];
    for (let s = waits.stack[i]; s >= 0; s = parent[s]) set.add(frame[s]);
  }
  return (stack) => {
    let ourOnly = false;
    let theirOnly = false;
    for (let s = stack; s >= 0; s = parent[s]) {
      const f = frame[s];
      const a = seen[1].has(f);
      const b = seen[0].has(f);
      if (a && !b) ourOnly = true;
      if (b && !a) theirOnly = true;
    }
    return ourOnly === theirOnly ? undefined : ourOnly;
  };
}

/** Per stack, its number of frames. */
function stackDepths(session: Session): Int32Array {
  const { parent } = session.stacks;
  const depth = new Int32Array(parent.length).fill(-1);
  const path: number[] = [];
  for (let s = 0; s < parent.length; s++) {
    let x = s;
    while (x >= 0 && depth[x] < 0) {
      path.push(x);
      x = parent[x];
    }
    let d = x >= 0 ? depth[x] : 0;
    while (path.length > 0) depth[path.pop()!] = ++d;
  }
  return depth;
}

/** The number of frames two stacks share from the root. */
function sharedDepth(session: Session, depth: Int32Array, a: number, b: number): number {
  const { parent } = session.stacks;
  if (a < 0 || b < 0) return 0;
  while (depth[a] > depth[b]) a = parent[a];
  while (depth[b] > depth[a]) b = parent[b];
  while (a !== b) {
    a = parent[a];
    b = parent[b];
  }
  return a < 0 ? 0 : depth[a];
}

/**
 * Marks the samples taken while another context ran as out of context (stack: the wait of ours that started last
 * and is pending then, else none) and keeps only our waits. `ours[i]` says whether session.waits' wait i was
 * started in the profiled context; `switches` (session time) adds the callbacks' switches. Idle and GC samples
 * stay as they are. Near a switch, a sample's stack decides where it can (stackSides, else the
 * neighbouring sample it shares more of its stack with).
 */
export function separateContexts(
  session: Session,
  ours: ArrayLike<number>,
  switches: { time: ArrayLike<number>; ours: ArrayLike<number> } = { time: [], ours: [] },
): Session {
  const waits = session.waits;
  if (!waits) return session;
  const n = waits.start.length;
  // In time order; at the same microsecond a wait's end (the context that waited runs again) or a callback's entry
  // comes before a start (which the woken code may have made).
  const events: { t: number; ours: boolean; rank: number }[] = [];
  for (let i = 0; i < n; i++) {
    events.push({ t: waits.start[i], ours: ours[i] === 1, rank: 1 });
    events.push({ t: waits.end[i], ours: ours[i] === 1, rank: 0 });
  }
  for (let i = 0; i < switches.time.length; i++) {
    events.push({ t: switches.time[i], ours: switches.ours[i] === 1, rank: 0 });
  }
  events.sort((a, b) => a.t - b.t || a.rank - b.rank);

  // The times the context changes, for the samples near one.
  const changes: number[] = [];
  let was = true;
  for (const e of events) {
    if (e.ours !== was) changes.push(e.t);
    was = e.ours;
  }
  const side = stackSides(session, ours);

  // First pass: each running sample's side; near a switch its stack decides where it can, else it stays open.
  const { stack, time, state } = session.samples;
  const ran = (i: number) => state[i] === SampleState.js || state[i] === SampleState.native;
  const mine: (boolean | undefined)[] = new Array(time.length);
  let next = 0;
  let inContext = true; // start() ran in it
  let nextChange = 0;
  const contextAt: boolean[] = new Array(time.length);
  for (let i = 0; i < time.length; i++) {
    const t = time[i];
    while (next < events.length && events[next].t <= t) inContext = events[next++].ours;
    while (nextChange < changes.length && changes[nextChange] <= t) nextChange++;
    contextAt[i] = inContext;
    if (!ran(i)) continue;
    const near = (nextChange > 0 && t - changes[nextChange - 1] < NEAR_SWITCH_US) ||
      (nextChange < changes.length && changes[nextChange] - t < NEAR_SWITCH_US);
    mine[i] = near ? side(stack[i]) : inContext;
  }
  // Second pass: an open sample near a switch goes with the neighbour (the last running sample before it or the
  // first after it, decided in the first pass) whose stack it shares more of: the run it is the edge of. A tie
  // (the same code on both sides) keeps the context its time says.
  const depth = stackDepths(session);
  for (let i = 0; i < time.length; i++) {
    if (!ran(i) || mine[i] !== undefined) continue;
    let p = i - 1;
    while (p >= 0 && !(ran(p) && mine[p] !== undefined)) p--;
    let q = i + 1;
    while (q < time.length && !(ran(q) && mine[q] !== undefined)) q++;
    const before = p >= 0 ? sharedDepth(session, depth, stack[i], stack[p]) : 0;
    const after = q < time.length ? sharedDepth(session, depth, stack[i], stack[q]) : 0;
    mine[i] = before > after ? mine[p] : after > before ? mine[q] : contextAt[i];
  }

  let nextWait = 0;
  let pending: number[] = []; // our waits started so far and not ended, in order of start
  for (let i = 0; i < time.length; i++) {
    const t = time[i];
    while (nextWait < n && waits.start[nextWait] <= t) {
      if (ours[nextWait] === 1) pending.push(nextWait);
      nextWait++;
    }
    if (!ran(i) || mine[i]) continue;
    pending = pending.filter((w) => waits.end[w] > t);
    state[i] = SampleState.outOfContext;
    stack[i] = pending.length > 0 ? waits.stack[pending[pending.length - 1]] : -1;
  }

  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (ours[i] === 1) keep.push(i);
  session.waits = {
    start: Float64Array.from(keep, (i) => waits.start[i]),
    end: Float64Array.from(keep, (i) => waits.end[i]),
    stack: Int32Array.from(keep, (i) => waits.stack[i]),
  };
  return session;
}
