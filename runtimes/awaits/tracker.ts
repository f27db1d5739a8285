// The wait tracker, await attribution's data source (core-rs/SPEC.md, "Await attribution"): while a sampler runs,
// each operation the program starts through a wrapped function (runtimes/awaits/wrappers.ts) is recorded as a wait
// {start, end, logical stack}; at stop resolveWaits puts the waits into the session.
//
// Stacks are captured and interned as each wait starts (runtimes/awaits/wait-stacks.ts) and resolved into the
// session's own frames at stop (resolveWaits), with the identity the sampler gives functions (definition
// positions, source-mapped), async callers included.
import { createFunctionLocator, type FunctionLocator } from "../../session/source/function-locator.ts";
import { createSourceMapper, type SourceMapper } from "../../session/source/sourcemaps.ts";
import { FrameInterner, StackInterner } from "../../session/frames.ts";
import type { AsyncMode, FrameInfo, FrameKind, Session, WaitTable } from "../../session/types.ts";
import { currentContext, enterProfiledContext, separateContexts, watchContextSwitches } from "./contexts.ts";
import type { ContextLog, ContextSwitches, ContextWatch } from "./contexts.ts";
import { type RawSite, type StackMode, WaitStacks } from "./wait-stacks.ts";
import { type AwaitRecorder, awaitRecorder } from "./await-recorder.mjs";
import { awaitsToWaits } from "./await-waits.ts";
import { type AnyFunction, installWrappers, type Runtime, runtimeName, type WaitRecorder } from "./wrappers.ts";

/** A clock in the sampler's own unit; the sampler converts to session microseconds at stop. */
export type Clock = () => number;

/** What a tracker recorded: waits in order of start, times on its clock; stacks leaf -> root. */
export interface RecordedWaits {
  start: number[];
  end: number[];
  /** Index into stacks, or -1 (unknown). */
  stack: number[];
  stacks: RawSite[][];
  /** Contexts tracked (strict mode, or a ContextLog): per wait, the context that started it
   * (runtimes/awaits/contexts.ts). */
  context?: number[];
  /** Contexts tracked: the callbacks' context switches, on the tracker's clock. */
  switches?: ContextSwitches;
  /** Strict mode: the profiled context; resolveWaits keeps only its waits and marks the others' samples. */
  profiled?: number;
  /** A ContextLog: resolveWaits hands it the contexts and separates nothing. */
  log?: ContextLog;
}

export interface WaitTracker {
  readonly isRunning: boolean;
  /** Restores every wrapped function and returns what was recorded. Idempotent. */
  stop(): RecordedWaits;
}

const TS_FILE_RE = /\.(?:[cm]?ts|tsx)$/;

/** How each runtime's stacks are cheapest to read (runtimes/awaits/wait-stacks.ts). */
function stackMode(runtime: Runtime): StackMode {
  return runtime === "deno" ? "deferred" : runtime === "bun" ? "text" : "sites";
}

/** The waits, one entry per wait in each array (start and end on the tracker's clock; end NaN while pending,
 * -Infinity for a wait that did not happen), with their stacks (WaitStacks references) taken as they start. */
class Recorder implements WaitRecorder {
  readonly start: number[] = [];
  readonly end: number[] = [];
  readonly stack: number[] = [];
  /** Contexts tracked only: per wait, the context that started it. */
  readonly context: number[] = [];
  /** Per wait, the instrumented activation that started it (runtimes/awaits/await-recorder.mjs), or 0. */
  readonly activation: number[] = [];
  /** The program's own awaits' recorder, while it records for this tracker. */
  awaits: AwaitRecorder | null = null;
  readonly stacks = new WaitStacks(stackMode(runtimeName()));
  inside = false;
  constructor(
    readonly clock: Clock,
    readonly tracksContexts: boolean,
  ) {}

  /** Starts a wait requested by the caller of `wrapper`; returns its id, or -1. Never throws. */
  begin(wrapper: AnyFunction): number {
    try {
      const id = this.start.length;
      this.start.push(this.clock());
      this.end.push(NaN);
      // Started from the program's instrumented code: its logical stack is that activation's (no capture, the
      // cost of this tracker; resolved at stop by awaitsToWaits).
      const act = this.awaits !== null && this.awaits.clock !== null ? this.awaits.running : 0;
      this.stack.push(act > 0 ? -1 : this.stacks.capture(wrapper));
      this.activation.push(act);
      if (this.tracksContexts) this.context.push(currentContext());
      return id;
    } catch {
      return -1;
    }
  }

  /** Contexts tracked: where context switches go (runtimes/awaits/contexts.ts). */
  switches: ContextWatch | null = null;

  /**
   * A callback of wait `id` has run its own code: the continuations it released (promise reactions) run next, as
   * microtasks. Some runtimes (Bun, Deno) run every due timer's callback before any microtask, so the context
   * switch to them is noted from a microtask queued now, ahead of theirs.
   */
  released(id: number): void {
    const to = this.forward?.get(id);
    if (to) return to[0].released(to[1]);
    const switches = this.switches;
    if (!switches) return;
    const context = this.context[id] ?? 0;
    try {
      queueMicrotask(() => switches.note(context));
    } catch {
      // Never a throw into the program: without the microtask this switch goes unnoted.
    }
  }

  finish(id: number): void {
    try {
      if (id >= 0 && id < this.end.length && Number.isNaN(this.end[id])) this.end[id] = this.clock();
      const to = this.forward?.get(id);
      if (to) to[0].finish(to[1]);
    } catch {
      // The clock threw: the wait stays pending and ends at stop, never a throw into the program.
    }
  }

  /** Waits handed over to the recorder that took over from this one: id -> [that recorder, its id]. */
  forward: Map<number, [Recorder, number]> | null = null;

  /** Takes over the waits still pending in `old` (stopped, a sampler restarted for the requests still open,
   * src/integrations/requests.ts): they go on here, started now; their ends reach this recorder. */
  takeOver(old: Recorder): void {
    old.forward ??= new Map();
    for (let i = 0; i < old.start.length; i++) {
      if (!Number.isNaN(old.end[i]) || old.forward.has(i)) continue;
      const ref = old.stacks.resolve(old.stack[i]);
      const id = this.start.length;
      this.start.push(this.clock());
      this.end.push(NaN);
      this.stack.push(ref >= 0 ? this.stacks.adopt(old.stacks.stacks[ref]) : -1);
      if (this.tracksContexts) this.context.push(old.context[i] ?? 0);
      old.forward.set(i, [this, id]);
    }
  }

  /** A wait that did not happen (a cleared timer, a call that threw). */
  drop(id: number): void {
    if (id >= 0 && id < this.end.length) this.end[id] = -Infinity;
  }
}

export interface WaitTrackerOptions {
  /** Strict async mode: enters a profiled context and records which waits it started (runtimes/awaits/contexts.ts). */
  strict?: boolean;
  /** Several contexts side by side: records every wait's context and every switch into this log. */
  contexts?: ContextLog;
}

/** The tracker a sampler started with these options runs, on its clock: none when asyncMode is "disabled". */
export function waitTrackerFor(
  options: { asyncMode?: AsyncMode; contexts?: ContextLog },
  clock: Clock,
): WaitTracker | null {
  if (options.asyncMode === "disabled") return null;
  return startWaitTracker(clock, { strict: options.asyncMode === "strict", contexts: options.contexts });
}

/** Starts recording waits; `clock` gives the time in the sampler's unit. */
export function startWaitTracker(clock: Clock, options: WaitTrackerOptions = {}): WaitTracker {
  const runtime = runtimeName();
  const profiled = options.strict ? enterProfiledContext() : undefined;
  const log = options.contexts;
  const rec = new Recorder(clock, profiled !== undefined || log !== undefined);
  const switches = rec.tracksContexts ? watchContextSwitches(clock) : null;
  rec.switches = switches;
  if (log) log.watch = switches;
  if (log) log.recorder = rec;
  const w = installWrappers(rec, runtime);
  // The program's own awaits, when its code was instrumented as it loaded (runtimes/awaits/instrument.mjs).
  const awaits = awaitRecorder();
  const recordsAwaits = awaits !== null && awaits.start(clock, rec.tracksContexts ? currentContext : null);
  if (recordsAwaits) rec.awaits = awaits;
  let running = w !== null || recordsAwaits;
  let result: RecordedWaits | null = null;
  if (w) {
    const previous = log?.previous?.recorder;
    if (previous instanceof Recorder) rec.takeOver(previous);
    if (log) log.previous = null;
  }
  return {
    get isRunning() {
      return running;
    },
    stop() {
      if (result) return result;
      const switched = switches?.stop();
      if (log) log.watch = null;
      let toClock = (t: number) => t;
      if (running) {
        w?.uninstall(runtime);
        if (recordsAwaits) toClock = awaits.stop();
        running = false;
      }
      const stopAt = safeClock(clock);
      // Timers still pending: a timer the program no longer refs (unref) is not what it waits for.
      const handles = w?.timers.handles ?? [];
      for (let id = 0; id < handles.length; id++) {
        const h = handles[id];
        if (h === 0) continue;
        const timer = h as { hasRef?: () => boolean } | undefined;
        try {
          if (timer && typeof timer.hasRef === "function" && !timer.hasRef()) rec.drop(id);
        } catch {
          // A handle whose hasRef throws counts as referenced: the wait is kept.
        }
      }
      const start: number[] = [];
      const end: number[] = [];
      const stack: number[] = [];
      const context: number[] = [];
      const stacks = rec.stacks.stacks;
      const own = recordsAwaits ? awaitsToWaits(awaits, toClock, stopAt) : null;
      const awaited = own ? awaitedAt(own.start, own.end) : () => false;
      /** Wrapped operations started from instrumented code: [wait, its stack among own.stacks]. */
      const ownStack: [number, number][] = [];
      for (let i = 0; i < rec.start.length; i++) {
        const e = rec.end[i];
        if (e === -Infinity) continue;
        const b = Number.isNaN(e) ? stopAt : e;
        // An operation that completed while the program's own code was awaiting: that await is the wait.
        if (awaited(b)) continue;
        start.push(rec.start[i]);
        end.push(b);
        const act = rec.activation[i] ?? 0;
        if (act > 0 && own) ownStack.push([stack.length, own.activationStack(act)]);
        stack.push(act > 0 ? -1 : rec.stacks.resolve(rec.stack[i]));
        if (rec.tracksContexts) context.push(rec.context[i]);
      }
      if (own) {
        const base = stacks.length;
        for (const [k, s] of ownStack) if (s >= 0) stack[k] = base + s;
        for (const s of own.stacks) stacks.push(s);
        for (let i = 0; i < own.start.length; i++) {
          start.push(own.start[i]);
          end.push(own.end[i]);
          stack.push(own.stack[i] + base);
          if (rec.tracksContexts) context.push(own.context[i]);
        }
      }
      const contexts = switched ? { context, switches: switched, profiled, log } : {};
      result = { start, end, stack, stacks, ...contexts };
      return result;
    },
  };
}

/**
 * Whether time t lies within one of the intervals [start, end] (the program's own awaits): the wrappers' waits
 * that end then add nothing to them (that await is what the program waited on) but would take a share of the idle
 * time the await is charged with (SPEC.md rule 3). Those that end elsewhere (callbacks, library code that outlives
 * the program's await) stay.
 */
function awaitedAt(start: number[], end: number[]): (t: number) => boolean {
  const order = start.map((_, i) => i).sort((a, b) => start[a] - start[b]);
  const starts = Float64Array.from(order, (i) => start[i]);
  const maxEnd = new Float64Array(order.length);
  let m = -Infinity;
  order.forEach((i, k) => (maxEnd[k] = m = Math.max(m, end[i])));
  return (t) => {
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && maxEnd[lo - 1] >= t;
  };
}

function safeClock(clock: Clock): number {
  try {
    return clock();
  } catch {
    return NaN;
  }
}

// ---- resolution into the session's tables ----

export interface ResolveOptions {
  /** A tracker time -> session microseconds. */
  toSession: (t: number) => number;
  /** "generated": positions are in the JavaScript that ran (Node with our loader): source-map them first. */
  positions: "generated" | "source";
  /** Source mapper for "generated" (default: session/source/sourcemaps.ts). */
  mapper?: SourceMapper;
  /** "js-only": find functions with session/source/function-locator.ts in JavaScript files only (Deno).
   * Default "all". */
  locate?: "all" | "js-only";
}

/**
 * Adds the recorded waits to the session: frames and stacks are interned into the session's own tables with the
 * sampler's identity (a function at its definition position, source-mapped), so an [await] lands under the
 * nodes of the same functions' samples. Mutates and returns the session.
 */
export function resolveWaits(session: Session, rec: RecordedWaits, opts: ResolveOptions): Session {
  // The session's own tables, extended in place: its frames array, a copy of its stacks.
  const frameTable = new FrameInterner(session.frames);
  const frames = frameTable.frames;
  const byNameFile = new Map<string, number[]>();
  const byName = (f: FrameInfo, i: number) => {
    const nk = `${f.name}\u0000${f.file}`;
    const list = byNameFile.get(nk);
    if (list) list.push(i);
    else byNameFile.set(nk, [i]);
  };
  frames.forEach(byName);
  const stacks = StackInterner.of(session.stacks);
  const mapper = opts.positions === "generated" ? opts.mapper ?? createSourceMapper() : null;
  let locator: FunctionLocator | null = null;
  const siteFrames = new Map<string, number>();

  let byStart: Map<string, number> | null = null;
  const atStart = (f: FrameInfo): number | undefined => {
    if (!byStart) {
      byStart = new Map();
      frames.forEach((g, i) => {
        const k = `${g.file}\u0000${g.line}\u0000${g.col}`;
        if (g.kind === "js" && !byStart!.has(k)) byStart!.set(k, i);
      });
    }
    return byStart.get(`${f.file}\u0000${f.line}\u0000${f.col}`);
  };
  const internFrame = (f: FrameInfo): number => {
    const known = frameTable.length;
    const id = frameTable.frame(f);
    if (id === known) byName(f, id);
    return id;
  };

  // Node: the locator finds the function around a position exactly as V8 places it. Deno: not for TypeScript
  // (the locator transpiles with esbuild, which does not load on Deno; Deno's own emit is what ran): matched to
  // the sampler's frames by name and line instead.
  const canLocate = (file: string) => opts.locate !== "js-only" || !TS_FILE_RE.test(file);
  const byLine = (name: string, file: string, line: number, sameLine: boolean): number => {
    let best = -1;
    for (const i of byNameFile.get(`${name}\u0000${file}`) ?? []) {
      const f = frames[i];
      if (sameLine ? f.line !== line : !(f.line <= line || line <= 0)) continue;
      if (best < 0 || f.line > frames[best].line) best = i;
    }
    return best;
  };

  const frameFor = (s: RawSite, outermost: boolean): number => {
    const sk = `${s.name}\u0000${s.file}\u0000${s.line}\u0000${s.col}\u0000${outermost}`;
    let id = siteFrames.get(sk);
    if (id !== undefined) return id;
    const isUrl = /^[a-z][a-z0-9+.-]*:/i.test(s.file) && !/^[a-z]:[\\/]/i.test(s.file);
    const kind: FrameKind = isUrl && /^(node|ext|bun|internal|builtin):/.test(s.file) ? "runtime" : "js";
    let pos = { file: s.file, line: s.line, col: s.col };
    if (kind === "js" && mapper && s.line > 0) pos = mapper.map(s.file, s.line, s.col);
    const name = s.name || "(anonymous)";
    if (kind === "js" && canLocate(pos.file)) {
      const at = pos.line > 0 ? (locator ??= createFunctionLocator()).locate(pos.file, pos.line, pos.col) : null;
      let frame: FrameInfo | null = null;
      if (at === "module") frame = { name: "<module>", file: pos.file, line: 1, col: 1, kind };
      // A map into another file (a library's own, on Bun) is the sampler's answer too; after `mapper` it would be a
      // second hop the sampler never takes: matched by name and line below instead.
      else if (at && !(at.file && mapper)) {
        frame = { name, file: at.file ?? pos.file, line: at.line, col: at.col, kind };
      }
      if (frame) {
        id = frameTable.find(frame);
        if (id < 0) {
          const near = byLine(frame.name, frame.file, frame.line, true);
          // A function the sampler saw at that very start under another name (the transform names functions
          // from the source, V8 infers some names its own way: `obj.f = async () => {}`): the sampler's frame.
          id = near >= 0 ? near : atStart(frame) ?? internFrame(frame);
        }
        siteFrames.set(sk, id);
        return id;
      }
    }
    // Not located: the sampler's frame of that name in that file defined last at or before this line; an
    // anonymous function only on the same line; the outermost unnamed frame of a file is its module code.
    let best = s.name ? byLine(name, pos.file, pos.line, false) : byLine(name, pos.file, pos.line, true);
    if (best < 0 && !s.name && kind === "js" && outermost) {
      best = byLine("<module>", pos.file, 1, true);
      if (best < 0) best = internFrame({ name: "<module>", file: pos.file, line: 1, col: 1, kind });
    }
    id = best >= 0 ? best : internFrame({ name, file: pos.file, line: pos.line, col: pos.col, kind });
    siteFrames.set(sk, id);
    return id;
  };

  const rawToStack = new Int32Array(rec.stacks.length).fill(-2);
  const stackOf = (raw: number): number => {
    if (raw < 0 || raw >= rec.stacks.length) return -1;
    if (rawToStack[raw] !== -2) return rawToStack[raw];
    const sites = rec.stacks[raw];
    let s = -1;
    try {
      // Files of the frames already walked (sites[i+1..]): a Set, not a rescan per frame.
      const walked = new Set<string>();
      for (let i = sites.length - 1; i >= 0; i--) {
        const f = frameFor(sites[i], !walked.has(sites[i].file));
        walked.add(sites[i].file);
        s = stacks.stack(s, f);
      }
    } catch {
      s = -1;
    }
    rawToStack[raw] = s;
    return s;
  };

  const n = rec.start.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const stack = new Int32Array(n);
  let kept = 0;
  const times: [number, number, number][] = [];
  for (const i of order) {
    const a = Math.max(0, Math.round(opts.toSession(rec.start[i])));
    let b = Math.round(opts.toSession(rec.end[i]));
    if (!Number.isFinite(a)) continue;
    if (!Number.isFinite(b)) b = session.meta.duration;
    times.push([a, Math.max(a, b), i]);
  }
  times.sort((x, y) => x[0] - y[0] || x[2] - y[2]);
  const context = new Uint32Array(n);
  for (const [a, b, i] of times) {
    start[kept] = a;
    end[kept] = b;
    stack[kept] = stackOf(rec.stack[i]);
    context[kept] = rec.context?.[i] ?? 0;
    kept++;
  }
  session.stacks = stacks.tables();
  const waits: WaitTable = { start: start.slice(0, kept), end: end.slice(0, kept), stack: stack.slice(0, kept) };
  session.waits = waits;
  if (!rec.context) return session;
  const sw = rec.switches ?? { time: [], id: [] };
  const switches = { time: sw.time.map((t) => Math.round(opts.toSession(t))), id: sw.id };
  if (rec.log) {
    rec.log.resolved = { toSession: opts.toSession, waitContext: context.slice(0, kept), switches };
    return session;
  }
  const ours = (ids: ArrayLike<number>) => Array.from(ids, (c) => (c === rec.profiled ? 1 : 0));
  return separateContexts(session, ours(context.subarray(0, kept)), { time: switches.time, ours: ours(switches.id) });
}
