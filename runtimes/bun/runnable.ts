// When the sampled thread was idle, from the kernel's account of it. JSC takes no idle samples, and its sampler
// falls silent for 5-110 ms at a time inside hot loops once they are optimized (measured: 537 ms of silences in a
// 1.04 s CPU-bound run, the thread running for 525 ms of them). A helper thread of ours reads, every millisecond,
// the system call the sampled thread is blocked in (/proc/self/task/<tid>/syscall) and records the spans in which
// it waited in the event loop. The sampler puts explicit idle samples there, as V8 does, and the session is
// idleSampled: a silence between two running samples is running time (core-rs/SPEC.md §1). Linux on x64 and arm64
// only; elsewhere the sampler keeps its gap rule (meta.gapCap).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

/** What the helper thread has learnt since the last take, in performance.now() ms. */
export interface IdleNews {
  /** Where the spans are complete from: the first reading, or later if the program outran the buffer. */
  from: number;
  /** The latest reading: past it nothing is known yet. */
  to: number;
  /** Start and end pairs of the spans closed since the last take, in time order, not overlapping. */
  closed: number[];
  /** The span still open at `to` (its start), or NaN. */
  open: number;
}

export interface RunnableWatch {
  take(): IdleNews;
  stop(): void;
}

// The shared buffer: Int32 [0] stop flag, [1] closed spans written, [2] a version bumped after each reading;
// Float64 [2] first reading, [3] latest reading, [4] the open span's start (NaN: none); spans from Float64 [8].
const SPANS_AT = 8;
const CAPACITY = 1 << 16;

/**
 * The helper thread's body, run from its own source text (it closes over nothing). Each reading takes the system
 * call the thread is blocked in, from /proc: in the event loop's epoll wait it is idle, as V8 means it (Node marks
 * the same wait idle); running, or blocked elsewhere (a sleepSync, a synchronous read, JSC's sampler suspending it
 * to walk its stack), it is not. A span of idle runs from between the last reading that found the thread busy and
 * the first that found it idle, to between the last idle one and the next busy one: right to half a step, and an
 * idle shorter than a step is found as often as it is long. (The thread's state in /proc/<tid>/stat reads a
 * thread suspended by the sampler as asleep; schedstat's CPU time is brought up to date only at the kernel's
 * ticks, so 4 ms of a busy loop read as idle.)
 */
function helper(): void {
  const fs = process.getBuiltinModule("node:fs"); // not require(): a bundler would rewrite it
  interface Settings {
    buffer: SharedArrayBuffer;
    path: string;
    everyMs: number;
    idleCalls: number[];
  }
  const watch = (fd: number, { buffer, everyMs, idleCalls }: Settings): void => {
    const ints = new Int32Array(buffer);
    const floats = new Float64Array(buffer);
    const SPANS_AT = 8;
    const capacity = (floats.length - SPANS_AT) >> 1;
    const text = new Uint8Array(32);
    const now = () => performance.timeOrigin + performance.now();
    // "running", or the number of the call it is blocked in followed by its arguments.
    const idle = (): boolean => {
      const n = fs.readSync(fd, text, 0, text.length, 0);
      let call = 0;
      for (let i = 0; i < n && text[i] >= 48 && text[i] <= 57; i++) call = call * 10 + text[i] - 48;
      return text[0] !== 114 && idleCalls.includes(call); // 114: "r"unning
    };
    let at = now();
    floats[2] = floats[3] = at;
    let open = idle() ? at : NaN;
    let written = 0;
    while (Atomics.load(ints, 0) === 0) {
      Atomics.wait(ints, 0, 0, everyMs);
      const t = now();
      const isIdle = idle();
      if (Number.isNaN(open) && isIdle) open = (at + t) / 2;
      else if (!Number.isNaN(open) && !isIdle) {
        const slot = SPANS_AT + 2 * (written % capacity);
        floats[slot] = open;
        floats[slot + 1] = (at + t) / 2;
        Atomics.store(ints, 1, ++written);
        open = NaN;
      }
      at = t;
      floats[3] = t;
      floats[4] = open;
      Atomics.add(ints, 2, 1);
    }
  };
  self.onmessage = (event: MessageEvent) => {
    const settings = event.data as Settings;
    let fd = -1;
    try {
      fd = fs.openSync(settings.path, "r");
      watch(fd, settings);
    } catch {
      // The thread is gone (a worker of the program ended): nothing more to know, and nothing to say.
    } finally {
      if (fd >= 0) fs.closeSync(fd);
      self.close();
    }
  };
}
declare const self: { onmessage: unknown; close(): void };

/** The event loop's waits: epoll_wait, epoll_pwait and epoll_pwait2 (Bun's) by architecture. */
const EPOLL_WAITS: Partial<Record<string, number[]>> = { x64: [232, 281, 441], arm64: [22, 441] };

/** The calling thread's id for /proc: gettid through bun:ffi, else the process id on the main thread. */
function threadId(): number | null {
  try {
    const ffi = createRequire(import.meta.url)("bun:ffi");
    const lib = ffi.dlopen("libc.so.6", { gettid: { args: [], returns: ffi.FFIType.i32 } });
    try {
      return lib.symbols.gettid() as number;
    } finally {
      lib.close();
    }
  } catch {
    const threads = createRequire(import.meta.url)("node:worker_threads") as { isMainThread: boolean };
    return threads.isMainThread ? process.pid : null;
  }
}

/** The Web Worker class as the runtime made it: the program's workers are wrapped (profiled, awaited), ours not. */
const WebWorker = (globalThis as { Worker?: new (url: string) => Worker }).Worker;
interface Worker {
  postMessage(message: unknown): void;
  unref?(): void;
}

/** The helper thread and what it writes; one per JS thread, shared by its samplers (a test runner's, a server's). */
interface Helper {
  ints: Int32Array;
  floats: Float64Array;
  users: number;
  /** Kept a while after its last user stops: the next test's or request's profile starts with it running. */
  linger: ReturnType<typeof setTimeout> | null;
}
let shared: Helper | null = null;
let unavailable = false;
const LINGER_MS = 2000;

function startHelper(everyMs: number): Helper | null {
  const idleCalls = EPOLL_WAITS[process.arch];
  if (process.platform !== "linux" || !WebWorker || !idleCalls) return null;
  const tid = threadId();
  if (tid === null) return null;
  const path = `/proc/self/task/${tid}/syscall`;
  try {
    if (!/^\d+ /.test(readFileSync(path, "latin1"))) return null; // its own read: "0 0x..." on x64
  } catch {
    return null;
  }
  const buffer = new SharedArrayBuffer(8 * (SPANS_AT + 2 * CAPACITY));
  const floats = new Float64Array(buffer);
  floats[4] = NaN;
  try {
    const source = new Blob([`(${helper.toString()})()`], { type: "application/javascript" });
    const worker = new WebWorker(URL.createObjectURL(source));
    worker.unref?.(); // never keeps the program alive (and drops the wait the tracker may have begun)
    worker.postMessage({ buffer, path, everyMs, idleCalls });
  } catch {
    return null;
  }
  return { ints: new Int32Array(buffer), floats, users: 0, linger: null };
}

/** Starts watching the calling thread (every `everyMs`, unless already watched); null where it cannot be. */
export function watchRunnable(everyMs: number): RunnableWatch | null {
  if (unavailable) return null;
  shared ??= startHelper(everyMs);
  const h = shared;
  if (!h) {
    unavailable = true;
    return null;
  }
  if (h.linger) clearTimeout(h.linger);
  h.linger = null;
  h.users++;
  const { ints, floats } = h;
  const origin = performance.timeOrigin;
  let taken = Atomics.load(ints, 1); // spans closed before this watch began are not its concern
  let stopped = false;
  let lostUntil = -Infinity;
  return {
    take() {
      // A consistent reading: the version is the same before and after.
      let from: number, to: number, open: number, closed: number;
      for (;;) {
        const version = Atomics.load(ints, 2);
        from = floats[2];
        to = floats[3];
        open = floats[4];
        closed = Atomics.load(ints, 1);
        if (Atomics.load(ints, 2) === version) break;
      }
      if (from === 0) return { from: Infinity, to: -Infinity, closed: [], open: NaN }; // no reading yet
      const lost = closed - taken > CAPACITY;
      if (lost) taken = closed - CAPACITY + 1; // overwritten: known again from the oldest one kept
      const spans: number[] = [];
      for (; taken < closed; taken++) {
        const slot = SPANS_AT + 2 * (taken % CAPACITY);
        spans.push(floats[slot] - origin, floats[slot + 1] - origin);
      }
      if (lost) lostUntil = spans[0];
      return { from: Math.max(from - origin, lostUntil), to: to - origin, closed: spans, open: open - origin };
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (--h.users > 0) return;
      h.linger = setTimeout(() => {
        if (h.users > 0) return;
        Atomics.store(ints, 0, 1);
        Atomics.notify(ints, 0);
        if (shared === h) shared = null;
      }, LINGER_MS);
      (h.linger as { unref?: () => void }).unref?.();
    },
  };
}

/** Samples as the Bun sampler builds them: session us, in time order. */
export interface SampleRows {
  stack: number[];
  time: number[];
  state: number[];
}

/** A piece of a span shorter than this is left to the samples around it: a span's ends are right to a step. */
const SHORTEST_IDLE_US = 500;

/**
 * The idle spans known so far, on the session's clock (us), and the samples they add: explicit idle samples where
 * the thread slept, so that the session can be idleSampled as V8's are.
 */
export class IdleTimeline {
  /** Closed spans, start and end pairs, from `first` on not yet behind every silence still to judge. */
  private spans: number[] = [];
  private first = 0;
  private open = NaN;
  private from = Infinity;
  private to = -Infinity;

  constructor(private readonly watch: RunnableWatch, private readonly toSession: (perfMs: number) => number) {}

  /** Takes what the helper thread learnt since the last update. */
  update(): void {
    const news = this.watch.take();
    for (const t of news.closed) this.spans.push(this.toSession(t));
    this.open = Number.isNaN(news.open) ? NaN : this.toSession(news.open);
    this.from = this.toSession(news.from);
    this.to = this.toSession(news.to);
  }

  /**
   * Appends to `out` the rows for the silence from `prev` (a sample) to `next`, or to `end` when `next` is null.
   * Each idle span in it becomes an idle sample at its start and, when the thread woke before the next sample, a
   * copy of that sample where it woke: it ran from there, and the next sample's code is the best guess. The thread
   * ran up to a span's start: where that is longer than `gapCap` (which would make the rest idle), a copy of the
   * sample before goes just before it. A silence that starts before the helper's first reading (or in spans lost)
   * keeps the gap rule: past `gapCap` it is idle. Past the latest reading the thread is taken to have run (it runs
   * now, and a helper late by a few ms was starved by running threads, not idle ones). Silences are judged in time
   * order, each once.
   */
  fill(out: SampleRows, prev: Row, next: Row | null, end: number, gapCap: number, idleState: number): void {
    const t0 = prev.time;
    const t1 = next ? next.time : end;
    if (t0 < this.from) {
      if (t1 - t0 > gapCap) push(out, -1, t0 + gapCap, idleState);
      return;
    }
    const spans = this.spans;
    while (this.first < spans.length && spans[this.first + 1] <= t0) this.first += 2;
    let ran = prev; // the last running row: it runs on up to the next span
    const place = (from: number, to: number) => {
      const start = Math.round(Math.max(from, t0));
      const stop = Math.round(Math.min(to, t1));
      if (stop - start < SHORTEST_IDLE_US) return;
      if (start - ran.time > gapCap) push(out, ran.stack, start - 1, ran.state);
      push(out, -1, start, idleState);
      if (next && t1 - stop >= SHORTEST_IDLE_US) {
        push(out, next.stack, stop, next.state);
        ran = { stack: next.stack, time: stop, state: next.state };
      }
    };
    for (let i = this.first; i < spans.length && spans[i] < t1; i += 2) place(spans[i], spans[i + 1]);
    if (this.open < t1) place(this.open, this.to);
    if (this.first > 4096) {
      spans.splice(0, this.first);
      this.first = 0;
    }
  }
}

/** A sample as the Bun sampler holds it: stack id, session us, state. */
export interface Row {
  stack: number;
  time: number;
  state: number;
}

function push(rows: SampleRows, stack: number, time: number, state: number): void {
  rows.stack.push(stack);
  rows.time.push(time);
  rows.state.push(state);
}
