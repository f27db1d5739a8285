// Await attribution's data source (issue 4; core-rs/SPEC.md, "Await attribution"): while a sampler runs, the
// common asynchronous sources are wrapped so that each operation the program starts is recorded as a wait
// {start, end, logical stack}: setTimeout (global, node:timers, timers/promises), node:fs callback functions and
// node:fs/promises, fetch, http/https request/get (ends at the response body's end or an error), net/tls connect (ends at
// 'connect'), dns.lookup, and on Deno/Bun a few of their own (Deno.readFile..., Bun.sleep).
//
// Why wrappers and not async_hooks: on Node 20/22 any init hook turns on promise hooks (FACTS.md: 300k awaits
// 28 -> 66 ms); on Node 24 createHook({trackPromises: false}) is cheap per hook, but the stack capture is the
// cost (runtimes/awaits/wait-stacks.ts) and init is the wrong place for it: measured on bench/async.ts's waits case
// (20k timers, 5k fs/promises reads), init fires 35k times for them (a readFile is three FSREQPROMISE, a
// FILEHANDLE and a FILEHANDLECLOSEREQ) and hook plus capture, under Node's internals, cost ~7.7 us each,
// against ~4 us for a capture in a wrapper. Deno fires init only for Timeout/TickObject/TCPWRAP and Bun not
// usefully, so wrappers are the one route that works alike everywhere.
//
// Rules the wrappers keep: arguments, `this`, return values (the same Timeout object, the same request), thrown
// errors and properties (name, length, util.promisify.custom) pass through; the tracker's own code never
// throws into the program (every step is guarded); nested wrapped calls made by the runtime itself record
// nothing. The one visible difference: a wrapped promise (fs/promises, fetch) is a derived promise that settles
// one microtask after the runtime's (the original is observed without being marked handled differently).
//
// Stacks are captured and interned as each wait starts (runtimes/awaits/wait-stacks.ts) and resolved into the
// session's own frames at stop (resolveWaits), with the identity the sampler gives functions (definition
// positions, source-mapped), async callers included.
import { createRequire } from "node:module";
import { createFunctionLocator, type FunctionLocator } from "../../session/source/function-locator.ts";
import { createSourceMapper, type SourceMapper } from "../../session/source/sourcemaps.ts";
import { FrameInterner, StackInterner } from "../../session/frames.ts";
import type { FrameInfo, FrameKind, Session, WaitTable } from "../../session/types.ts";
import { type ContextLog, type ContextSwitches, type ContextWatch, currentContext, enterProfiledContext, separateContexts, watchContextSwitches } from "./contexts.ts";
import { type RawSite, type StackMode, WaitStacks } from "./wait-stacks.ts";

export { parseStackString, type RawSite } from "./wait-stacks.ts";

/** A clock in the sampler's own unit; the sampler converts to session microseconds at stop. */
export type Clock = () => number;

/** What a tracker recorded: waits in order of start, times on its clock; stacks leaf -> root. */
export interface RecordedWaits {
  start: number[];
  end: number[];
  /** Index into stacks, or -1 (unknown). */
  stack: number[];
  stacks: RawSite[][];
  /** Contexts tracked (strict mode, or a ContextLog): per wait, the context that started it (runtimes/awaits/contexts.ts). */
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

type Runtime = "node" | "deno" | "bun";
function runtimeName(): Runtime {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  return g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";
}

const TS_FILE_RE = /\.(?:[cm]?ts|tsx)$/;

const requireHere = createRequire(import.meta.url);
function tryRequire(id: string): any {
  try {
    return requireHere(id);
  } catch {
    return undefined;
  }
}

/** How each runtime's stacks are cheapest to read (runtimes/awaits/wait-stacks.ts). */
function stackMode(runtime: Runtime): StackMode {
  return runtime === "deno" ? "deferred" : runtime === "bun" ? "text" : "sites";
}

/** Only one tracker at a time wraps the functions; a second concurrent tracker records nothing. */
let active: Recorder | null = null;

/** The waits, one entry per wait in each array (start and end on the tracker's clock; end NaN while pending,
 * -Infinity for a wait that did not happen), with their stacks (WaitStacks references) taken as they start. */
class Recorder {
  readonly start: number[] = [];
  readonly end: number[] = [];
  readonly stack: number[] = [];
  /** Contexts tracked only: per wait, the context that started it. */
  readonly context: number[] = [];
  readonly stacks = new WaitStacks(stackMode(runtimeName()));
  inside = false;
  constructor(
    readonly clock: Clock,
    readonly tracksContexts: boolean,
  ) {}

  /** Starts a wait requested by the caller of `wrapper`; returns its id, or -1. Never throws. */
  begin(wrapper: Function): number {
    try {
      const id = this.start.length;
      this.start.push(this.clock());
      this.end.push(NaN);
      this.stack.push(this.stacks.capture(wrapper));
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
    } catch {}
  }

  finish(id: number): void {
    try {
      if (id >= 0 && id < this.end.length && Number.isNaN(this.end[id])) this.end[id] = this.clock();
      const to = this.forward?.get(id);
      if (to) to[0].finish(to[1]);
    } catch {}
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

// ---- wrapping ----

interface Patch {
  obj: any;
  key: PropertyKey;
  desc: PropertyDescriptor;
  wrapper: unknown;
}

/** Copies name, length and every other own property (util.promisify.custom, fs.read's promisify args). */
function copyProps(from: Function, to: Function): void {
  for (const key of Reflect.ownKeys(from)) {
    if (key === "prototype" || key === "arguments" || key === "caller") continue;
    try {
      const d = Object.getOwnPropertyDescriptor(from, key);
      if (d) Object.defineProperty(to, key, d);
    } catch {}
  }
}

/**
 * Calls `done` at the first of `events` emitted by `emitter` (or, for `handOver`, at the first of them emitted by
 * the emitter that event carries); false when `emitter` cannot be watched. Listeners would change behaviour (an
 * 'error' listener swallows errors, a 'response' one stops Node from dumping an unread response): this watches
 * emit on the instance instead, and steps aside at the end.
 */
function watchEmit(emitter: any, events: string[], handOver: string | undefined, done: () => void): boolean {
  try {
    const emit = emitter?.emit;
    if (typeof emit !== "function" || Object.hasOwn(emitter, "emit")) return false;
    const wrapped = function (this: unknown, event: unknown, carried?: unknown) {
      if (typeof event === "string" && events.includes(event)) {
        try {
          // The prototype's emit as an own property: same behaviour, and unlike delete it keeps the object's
          // fast shape.
          if (emitter.emit === wrapped) emitter.emit = emit;
        } catch {}
        if (event !== handOver || !watchEmit(carried, events, undefined, done)) done();
      }
      return Reflect.apply(emit, this, arguments);
    };
    emitter.emit = wrapped;
    return true;
  } catch {
    return false;
  }
}

class Wrapping {
  readonly patches: Patch[] = [];
  /** One wrapper per original function (net.connect === net.createConnection, setTimeout in two places). */
  private readonly wrappers = new Map<Function, Function>();
  constructor(readonly rec: Recorder) {}

  patch(obj: any, key: PropertyKey, make: (orig: Function) => Function): void {
    try {
      if (obj == null) return;
      const desc = Object.getOwnPropertyDescriptor(obj, key);
      if (!desc || !desc.configurable) return;
      const orig = "value" in desc ? desc.value : desc.get?.call(obj);
      if (typeof orig !== "function") return;
      let wrapper = this.wrappers.get(orig);
      if (!wrapper) {
        wrapper = make(orig);
        copyProps(orig, wrapper);
        this.wrappers.set(orig, wrapper);
      }
      if ("value" in desc && !desc.writable) return;
      Object.defineProperty(obj, key, { value: wrapper, writable: true, configurable: true, enumerable: desc.enumerable });
      this.patches.push({ obj, key, desc, wrapper });
    } catch {}
  }

  restore(): void {
    for (const p of this.patches.reverse()) {
      try {
        // Replaced again by the program since: theirs stays (our wrapper, inside it, records nothing now).
        if (p.obj[p.key] === p.wrapper) Object.defineProperty(p.obj, p.key, p.desc);
      } catch {}
    }
    this.patches.length = 0;
  }

  /** A function whose last argument is a callback; the wait ends when it is called. */
  callback = (orig: Function): Function => {
    const rec = this.rec;
    return function wrapper(this: unknown) {
      const n = arguments.length;
      const cb = n > 0 ? arguments[n - 1] : undefined;
      if (active !== rec || rec.inside || typeof cb !== "function") return Reflect.apply(orig, this, arguments);
      const id = rec.begin(wrapper);
      const args = Array.prototype.slice.call(arguments);
      args[n - 1] = function (this: unknown) {
        rec.finish(id);
        rec.released(id);
        return Reflect.apply(cb, this, arguments);
      };
      rec.inside = true;
      try {
        return Reflect.apply(orig, this, args);
      } catch (err) {
        rec.drop(id);
        throw err;
      } finally {
        rec.inside = false;
      }
    };
  };

  /** A function returning a promise; the wait ends when it settles. */
  promise = (orig: Function): Function => {
    const rec = this.rec;
    return function wrapper(this: unknown) {
      if (active !== rec || rec.inside) return Reflect.apply(orig, this, arguments);
      const id = rec.begin(wrapper);
      let p: any;
      rec.inside = true;
      try {
        p = Reflect.apply(orig, this, arguments);
      } catch (err) {
        rec.drop(id);
        throw err;
      } finally {
        rec.inside = false;
      }
      if (p === null || (typeof p !== "object" && typeof p !== "function") || !(p instanceof Promise)) {
        rec.drop(id);
        return p;
      }
      // A derived promise, so the original's rejection is not marked handled on the program's behalf: an
      // unhandled rejection stays unhandled (on ours, with the same reason).
      return p.then(
        (v: unknown) => {
          rec.finish(id);
          return v;
        },
        (e: unknown) => {
          rec.finish(id);
          throw e;
        },
      );
    };
  };

  /**
   * A function returning an emitter (http request, socket); the wait ends at the first of `events`, or, where
   * that event is `handOver`, at the first of `events` on the emitter it carries (an http response: its body's end).
   */
  emitter = (events: string[], handOver?: string) => (orig: Function): Function => {
    const rec = this.rec;
    return function wrapper(this: unknown) {
      if (active !== rec || rec.inside) return Reflect.apply(orig, this, arguments);
      const id = rec.begin(wrapper);
      let out: any;
      rec.inside = true;
      try {
        out = Reflect.apply(orig, this, arguments);
      } catch (err) {
        rec.drop(id);
        throw err;
      } finally {
        rec.inside = false;
      }
      if (!watchEmit(out, events, handOver, () => rec.finish(id))) rec.drop(id);
      return out;
    };
  };

  /** setTimeout: the same Timeout (or id) comes back; the wait ends when the callback runs. */
  timer = (orig: Function): Function => {
    const rec = this.rec;
    const timers = this.timers;
    return function wrapper(this: unknown, cb: unknown) {
      if (active !== rec || rec.inside || typeof cb !== "function") return Reflect.apply(orig, this, arguments);
      const id = rec.begin(wrapper);
      const args = Array.prototype.slice.call(arguments);
      args[0] = function (this: unknown) {
        rec.finish(id);
        rec.released(id);
        timers.fired(id);
        return Reflect.apply(cb, this, arguments);
      };
      let handle: unknown;
      rec.inside = true;
      try {
        handle = Reflect.apply(orig, this, args);
      } catch (err) {
        rec.drop(id);
        throw err;
      } finally {
        rec.inside = false;
      }
      timers.add(handle, id);
      return handle;
    };
  };

  readonly timers = new PendingTimers();

  /** clearTimeout: a cleared timer was not waited for. */
  clear = (orig: Function): Function => {
    const rec = this.rec;
    const timers = this.timers;
    return function (this: unknown, handle: unknown) {
      if (active === rec && handle != null) {
        try {
          const id = timers.take(handle);
          if (id >= 0) rec.drop(id);
        } catch {}
      }
      return Reflect.apply(orig, this, arguments);
    };
  };
}

/**
 * Timers started and not yet run, by handle (for clearTimeout) and by wait id (for stop's unref check). Object
 * handles go in a WeakMap and ids index an array: a Map holding Node's Timeout objects cost ~1 us a timer in GC
 * (bench/async.ts's waits), the WeakMap and array a tenth of that.
 */
class PendingTimers {
  private readonly byObject = new WeakMap<object, number>();
  private readonly byNumber = new Map<unknown, number>();
  /** Wait id -> handle while pending, 0 otherwise (dense: every wait id gets a slot). */
  readonly handles: unknown[] = [];

  add(handle: unknown, id: number): void {
    if (id < 0) return;
    if (typeof handle === "object" && handle !== null) this.byObject.set(handle, id);
    else this.byNumber.set(handle, id);
    while (this.handles.length < id) this.handles.push(0);
    this.handles[id] = handle;
  }

  fired(id: number): void {
    if (id >= 0 && id < this.handles.length) this.handles[id] = 0;
  }

  /** The pending wait of a handle being cleared (forgotten), or -1. */
  take(handle: unknown): number {
    let id = typeof handle === "object" && handle !== null ? this.byObject.get(handle) : this.byNumber.get(handle);
    if (id === undefined && (typeof handle === "number" || typeof handle === "string")) {
      // Node and Bun timers cleared by their number: find it among the pending objects (converting one calls
      // its Symbol.toPrimitive, which Node makes register the timer: only when the program clears by number).
      for (let i = 0; i < this.handles.length; i++) {
        const h = this.handles[i];
        if (typeof h === "object" && h !== null && Symbol.toPrimitive in h && String(+(h as any)) === String(handle)) {
          id = i;
          break;
        }
      }
    }
    if (id === undefined || id >= this.handles.length || this.handles[id] === 0) return -1;
    this.handles[id] = 0;
    return id;
  }
}

const FS_CALLBACK = [
  "access", "appendFile", "chmod", "chown", "close", "copyFile", "cp", "fchmod", "fchown", "fdatasync", "fstat",
  "fsync", "ftruncate", "futimes", "lchown", "link", "lstat", "lutimes", "mkdir", "mkdtemp", "open", "opendir",
  "read", "readdir", "readFile", "readlink", "readv", "realpath", "rename", "rm", "rmdir", "stat", "statfs",
  "symlink", "truncate", "unlink", "utimes", "write", "writeFile", "writev",
];
const FS_PROMISES = [
  "access", "appendFile", "chmod", "chown", "copyFile", "cp", "lchown", "link", "lstat", "lutimes", "mkdir",
  "mkdtemp", "open", "opendir", "readdir", "readFile", "readlink", "realpath", "rename", "rm", "rmdir", "stat",
  "statfs", "symlink", "truncate", "unlink", "utimes", "writeFile",
];
const DENO_PROMISES = [
  "readFile", "readTextFile", "writeFile", "writeTextFile", "stat", "lstat", "open", "remove", "mkdir", "rename",
  "copyFile", "realPath", "readLink", "connect", "connectTls", "resolveDns",
];

export interface WaitTrackerOptions {
  /** Strict async mode: enters a profiled context and records which waits it started (runtimes/awaits/contexts.ts). */
  strict?: boolean;
  /** Several contexts side by side: records every wait's context and every switch into this log. */
  contexts?: ContextLog;
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
  const w = new Wrapping(rec);
  let running = false;
  let result: RecordedWaits | null = null;
  if (active === null) {
    active = rec;
    running = true;
    try {
      install(w, runtime);
    } catch {}
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
      if (running) {
        w.restore();
        syncESM(runtime);
        if (active === rec) active = null;
        running = false;
      }
      const stopAt = safeClock(clock);
      // Timers still pending: a timer the program no longer refs (unref) is not what it waits for.
      const handles = w.timers.handles;
      for (let id = 0; id < handles.length; id++) {
        const h = handles[id];
        if (h === 0) continue;
        try {
          if (h && typeof (h as { hasRef?: () => boolean }).hasRef === "function" && !(h as any).hasRef()) rec.drop(id);
        } catch {}
      }
      const start: number[] = [];
      const end: number[] = [];
      const stack: number[] = [];
      const context: number[] = [];
      for (let i = 0; i < rec.start.length; i++) {
        const e = rec.end[i];
        if (e === -Infinity) continue;
        start.push(rec.start[i]);
        end.push(Number.isNaN(e) ? stopAt : e);
        stack.push(rec.stacks.resolve(rec.stack[i]));
        if (rec.tracksContexts) context.push(rec.context[i]);
      }
      result = { start, end, stack, stacks: rec.stacks.stacks, ...(switched ? { context, switches: switched, profiled, log } : {}) };
      return result;
    },
  };
}

function safeClock(clock: Clock): number {
  try {
    return clock();
  } catch {
    return NaN;
  }
}

/** Node: ES module named imports of builtins (import { readFile } from "node:fs") follow the CJS exports. */
function syncESM(runtime: Runtime): void {
  if (runtime !== "node") return;
  try {
    (tryRequire("node:module") as { syncBuiltinESMExports?: () => void })?.syncBuiltinESMExports?.();
  } catch {}
}

function install(w: Wrapping, runtime: Runtime): void {
  const g = globalThis as any;
  // timers/promises first: Node's setTimeout[util.promisify.custom] is a getter that reads this export, so the
  // promisified setTimeout is tracked too.
  const timersPromises = tryRequire("node:timers/promises");
  w.patch(timersPromises, "setTimeout", w.promise);
  const timers = tryRequire("node:timers");
  w.patch(g, "setTimeout", w.timer);
  w.patch(timers, "setTimeout", w.timer);
  w.patch(g, "clearTimeout", w.clear);
  w.patch(timers, "clearTimeout", w.clear);
  w.patch(g, "fetch", w.promise);

  const fs = tryRequire("node:fs");
  for (const k of FS_CALLBACK) w.patch(fs, k, w.callback);
  const fsp = tryRequire("node:fs/promises");
  for (const k of FS_PROMISES) w.patch(fsp, k, w.promise);
  if (fs?.promises && fs.promises !== fsp) for (const k of FS_PROMISES) w.patch(fs.promises, k, w.promise);

  // A request's wait ends with its response's body ('end'), or an error or close on either.
  const response = w.emitter(["response", "end", "error", "close", "abort", "aborted"], "response");
  for (const id of ["node:http", "node:https"]) {
    const m = tryRequire(id);
    w.patch(m, "request", response);
    w.patch(m, "get", response);
  }
  const connected = w.emitter(["connect", "secureConnect", "error", "close"]);
  const net = tryRequire("node:net");
  w.patch(net, "connect", connected);
  w.patch(net, "createConnection", connected);
  w.patch(tryRequire("node:tls"), "connect", connected);
  const dns = tryRequire("node:dns");
  w.patch(dns, "lookup", w.callback);
  w.patch(dns?.promises, "lookup", w.promise);

  if (runtime === "deno") for (const k of DENO_PROMISES) w.patch(g.Deno, k, w.promise);
  if (runtime === "bun") w.patch(g.Bun, "sleep", w.promise);
  syncESM(runtime);
}

// ---- resolution into the session's tables ----

export interface ResolveOptions {
  /** A tracker time -> session microseconds. */
  toSession: (t: number) => number;
  /** "generated": positions are in the JavaScript that ran (Node with our loader): source-map them first. */
  positions: "generated" | "source";
  /** Source mapper for "generated" (default: session/source/sourcemaps.ts). */
  mapper?: SourceMapper;
  /** "js-only": find functions with session/source/function-locator.ts in JavaScript files only (Deno). Default "all". */
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
      else if (at) frame = { name, file: pos.file, line: at.line, col: at.col, kind };
      if (frame) {
        id = frameTable.find(frame);
        if (id < 0) {
          const near = byLine(frame.name, frame.file, frame.line, true);
          id = near >= 0 ? near : internFrame(frame);
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
