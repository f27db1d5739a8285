// asyncMode "strict" (issue 4, pyinstrument's strict async mode): only the async context that started the profiler
// is profiled; time when other contexts run shows as [out-of-context] under the code of ours that was awaiting.
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
import { SampleState, type Session } from "../src/types.ts";

// One storage for every strict profiler, each start() entering a token of its own. On Node 20/22 an
// AsyncLocalStorage follows only promises created after it first became active (its promise hooks start then);
// continuations of older promises share one resource, so entering a context there leaks into others. Hence
// prepareContextTracking() at the creation of a strict Profiler, ahead of the code it will profile.
let storage: AsyncLocalStorage<object> | null = null;

/** Activates context tracking (idempotent). */
export function prepareContextTracking(): void {
  if (storage) return;
  storage = new AsyncLocalStorage<object>();
  storage.enterWith({}); // activates it; the current context gets a token nobody tests for
}

/** Enters a fresh context in the caller's async context (what follows start() in the caller, and everything it
 * schedules from there on); returns the test "are we in it?". */
export function enterProfiledContext(): () => boolean {
  prepareContextTracking();
  const s = storage!;
  const token = {};
  s.enterWith(token);
  return () => s.getStore() === token;
}

/** Context switches on the tracker's clock: at time[i] the profiled context was entered (ours 1) or left (0). */
export interface ContextSwitches {
  time: number[];
  ours: number[];
}

export interface ContextWatch {
  /** A switch seen by the wait tracker: the context that started a wait runs again. */
  note(ours: boolean): void;
  stop(): ContextSwitches;
}

/** Records the context of every callback the event loop enters (as far as the runtime's async_hooks report them:
 * Node all, Deno timers, Bun none) and the switches the wait tracker notes, when it changes. */
export function watchContextSwitches(clock: () => number, inContext: () => boolean): ContextWatch {
  const switches: ContextSwitches = { time: [], ours: [] };
  let last = 1;
  const note = (ours: number): void => {
    if (ours === last) return;
    last = ours;
    switches.time.push(clock());
    switches.ours.push(ours);
  };
  const before = (): void => note(inContext() ? 1 : 0);
  let hook: { enable(): unknown; disable(): unknown } | null = null;
  try {
    hook = createHook({ before, trackPromises: false } as Parameters<typeof createHook>[0]).enable();
  } catch {}
  return {
    note: (ours) => note(ours ? 1 : 0),
    stop() {
      hook?.disable();
      return switches;
    },
  };
}

/**
 * Marks the samples taken while another context ran as out of context (stack: the wait of ours that started last
 * and is pending then, else none) and keeps only our waits. `ours[i]` says whether session.waits' wait i was
 * started in the profiled context; `switches` (session time) adds the callbacks' switches. Idle and GC samples
 * stay as they are.
 */
export function separateContexts(session: Session, ours: ArrayLike<number>, switches: ContextSwitches = { time: [], ours: [] }): Session {
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
  for (let i = 0; i < switches.time.length; i++) events.push({ t: switches.time[i], ours: switches.ours[i] === 1, rank: 0 });
  events.sort((a, b) => a.t - b.t || a.rank - b.rank);

  const { stack, time, state } = session.samples;
  let next = 0;
  let inContext = true; // start() ran in it
  let nextWait = 0;
  let pending: number[] = []; // our waits started so far and not ended, in order of start
  for (let i = 0; i < time.length; i++) {
    const t = time[i];
    while (next < events.length && events[next].t <= t) inContext = events[next++].ours;
    while (nextWait < n && waits.start[nextWait] <= t) {
      if (ours[nextWait] === 1) pending.push(nextWait);
      nextWait++;
    }
    if (inContext || (state[i] !== SampleState.js && state[i] !== SampleState.native)) continue;
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
