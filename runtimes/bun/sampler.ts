// The Bun sampler: JavaScriptCore's sampling profiler through bun:jsc. startSamplingProfiler(dir, intervalUs)
// starts it (or resumes it, at a new interval); samplingProfilerStackTraces() drains the traces taken since the
// last call, each with a monotonic timestamp (seconds) and full-depth frames carrying their CURRENT position.
// Frames become functions by their definition position (session/source/function-locator.ts), so trees match Node's and
// Deno's. JSC takes no samples while the thread is idle: idle samples are placed where the kernel says the thread
// slept (runtimes/bun/runnable.ts); where it cannot say, idle is a gap, turned into idle time by meta.gapCap.
//
// bun:jsc exists only on Bun and every runtime imports this file: it is required inside the functions.
import { createRequire } from "node:module";
import { monotonicMinusPerformanceNow } from "./clock.ts";
import { createFunctionLocator, type FunctionLocator } from "../../session/source/function-locator.ts";
import { originalName, recordedShifts } from "../../session/source/sourcemaps.ts";
import { MIN_INTERVAL_US, SampleState } from "../../session/types.ts";
import { captureCallers, type RawCallSite } from "../shared/cpuprofile.ts";
import { callerNames, findStartStack } from "../shared/start-stack.ts";
import type { FrameInfo, FrameKind, Session, SessionChunk, SessionMeta } from "../../session/types.ts";
import { SessionChunker } from "../shared/chunker.ts";
import { Column, FrameInterner, StackInterner, TRUNCATED_FRAME } from "../../session/frames.ts";
import type { Sampler, SamplerOptions } from "../shared/sampler.ts";
import { isTsprofileFile, isTsprofileWork } from "../../session/root.ts";
import { resolveWaits, waitTrackerFor } from "../awaits/tracker.ts";
import { restampEarlySamples } from "./early-stamps.ts";
import { IdleTimeline, type Row, type SampleRows, watchRunnable } from "./runnable.ts";

interface JscFrame {
  sourceID: number;
  name: string;
  location: string;
  sourceURL?: string;
  line: number;
  column: number;
  category: string;
  flags: number;
}
interface JscTrace {
  timestamp: number;
  frames: JscFrame[];
}
interface JscTraces {
  interval: number;
  traces: JscTrace[];
}
interface Jsc {
  startSamplingProfiler(directory?: string, intervalUs?: number): void;
  samplingProfilerStackTraces(): JscTraces;
  profile?(fn: () => void, intervalUs?: number): unknown;
}

/** JSC's "no position" (an unsigned -1). */
const NO_POSITION = 4294967295;

/**
 * JSC runs the part of an async function before its first await under a wrapper frame: same name and file as
 * the body's frame right below it, but its own CodeBlock (the hash before the first ':' of location). Direct
 * recursion repeats the same CodeBlock, so it is kept.
 */
function isAsyncWrapper(caller: JscFrame, callee: JscFrame): boolean {
  if (caller.name !== callee.name || caller.sourceURL !== callee.sourceURL || !caller.name) return false;
  const hash = (f: JscFrame) => (f.location ?? "").split(":", 1)[0];
  return hash(caller) !== "" && hash(caller) !== hash(callee);
}

/**
 * The longest gap credited to the sample before it. With no idle samples, a gap is either the thread waiting
 * (idle) or running where JSC cannot sample: GC pauses and starvation of the sampling thread. Measured on
 * bench/workload.mjs (2-core VM, 10 runs each at 1 ms and 100 us): while running, gaps reached p99 3-9 ms and
 * at most 9-19 ms (two outliers of 35-52 ms); a 20 ms cap cut 0.00% of running time in every run, 10 ms cut
 * up to 0.18%. So 20 ms plus the interval's own spacing: a wait longer than that is idle after its first ~20 ms.
 */
export function bunGapCap(interval: number): number {
  return 20_000 + 2 * Math.round(interval);
}

let jscModule: Jsc | null = null;
function jsc(): Jsc {
  return (jscModule ??= createRequire(import.meta.url)("bun:jsc") as Jsc);
}

// ---- the shared drain: JSC has one profiler per VM; every running sampler sees every trace ----

interface Listener {
  take(traces: JscTrace[], cut: Uint8Array, interval: number, drainStart: number, drainEnd: number): void;
}
const listeners = new Set<Listener>();
let timer: ReturnType<typeof setInterval> | null = null;
let running = false;

/** Drains JSC's buffer into every listening sampler; returns what it drained. */
function drain(): JscTrace[] {
  if (!running) return [];
  const before = performance.now();
  const out = jsc().samplingProfilerStackTraces();
  const after = performance.now();
  // Judged once, in order, for every sampler: whether a trace was cut depends on the ones before it.
  const cut = new Uint8Array(out.traces.length);
  for (let i = 0; i < out.traces.length; i++) cut[i] = wasCut(out.traces[i].frames.length) ? 1 : 0;
  for (const l of listeners) l.take(out.traces, cut, out.interval, before, after);
  return out.traces;
}

/**
 * JSC's sampler walks a stack into a buffer of 256 frames, which grows by a quarter (rounded down) after a walk
 * ran out of room: the sample that ran out keeps only its innermost frames, as many as the buffer held, and hangs
 * them from the root; the next ones are whole. Measured on a 1000-deep recursion: one cut sample each of 256,
 * 320, 400, 500, 625, 781 and 976 frames, then whole ones of 1003. So a trace exactly one of those sizes long, and
 * longer than every trace before it (a longer one proves the buffer has grown past it), was cut.
 */
const JSC_FIRST_BUFFER = 256;
let longestTrace = 0;
function wasCut(frames: number): boolean {
  if (frames <= longestTrace) return false;
  longestTrace = frames;
  let size = JSC_FIRST_BUFFER;
  while (size < frames) size = Math.floor(size * 1.25);
  return size === frames;
}

// Drained periodically so memory stays bounded in a long run; unref'd so it never keeps the program alive.
const DRAIN_MS = 200;

function attach(l: Listener, interval: number): void {
  if (running) drain(); // traces of another sampler's session, before this one began
  jsc().startSamplingProfiler(undefined, Math.round(interval)); // (re)starts or resumes at this interval
  running = true;
  listeners.add(l);
  if (!timer) {
    timer = setInterval(drain, DRAIN_MS);
    (timer as { unref?: () => void }).unref?.();
  }
}

function detach(l: Listener): void {
  drain();
  listeners.delete(l);
  if (listeners.size > 0) return;
  if (timer) clearInterval(timer);
  timer = null;
  // No stop API: profile() pauses the profiler when its function returns (and clears its data, already
  // drained), so an idle profiler costs nothing. Without it, later traces pile up until the next start.
  const j = jsc();
  if (typeof j.profile === "function") {
    try {
      j.profile(() => {});
      running = false;
    } catch {
      // Still running: the next start resumes it, and drains what piled up first (attach).
    }
  }
}

// ---- the sampler ----

export function startBunSampler(options: SamplerOptions): Sampler {
  const interval = options.interval;
  if (typeof interval !== "number" || !Number.isFinite(interval) || interval < MIN_INTERVAL_US) {
    throw new RangeError(
      `tsprofile: sampling interval must be at least ${MIN_INTERVAL_US} microseconds (got ${interval})`,
    );
  }
  const callers = options.startStack === false ? [] : captureCallers();
  const rec = new Recorder();
  let realInterval = interval;
  const listener: Listener = {
    take(traces, cut, intervalSec, drainStart, drainEnd) {
      if (intervalSec > 0) realInterval = Math.round(intervalSec * 1e6);
      rec.add(traces, drainStart, drainEnd, cut);
    },
  };
  rec.intervalHint = interval;
  attach(listener, interval);
  calibrate(rec);
  // Where the thread slept, read by a helper thread every interval (1-10 ms): the session is then idleSampled.
  const stepMs = Math.min(Math.max(interval / 1000, 1), 10);
  const watch = watchRunnable(stepMs);
  if (watch) rec.idle = new IdleTimeline(watch, (perfMs) => Math.round((perfMs - rec.startPerf) * 1000));
  // The session begins once tsprofile's own start is over: installing the wait tracker loads node:http and the
  // other modules it wraps (18 ms on Bun), which showed as leading idle.
  const tracker = waitTrackerFor(options, () => performance.now());
  const startTime = Date.now();
  const cpuStart = process.cpuUsage();
  rec.startPerf = performance.now();
  let active = true;
  let chunker: SessionChunker | null = null;

  return {
    get isRunning() {
      return active;
    },
    stop(meta = {}) {
      if (!active) throw new Error("tsprofile: the sampler was already stopped");
      active = false;
      const waits = tracker?.stop();
      const stopPerf = performance.now();
      const cpu = process.cpuUsage(cpuStart);
      detach(listener);
      watch?.stop(); // its readings so far are taken below
      const session = rec.session({
        stopPerf,
        startTime,
        cpuTime: cpu.user + cpu.system,
        interval: realInterval,
        program: meta.program ?? process.argv.slice(1).join(" "),
        callers,
      });
      // After drain(): the rest, on the chunks' ids (runtimes/index.ts, Sampler.stop).
      const whole = chunker ? chunker.rest((chunker.add(session, 0), session.meta)) : session;
      // Bun's stack strings carry .ts positions, as the sampler's frames do.
      if (waits) {
        resolveWaits(whole, waits, { toSession: (t) => (t - rec.startPerf) * 1000, positions: "source" });
        restampEarlySamples(whole, realInterval); // the samples of streamed chunks were written as stamped
      }
      return whole;
    },
    // Streaming: what was recorded since the last drain, converted and forgotten (runtimes/shared/chunker.ts).
    drain(): SessionChunk {
      if (!active) throw new Error("tsprofile: the sampler was already stopped");
      drain();
      const piece = rec.session({
        stopPerf: Infinity,
        startTime,
        cpuTime: -1,
        interval: realInterval,
        program: "",
        callers: chunker ? [] : callers,
      });
      rec.clearSamples();
      (chunker ??= new SessionChunker()).add(piece, 0);
      return chunker.take();
    },
    meta(m = {}): SessionMeta {
      return {
        startTime,
        duration: Math.max(0, Math.round((performance.now() - rec.startPerf) * 1000)),
        cpuTime: -1,
        interval: realInterval,
        gapCap: bunGapCap(realInterval),
        idleSampled: watch !== null, // JSC takes no idle samples: placed from the kernel's account, or a gap
        ...(watch ? { runningGap: "previous" as const } : {}), // JSC's silences: the code before them (SPEC.md §1)
        program: m.program ?? process.argv.slice(1).join(" "),
        cwd: process.cwd(),
        runtime: `bun ${(process.versions as { bun?: string }).bun ?? "?"}`,
        startStack: [],
      };
    },
  };
}

/**
 * Finds the offset between JSC's clock (trace timestamps) and performance.now(): both are monotonic, but JSC's
 * counts from boot and performance.now() from process start. Read exactly where bun:ffi reaches clock_gettime
 * (runtimes/bun/clock.ts); else polls until the first trace lands: it was taken before this poll ended, and (less
 * surely: traces become visible late) after the last empty poll began. Bounded; the drains' bounds
 * (Recorder.add) are the fallback.
 */
function calibrate(rec: Recorder): void {
  const exact = monotonicMinusPerformanceNow();
  if (exact !== null) {
    rec.setOffset(exact, exact, true);
    return;
  }
  const limit = performance.now() + 20 + (5 * rec.intervalHint) / 1000;
  let prev = performance.now();
  for (;;) {
    const traces = drain(); // other running samplers keep theirs; this one's session starts after them
    const now = performance.now();
    if (traces.length > 0) {
      // Every trace was taken after the previous poll began and before this one ended.
      rec.setOffset(traces[traces.length - 1].timestamp * 1000 - now, traces[0].timestamp * 1000 - prev);
      return;
    }
    if (now > limit) return;
    prev = now;
  }
}

interface SessionOptions {
  stopPerf: number;
  startTime: number;
  cpuTime: number;
  interval: number;
  program: string;
  callers: RawCallSite[];
}

interface RawFrame {
  name: string;
  file: string;
  line: number;
  col: number;
  kind: FrameKind;
  own: boolean;
  /** The program's own code (not tsprofile's nor its dependencies'). */
  program: boolean;
}

/** Collects traces as raw frames (by reported position) and a stack prefix tree; converts at stop. */
export class Recorder {
  intervalHint = 1000;
  private locator: FunctionLocator | null = null;
  startPerf = Infinity;
  /** JSC ms minus performance.now() ms: bounds from calibration and drains. */
  private offLow = -Infinity;
  private offHigh = Infinity;
  private calibrated = false;
  /** The offset was read from the clocks themselves: the drains' bounds cannot improve it. */
  private exact = false;
  readonly rawFrames: RawFrame[] = [];
  /** Raw frames some stack holds (the others were seen only in tsprofile's own work: never located). */
  private readonly inStacks = new Set<number>();
  private readonly byPosition = new Map<number, Map<number, number>>();
  private readonly byName = new Map<string, number>();
  /** Stacks of raw frames (rawFrames ids). */
  readonly stacks = new StackInterner(1024);
  readonly sampleStack = new Column(new Int32Array(4096));
  readonly sampleMono = new Column(new Float64Array(4096)); // JSC ms
  readonly sampleOwn = new Column(new Uint8Array(4096));

  setOffset(low: number, high: number, exact = false): void {
    this.offLow = low;
    this.offHigh = high;
    this.calibrated = true;
    this.exact = exact;
  }

  private offset(): number {
    if (this.calibrated) return (this.offLow + this.offHigh) / 2;
    if (Number.isFinite(this.offLow) && Number.isFinite(this.offHigh)) return Math.min(this.offLow, this.offHigh);
    return Number.isFinite(this.offLow) ? this.offLow : 0;
  }

  /** `cut`: per trace, 1 when JSC cut it short (wasCut). */
  add(traces: JscTrace[], drainStart: number, drainEnd: number, cut?: Uint8Array): void {
    if (traces.length === 0) return;
    if (!this.exact) this.narrowOffset(traces, drainStart, drainEnd);
    if (this.startPerf === Infinity) return; // calibration: before the session
    for (let i = 0; i < traces.length; i++) this.addTrace(traces[i], traces[i].timestamp * 1000, cut?.[i] === 1);
  }

  private narrowOffset(traces: JscTrace[], drainStart: number, drainEnd: number): void {
    // Fallback clock bounds: a drained trace was taken before the drain ended, and after the previous drain
    // began (so after the one before this, for the first trace of this drain).
    this.offLow = Math.max(this.offLow, traces[traces.length - 1].timestamp * 1000 - drainEnd);
    this.offHigh = Math.min(this.offHigh, traces[0].timestamp * 1000 - this.lastDrainStart);
    this.lastDrainStart = drainStart;
  }
  private lastDrainStart = -Infinity;

  /** Forgets the samples (after a streaming drain converted them); frames and stacks stay. */
  clearSamples(): void {
    this.sampleStack.length = 0;
    this.sampleMono.length = 0;
    this.sampleOwn.length = 0;
  }

  private addTrace(t: JscTrace, mono: number, cut: boolean): void {
    const frames = t.frames;
    // What JSC kept of a cut stack hangs under the one [truncated] root (session/frames.ts), as V8's does.
    let stack = cut ? this.stacks.stack(-1, this.truncatedFrame()) : -1;
    let own = 0;
    // Root first; the profiler's own frames are left out, and what they call stays tsprofile's (the sample is
    // charged to tsprofile's caller) until the program's own code is called back (runtimes/shared/cpuprofile.ts).
    for (let i = frames.length - 1; i >= 0; i--) {
      if (i > 0 && isAsyncWrapper(frames[i], frames[i - 1])) continue;
      const raw = this.rawFrame(frames[i]);
      const f = this.rawFrames[raw];
      if (f.own) own = 1;
      else if (!own || f.program) {
        own = 0;
        stack = this.stacks.stack(stack, raw);
        this.inStacks.add(raw);
      }
    }
    this.sampleStack.push(stack);
    this.sampleMono.push(mono);
    this.sampleOwn.push(own);
  }

  private truncated = -1;
  private truncatedFrame(): number {
    if (this.truncated < 0) {
      this.truncated = this.rawFrames.length;
      this.rawFrames.push({ ...TRUNCATED_FRAME, own: false, program: false });
      this.inStacks.add(this.truncated);
    }
    return this.truncated;
  }

  private rawFrame(f: JscFrame): number {
    const url = f.sourceURL ?? "";
    const line = f.line;
    const col = f.column;
    if (url && line !== NO_POSITION && line > 0 && line < 2 ** 28 && col >= 0 && col < 2 ** 24) {
      // One function per reported position: keyed by it (CodeBlock hashes are content hashes: functions with
      // the same source text share one, so they cannot tell two such functions apart).
      let perSource = this.byPosition.get(f.sourceID);
      if (!perSource) this.byPosition.set(f.sourceID, perSource = new Map());
      const key = line * 2 ** 24 + col;
      let id = perSource.get(key);
      if (id === undefined) {
        id = this.newFrame(f.name, url, line, col, f);
        perSource.set(key, id);
      }
      return id;
    }
    const key = `${f.name}\u0000${url}\u0000${f.flags}\u0000${f.category}`;
    let id = this.byName.get(key);
    if (id === undefined) {
      id = this.newFrame(f.name, url, 0, 0, f);
      this.byName.set(key, id);
    }
    return id;
  }

  private newFrame(name: string, url: string, line: number, col: number, f: JscFrame): number {
    const file = url;
    // No source URL: a JSC builtin written in JavaScript (flags 1: Array.prototype.map, ...) is the runtime's
    // own code, like V8's builtins (which never show); a host function (now, JSON.parse) is native.
    let kind: FrameKind = "js";
    if (!url) kind = f.flags & 1 || f.category !== "Unknown Executable" ? "runtime" : "native";
    else if (/^(?:bun:|builtin:|internal:|node:)/.test(url)) kind = "runtime";
    const id = this.rawFrames.length;
    const own = kind === "js" && isTsprofileFile(file);
    this.rawFrames.push({ name, file, line, col, kind, own, program: kind === "js" && !isTsprofileWork(file) });
    return id;
  }

  session(o: SessionOptions): Session {
    const off = this.offset();
    const duration = Math.max(0, Math.round((o.stopPerf - this.startPerf) * 1000));
    const { frames, map } = this.resolveFrames();

    const n = this.sampleStack.length;
    const stack = new Int32Array(n);
    const time = new Float64Array(n);
    const state = new Uint8Array(n);
    const own = new Uint8Array(n);
    let kept = 0;
    let last = 0;
    const stacks = this.stacks;
    const hasJs = new Uint8Array(stacks.length); // a stack with some JavaScript frame of the program
    for (let i = 0; i < stacks.length; i++) {
      const p = stacks.parentAt(i);
      hasJs[i] = (p >= 0 && hasJs[p]) || frames[map[stacks.frameAt(i)]].kind === "js" ? 1 : 0;
    }
    for (let i = 0; i < n; i++) {
      const t = Math.round((this.sampleMono.data[i] - off - this.startPerf) * 1000);
      if (t < 0) continue;
      if (t > duration) break;
      last = Math.max(last, t);
      const s = this.sampleStack.data[i];
      stack[kept] = s;
      time[kept] = last;
      // A sample inside tsprofile with no program code under it (the drain timer) is not the program running.
      state[kept] = this.sampleOwn.data[i] && (s < 0 || !hasJs[s]) ? SampleState.idle : SampleState.js;
      if (state[kept] === SampleState.idle) stack[kept] = -1;
      own[kept] = this.sampleOwn.data[i];
      kept++;
    }
    // The samples taken while stop() itself ran end the session: they are cut, not charged to the program.
    // The drain timer's own samples (made idle above) are the program waiting, and stay.
    let end = kept;
    while (end > 0 && own[end - 1] && state[end - 1] !== SampleState.idle) end--;
    const finalDuration = end < kept ? time[end] : Math.max(duration, last);

    const { parent, frame: frameOf } = stacks.tables();
    for (let i = 0; i < frameOf.length; i++) frameOf[i] = map[frameOf[i]];
    const samples = this.idle
      ? this.withIdle(stack.subarray(0, end), time.subarray(0, end), state.subarray(0, end), o, finalDuration)
      : { stack: stack.slice(0, end), time: time.slice(0, end), state: state.slice(0, end) };

    return {
      version: 1,
      meta: {
        startTime: o.startTime,
        duration: finalDuration,
        cpuTime: o.cpuTime,
        interval: o.interval,
        gapCap: bunGapCap(o.interval),
        idleSampled: this.idle !== null, // idle samples placed from the kernel's account (runnable.ts)
        ...(this.idle ? { runningGap: "previous" as const } : {}), // JSC's silences: the code before them (SPEC.md §1)
        program: o.program,
        cwd: process.cwd(),
        runtime: `bun ${(process.versions as { bun?: string }).bun ?? "?"}`,
        startStack: mapStartStack(o.callers, frames, parent, frameOf),
      },
      frames,
      stacks: { parent, frame: frameOf },
      samples,
    };
  }

  /** Where the thread was idle and when it woke (runnable.ts), between every two samples, and after the last. */
  idle: IdleTimeline | null = null;
  /** The last sample, of an earlier piece of a stream too: the silence after it is judged with the next. */
  private judged: Row | null = null;

  private withIdle(
    stack: Int32Array,
    time: Float64Array,
    state: Uint8Array,
    o: SessionOptions,
    duration: number,
  ): Session["samples"] {
    const idle = this.idle!;
    idle.update();
    const out: SampleRows = { stack: [], time: [], state: [] };
    const gapCap = bunGapCap(o.interval);
    for (let i = 0; i < time.length; i++) {
      const row = { stack: stack[i], time: time[i], state: state[i] };
      if (this.judged) idle.fill(out, this.judged, row, 0, gapCap, SampleState.idle);
      out.stack.push(row.stack);
      out.time.push(row.time);
      out.state.push(row.state);
      this.judged = row;
    }
    // The silence after the last sample, to the end of the session (a stream's drain judges it with the next).
    if (o.stopPerf !== Infinity && this.judged) idle.fill(out, this.judged, null, duration, gapCap, SampleState.idle);
    return { stack: Int32Array.from(out.stack), time: Float64Array.from(out.time), state: Uint8Array.from(out.state) };
  }

  /** Raw frames (reported positions) to functions (definition positions); equal functions become one frame. */
  private resolveFrames(): { frames: FrameInfo[]; map: Uint32Array } {
    // Kept across the drains of a stream: the locator parses each file once.
    const locator: FunctionLocator = (this.locator ??= createFunctionLocator());
    const table = new FrameInterner();
    const map = new Uint32Array(this.rawFrames.length);
    const located = new Map<string, FrameInfo>(); // file + name -> a located frame, for unplaced ones
    const pending: number[] = [];
    for (let r = 0; r < this.rawFrames.length; r++) {
      const raw = this.rawFrames[r];
      if (raw.own) continue; // tsprofile's own frames: no stack holds them (addTrace stops there)
      if (raw.kind === "js" && raw.line === 0) {
        pending.push(r);
        continue;
      }
      // Frames seen only under tsprofile's own (acorn parsing as the await instrumentation loads a file) are in no
      // stack: not worth locating (acorn.js alone took 100 ms of a stop).
      if (!this.inStacks.has(r)) continue;
      const f = convertFrame(raw, locator);
      map[r] = table.frame(f);
      if (raw.kind === "js") located.set(`${raw.file}\u0000${f.name}`, f);
    }
    // A frame JSC could not place (a function's entry, before its code block runs): the same function where
    // it was placed, if one of that name in that file was.
    for (const r of pending) {
      const raw = this.rawFrames[r];
      const name = raw.name === "" ? "(anonymous)" : raw.name;
      const unplaced: FrameInfo = { name, file: raw.file, line: 0, col: 0, kind: "js" };
      map[r] = table.frame(located.get(`${raw.file}\u0000${name}`) ?? unplaced);
    }
    return { frames: table.frames, map };
  }
}

function convertFrame(raw: RawFrame, locator: FunctionLocator): FrameInfo {
  const name = raw.name;
  if (raw.kind !== "js") {
    return { name: name || "(anonymous)", file: raw.file, line: raw.line, col: raw.col, kind: raw.kind };
  }
  // JSC names module top-level code "(module)"; V8 "" at the file's start: both are <module> at 1:1.
  if (name === "(module)") return { name: "<module>", file: raw.file, line: 1, col: 1, kind: "js" };
  // In a file whose awaits were instrumented as it loaded (runtimes/awaits/load-hooks.mjs), columns as written.
  const col = recordedShifts(raw.file)?.unshift(raw.line, raw.col) ?? raw.col;
  const at = locator.locate(raw.file, raw.line, col);
  if (at === "module" && name === "") return { name: "<module>", file: raw.file, line: 1, col: 1, kind: "js" };
  // A library's function is where its own source map puts it (at.file), as on Node: the same frame there.
  const pos = at && at !== "module" ? at : { line: raw.line, col };
  const file = at && at !== "module" && at.file ? at.file : raw.file;
  const named = originalName(name, at && at !== "module" ? at.name : undefined);
  return { name: named, file, line: pos.line, col: pos.col, kind: "js" };
}

// ---- start stack (as the Node sampler does it) ----

/** The captured callers of start() (JSC gives .ts positions already), found in the stack table. */
function mapStartStack(
  callers: RawCallSite[],
  frames: FrameInfo[],
  parent: Int32Array,
  frameOf: Uint32Array,
): number[] {
  const want = callers.map((c) => ({ names: callerNames(c.name), file: c.file, line: c.line }));
  return findStartStack(want, frames, parent, frameOf);
}
