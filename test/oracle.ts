// The TypeScript oracle of the core: a plain, deliberately unoptimised implementation of core-rs/SPEC.md.
// Property tests require the wasm core to produce exactly what this produces, so every step of SPEC.md is its
// own function below, applied in order, on real node objects. Readability wins over speed everywhere.
// Nothing recurses over tree depth (a 10,000-deep stack must work): traversals use explicit stacks.

import { FrameFlag, NO_LIBRARY, NodeFlag, SYNTHETIC_BASE, SyntheticFrame } from "../session/types.ts";
import type {
  CoreDiffOptions,
  CoreProcessOptions,
  DiffTree,
  ProcessedTree,
  SampleTable,
  StackTable,
  WaitTable,
} from "../session/types.ts";

/** A path: frame ids from the root to the leaf (real ids, and synthetic ids >= SYNTHETIC_BASE). */
type Path = readonly number[];

/** Step 1's unit: a weight, its CPU time (SPEC "CPU time"; 0 when unknown) and the path they are charged to. */
interface Entry {
  path: Path;
  w: number;
  cpu: number;
}

/** Step 1's entries before await attribution: where on the timeline each starts, and whether it is idle. */
interface TimedEntry extends Entry {
  at: number;
  idle: boolean;
  /** An idle entry that ends where a sample not in state idle begins: that sample's path (rule 2). */
  wake?: Path;
}

/** A wait after validation: times rounded, the end clipped to the session's end. */
interface Wait {
  start: number;
  end: number;
  stack: number;
}

interface TreeNode {
  frame: number;
  parent: TreeNode | null;
  /** Creation order (step 4) until step 7 sorts them. */
  children: TreeNode[];
  /** Aggregated mode's child lookup (frame -> child), made on first use; timeline mode has none. */
  childByFrame: Map<number, TreeNode> | null;
  time: number;
  selfTime: number;
  awaitTime: number;
  /** Inclusive CPU time (SPEC "CPU time"). */
  cpuTime: number;
  group: number;
  visible: boolean;
}

interface Group {
  root: TreeNode;
  /** Members in pre-order (the group's root first). */
  members: TreeNode[];
  hidden: number;
  libs: number[];
}

const MAX_STATE = 5;

/** The synthetic frame of each non-js SampleState (index = state). */
const STATE_FRAME: readonly number[] = [
  -1, // js: no synthetic frame
  SyntheticFrame.idle,
  SyntheticFrame.gc,
  SyntheticFrame.native,
  SyntheticFrame.await,
  SyntheticFrame.outOfContext,
];

function isReal(frame: number): boolean {
  return frame < SYNTHETIC_BASE;
}

/** Round to the nearest integer, half away from zero (Rust's f64::round). */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

// ---------------------------------------------------------------------------------------------------------------
// Validation (SPEC "Input")

interface ValidInput {
  /** Sample times, rounded. */
  times: number[];
  /** max(duration, last time), rounded. */
  end: number;
  gapCap: number;
  /** meta.idleSampled: a gap between two samples not in state idle is running time (absent: false). */
  idleSampled: boolean;
  /** meta.runningGap "previous": a running gap is wholly sample i's. */
  toPrevious: boolean;
  /** meta.interval, rounded (0 when absent). */
  interval: number;
  /** The waits, in input order; null when asyncMode is disabled or there are none. */
  waits: Wait[] | null;
  /** samples.cpu, rounded; null when the session has none (CPU time unknown). */
  cpu: number[] | null;
}

function fail(message: string): never {
  throw new Error(`tsprofile core: ${message}`);
}

function validate(
  stacks: StackTable,
  samples: SampleTable,
  options: CoreProcessOptions,
  waitTable: WaitTable | undefined,
): ValidInput {
  const frameCount = options.frameFlags.length;
  // Not listed in SPEC "Validation", but nothing is defined without them: the tables' columns must line up.
  if (options.frameLibrary.length !== frameCount) {
    fail(`frameLibrary has ${options.frameLibrary.length} entries for ${frameCount} frames`);
  }
  if (stacks.parent.length !== stacks.frame.length) {
    fail(`stack table columns differ in length (${stacks.parent.length} parents, ${stacks.frame.length} frames)`);
  }
  if (samples.stack.length !== samples.time.length || samples.stack.length !== samples.state.length) {
    fail("sample table columns differ in length");
  }

  const stackCount = stacks.parent.length;
  for (let i = 0; i < stackCount; i++) {
    const parent = stacks.parent[i];
    if (parent >= i || parent < -1) fail(`stack ${i} has parent ${parent}`);
    if (stacks.frame[i] >= frameCount) fail(`stack ${i} has frame ${stacks.frame[i]} of ${frameCount}`);
  }

  const n = samples.stack.length;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const stack = samples.stack[i];
    if (stack < -1 || stack >= stackCount) fail(`sample ${i} has stack ${stack} of ${stackCount}`);
    const t = samples.time[i];
    if (!Number.isFinite(t) || t < 0) fail(`sample ${i} has time ${t}`);
    // Checked on the times as given (before rounding).
    if (i > 0 && t < samples.time[i - 1]) fail(`sample ${i} has time ${t} before ${samples.time[i - 1]}`);
    if (samples.state[i] > MAX_STATE) fail(`sample ${i} has state ${samples.state[i]}`);
    times.push(roundHalfAway(t));
  }
  // SPEC "CPU time": like times, checked as given, then rounded.
  let cpu: number[] | null = null;
  if (samples.cpu !== undefined) {
    if (samples.cpu.length !== n) fail("sample table columns differ in length (cpu)");
    cpu = [];
    for (let i = 0; i < n; i++) {
      const c = samples.cpu[i];
      if (!Number.isFinite(c) || c < 0) fail(`sample ${i} has cpu ${c}`);
      if (i > 0 && c < samples.cpu[i - 1]) fail(`sample ${i} has cpu ${c} before ${samples.cpu[i - 1]}`);
      cpu.push(roundHalfAway(c));
    }
  }

  for (let i = 0; i < options.startStack.length; i++) {
    const f = options.startStack[i];
    if (!Number.isInteger(f) || f < 0 || f >= frameCount) fail(`startStack[${i}] is ${f} of ${frameCount}`);
  }

  // Not listed in SPEC: a duration that is not finite, or a gap cap that is NaN or negative, has no meaning.
  if (!Number.isFinite(options.duration)) fail(`duration is ${options.duration}`);
  if (Number.isNaN(options.gapCap) || options.gapCap < 0) fail(`gapCap is ${options.gapCap}`);

  // Await attribution (SPEC, last section). Not listed in SPEC: an interval that is not a finite time >= 0, or an
  // unknown asyncMode, has no meaning. The waits are validated whatever the mode.
  const interval = options.interval ?? 0;
  if (!Number.isFinite(interval) || interval < 0) fail(`interval is ${interval}`);
  const asyncMode = options.asyncMode ?? "enabled";
  if (asyncMode !== "enabled" && asyncMode !== "strict" && asyncMode !== "disabled") {
    fail(`asyncMode is ${String(asyncMode)}`);
  }
  const raw = waitTable ?? { start: new Float64Array(0), end: new Float64Array(0), stack: new Int32Array(0) };
  if (raw.start.length !== raw.end.length || raw.start.length !== raw.stack.length) {
    fail("wait table columns differ in length");
  }
  for (let i = 0; i < raw.start.length; i++) {
    const [a, b, s] = [raw.start[i], raw.end[i], raw.stack[i]];
    if (!Number.isFinite(a) || a < 0) fail(`wait ${i} has start ${a}`);
    if (!Number.isFinite(b) || b < 0) fail(`wait ${i} has end ${b}`);
    if (b < a) fail(`wait ${i} ends (${b}) before it starts (${a})`);
    // Checked on the times as given, like sample times.
    if (i > 0 && a < raw.start[i - 1]) fail(`wait ${i} starts at ${a}, before ${raw.start[i - 1]}`);
    if (s < -1 || s >= stackCount) fail(`wait ${i} has stack ${s} of ${stackCount}`);
  }

  const duration = roundHalfAway(options.duration);
  const end = n > 0 ? Math.max(duration, times[n - 1]) : duration;
  const gapCap = options.gapCap === Infinity ? Infinity : roundHalfAway(options.gapCap);

  let waits: Wait[] | null = null;
  if (asyncMode !== "disabled" && raw.start.length > 0) {
    waits = Array.from(raw.start, (a, i) => ({
      start: roundHalfAway(a),
      end: Math.min(roundHalfAway(raw.end[i]), end), // clipped to the session's end
      stack: raw.stack[i],
    }));
  }
  const idleSampled = options.idleSampled === true;
  const toPrevious = options.runningGapToPrevious === true;
  return { times, end, gapCap, idleSampled, toPrevious, interval: roundHalfAway(interval), waits, cpu };
}

// ---------------------------------------------------------------------------------------------------------------
// Stack paths

/** The frame path (root -> leaf) of each stack id, computed on demand by walking parents (no recursion). */
class StackPaths {
  private readonly stacks: StackTable;
  private readonly cache = new Map<number, Path>();

  constructor(stacks: StackTable) {
    this.stacks = stacks;
  }

  get(stack: number): Path {
    if (stack === -1) return [];
    let path = this.cache.get(stack);
    if (path === undefined) {
      const reversed: number[] = [];
      for (let s = stack; s !== -1; s = this.stacks.parent[s]) reversed.push(this.stacks.frame[s]);
      path = reversed.reverse();
      this.cache.set(stack, path);
    }
    return path;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Entries: weights and the gap rule

function buildEntries(
  stacks: StackTable,
  samples: SampleTable,
  input: ValidInput,
  frameFlags: Uint8Array,
): TimedEntry[] {
  const { times, end, gapCap, idleSampled, toPrevious, interval, waits, cpu } = input;
  const n = times.length;
  const entries: TimedEntry[] = [];
  if (n === 0) return entries;

  const idlePath: Path = [SyntheticFrame.idle];
  const stackPaths = new StackPaths(stacks);
  // One path object per (stack, state), so that step 2 and 3 can work per unique path.
  const samplePaths = new Map<string, Path>();
  const samplePath = (stack: number, state: number): Path => {
    const key = `${stack}/${state}`;
    let path = samplePaths.get(key);
    if (path === undefined) {
      const frames = stackPaths.get(stack);
      path = state === 0 ? frames : [...frames, STATE_FRAME[state]];
      samplePaths.set(key, path);
    }
    return path;
  };
  const pendingAt = waits === null ? () => false : pendingChecker(waits);

  const isIdle = (i: number): boolean => samples.state[i] === 1;
  // SPEC §1, garbage collection inside running code: a run of bare GC samples (no frames) between two samples
  // that are neither bare GC nor idle takes the frames those two have in common, then [gc].
  const bareGc = (i: number): boolean => samples.stack[i] === -1 && samples.state[i] === 2;
  const gcPath: (Path | undefined)[] = [];
  for (let i = 0; i < n;) {
    if (!bareGc(i)) {
      i++;
      continue;
    }
    let k = i;
    while (k < n && bareGc(k)) k++;
    if (i > 0 && k < n && !isIdle(i - 1) && !isIdle(k)) {
      const a = stackPaths.get(samples.stack[i - 1]);
      const b = stackPaths.get(samples.stack[k]);
      let m = 0;
      while (m < a.length && m < b.length && a[m] === b[m]) m++;
      if (m > 0) {
        const key = `gc/${a.slice(0, m).join(",")}`;
        let path = samplePaths.get(key);
        if (path === undefined) samplePaths.set(key, path = [...a.slice(0, m), SyntheticFrame.gc]);
        for (let j = i; j < k; j++) gcPath[j] = path;
      }
    }
    i = k;
  }
  const logical = waits === null ? null : new LogicalPaths(waits, stackPaths, frameFlags, interval);
  const pathOf = (i: number): Path => {
    const own = gcPath[i] ?? samplePath(samples.stack[i], samples.state[i]);
    return logical === null || isIdle(i) ? own : logical.get(own, times[i]);
  };
  /** Only the runtime's frames (every real one internal, hidden or a builtin; state js, native or gc): judged on the flags. */
  const runtimeOnly = (path: Path): boolean =>
    path.every((f) =>
      f < SYNTHETIC_BASE
        ? (frameFlags[f] & (FrameFlag.internal | FrameFlag.hidden | FrameFlag.builtin)) !== 0
        : f === SyntheticFrame.native || f === SyntheticFrame.gc
    );
  // With waits, a sample of the runtime alone is shared out like an idle one and no running gap begins or ends at
  // it; it stays a wake-up's target and a running sample for rule 1 (SPEC, await attribution).
  const idleLike = (i: number): boolean => isIdle(i) || (waits !== null && runtimeOnly(pathOf(i)));
  /** The path of sample i when it exists and is not idle: what an idle entry ending at t[i] wakes into. */
  const wakeAt = (i: number): Path | undefined => (i < n && !isIdle(i) ? pathOf(i) : undefined);

  // CPU time: the span before the first sample has cpu[0], sample i's span cpu[i + 1] - cpu[i], the last none.
  const cpuOf = (i: number): number => (cpu === null || i + 1 >= n ? 0 : cpu[i + 1] - cpu[i]);
  const leadingCpu = cpu === null ? 0 : cpu[0];
  if (times[0] > 0 || leadingCpu > 0) {
    entries.push({ path: idlePath, w: times[0], cpu: leadingCpu, at: 0, idle: true, wake: wakeAt(0) });
  }
  for (let i = 0; i < n; i++) {
    const t = times[i];
    const dt = (i + 1 < n ? times[i + 1] : end) - t;
    const capped = Math.min(dt, gapCap);
    let w = capped;
    if (waits !== null && interval > 0) {
      // Await attribution, rule 1 (a): a running sample whose thread went idle gets up to the wait it started
      // last; (b) otherwise a pending wait a little later means the program was waiting, not running.
      const wentIdle = (i + 1 < n && idleLike(i + 1)) || w > 2 * interval;
      const start = wentIdle && !isIdle(i) && !pendingAt(t) ? lastStartOfRun(waits, t, w) : undefined;
      if (start !== undefined) w = start - t;
      else if (pendingAt(t + interval) && 2 * interval < w) {
        w = 2 * interval;
        // An idle sample and its gap's remainder are one idle entry for rule 2: a wake-up inside the sample's own
        // entry ends that entry there.
        if (idleLike(i) && wakeAt(i + 1) !== undefined) {
          const e = waits.reduce((m, x) => (x.end >= t && x.end < t + dt ? Math.max(m, x.end) : m), -Infinity);
          if (e !== -Infinity && e < t + w && (idleSampled || t + dt - e <= 4 * interval) && !pendingAt(e)) w = e - t;
        }
      }
    }
    if (idleSampled && i + 1 < n && !idleLike(i) && !idleLike(i + 1) && w === capped) {
      // A running gap (SPEC §1; rule 1 saw no wait): the sampler was starved, the program ran. Sample i keeps up to
      // 2 intervals, the late part goes to sample i + 1's path just before its own entry (runningGap "previous":
      // sample i keeps all of it); nothing is idle, so rules 2 and 3 see no idle entry here.
      const head = toPrevious ? dt : interval > 0 ? Math.min(w, 2 * interval, Math.floor(dt / 2)) : w;
      entries.push({ path: pathOf(i), w: head, cpu: cpuOf(i), at: t, idle: false });
      if (dt > head) entries.push({ path: pathOf(i + 1), w: dt - head, cpu: 0, at: t + head, idle: false });
      continue;
    }
    // Await rule 3: a sample of the runtime alone (no frame of the program's) is shared out like an idle one.
    const idle = idleLike(i);
    entries.push({
      path: pathOf(i),
      w,
      cpu: cpuOf(i),
      at: t,
      idle,
      wake: idle && w === dt ? wakeAt(i + 1) : undefined,
    });
    if (dt - w > 0) entries.push({ path: idlePath, w: dt - w, cpu: 0, at: t + w, idle: true, wake: wakeAt(i + 1) });
  }
  return entries.filter((entry) => entry.w !== 0 || entry.cpu !== 0);
}

/**
 * Async stacks: a sample's path re-rooted under the callers recorded by the wait that last reached JavaScript
 * (largest end <= t, ties: the later in input order), when that wait's stack contains the sample's first
 * frame that is neither internal nor hidden, after a frame of that kind; failing that, the same with the wait that
 * ends first in (t, t + interval] (ties: the earlier in input order).
 */
class LogicalPaths {
  private readonly cache = new Map<string, Path | null>();
  constructor(
    private readonly waits: Wait[],
    private readonly stackPaths: StackPaths,
    private readonly flags: Uint8Array,
    private readonly interval: number,
  ) {}

  get(own: Path, t: number): Path {
    let last = -1;
    let next = -1;
    this.waits.forEach((wait, i) => {
      if (wait.end <= t && (last === -1 || wait.end >= this.waits[last].end)) last = i;
      if (wait.end > t && wait.end <= t + this.interval && (next === -1 || wait.end < this.waits[next].end)) next = i;
    });
    for (const w of [last, next]) {
      const path = w === -1 ? null : this.rerooted(own, this.waits[w].stack);
      if (path) return path;
    }
    return own;
  }

  /** own under the callers of a wait's stack, or null where the rule does not apply. */
  private rerooted(own: Path, stack: number): Path | null {
    const key = `${stack}/${own.join(",")}`;
    let path = this.cache.get(key);
    if (path === undefined) {
      const waited = this.stackPaths.get(stack);
      const shown = (f: number) =>
        f < SYNTHETIC_BASE && (this.flags[f] & (FrameFlag.internal | FrameFlag.hidden)) === 0;
      const u = own.findIndex(shown);
      const k = u === -1 ? -1 : waited.indexOf(own[u]);
      path = k > 0 && waited.slice(0, k).some(shown) ? [...waited.slice(0, k), ...own.slice(u)] : null;
      this.cache.set(key, path);
    }
    return path;
  }
}

/**
 * Rule 1 (a): among the waits starting in (t, t + w), in order of start, the run up to (not including) the first
 * one that starts at or after an end of the run's earlier waits; the start of the run's last wait.
 */
function lastStartOfRun(waits: Wait[], t: number, w: number): number | undefined {
  let last: number | undefined;
  let earliestEnd = Infinity;
  for (const wait of waits) {
    if (wait.start <= t) continue;
    if (wait.start >= t + w || wait.start >= earliestEnd) break;
    last = wait.start;
    earliestEnd = Math.min(earliestEnd, wait.end);
  }
  return last;
}

/**
 * "Is some wait pending at p (start <= p < end)?" The waits are in order of start, so the ones started by p are a
 * prefix (found by binary search), and one of them is pending iff the largest end in that prefix is beyond p.
 */
function pendingChecker(waits: Wait[]): (p: number) => boolean {
  const maxEnd: number[] = [];
  for (const wait of waits) maxEnd.push(Math.max(wait.end, maxEnd.length > 0 ? maxEnd[maxEnd.length - 1] : -Infinity));
  return (p) => {
    let lo = 0;
    let hi = waits.length; // the first wait starting after p
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (waits[mid].start <= p) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && maxEnd[lo - 1] > p;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Await attribution, rules 2 and 3: the wake-up piece, and idle time shared among the pending waits

function attributeAwaits(
  entries: TimedEntry[],
  stacks: StackTable,
  waits: Wait[] | null,
  interval: number,
  idleSampled: boolean,
): Entry[] {
  if (waits === null) return entries;
  const stackPaths = new StackPaths(stacks);
  const awaitPaths = new Map<number, Path>(); // one path object per stack id, for step 2 and 3
  const awaitPath = (stack: number): Path => {
    let path = awaitPaths.get(stack);
    if (path === undefined) {
      path = [...stackPaths.get(stack), SyntheticFrame.await];
      awaitPaths.set(stack, path);
    }
    return path;
  };

  const out: Entry[] = [];
  const pendingAt = pendingChecker(waits);
  // Waits that started before the current idle entry ends and did not end before it starts, in input order.
  let active: Wait[] = [];
  let next = 0;
  for (const entry of entries) {
    if (!entry.idle) {
      out.push(entry);
      continue;
    }
    // CPU does not move with the wall time: it stays on the idle entry's own path.
    if (entry.cpu !== 0) out.push({ path: entry.path, w: 0, cpu: entry.cpu });
    const a = entry.at;
    let b = entry.at + entry.w;
    // Rule 2: the program woke at the latest wait end in [a, b) and ran into the sample at b.
    let woke: Entry | null = null;
    if (entry.wake !== undefined && interval > 0) {
      const e = waits.reduce(
        (latest, wait) => (wait.end >= a && wait.end < b ? Math.max(latest, wait.end) : latest),
        -Infinity,
      );
      if (e !== -Infinity && (idleSampled || b - e <= 4 * interval) && !pendingAt(e)) {
        woke = { path: entry.wake, w: b - e, cpu: 0 };
        b = e;
      }
    }
    while (next < waits.length && waits[next].start < b) active.push(waits[next++]);
    active = active.filter((wait) => wait.end > a);
    // Cut [a, b) at every wait start and end inside it.
    const cuts = new Set<number>([a, b]);
    for (const wait of active) {
      if (a < wait.start && wait.start < b) cuts.add(wait.start);
      if (a < wait.end && wait.end < b) cuts.add(wait.end);
    }
    const points = [...cuts].sort((x, y) => x - y);
    for (let i = 0; i + 1 < points.length; i++) {
      const x = points[i];
      const length = points[i + 1] - x;
      const pending = active.filter((wait) => wait.start <= x && x < wait.end);
      if (pending.length === 0) {
        out.push({ path: entry.path, w: length, cpu: 0 });
        continue;
      }
      const k = pending.length;
      const share = Math.floor(length / k);
      const remainder = length - k * share;
      pending.forEach((wait, j) => {
        const w = share + (j === 0 ? remainder : 0);
        if (w > 0) out.push({ path: awaitPath(wait.stack), w, cpu: 0 });
      });
    }
    if (woke !== null) out.push(woke);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Path filtering

function isFilteredOut(frame: number, options: CoreProcessOptions): boolean {
  return isReal(frame) && (options.frameFlags[frame] & (FrameFlag.internal | FrameFlag.hidden)) !== 0;
}

function filterPath(path: Path, options: CoreProcessOptions): Path {
  return path.filter((frame) => !isFilteredOut(frame, options));
}

function filterPaths(entries: Entry[], options: CoreProcessOptions): Entry[] {
  if (options.showAll) return entries;
  const filtered = new Map<Path, Path>(); // per unique path
  return entries.map((entry) => {
    let path = filtered.get(entry.path);
    if (path === undefined) {
      path = filterPath(entry.path, options);
      filtered.set(entry.path, path);
    }
    return { path, w: entry.w, cpu: entry.cpu };
  });
}

function filteredStartStack(options: CoreProcessOptions): Path {
  const startStack = Array.from(options.startStack);
  return options.showAll ? startStack : filterPath(startStack, options);
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Trim stem

function isCandidate(path: Path): boolean {
  return path.length > 0 && isReal(path[0]);
}

function trimStem(entries: Entry[], startStack: Path): Entry[] {
  // CPU time without wall time (SPEC "CPU time") is no candidate: the CPU column never changes the trim.
  const candidates = entries.filter((entry) => entry.w > 0 && isCandidate(entry.path));
  if (startStack.length === 0 || candidates.length === 0) return entries;
  if (candidates.some((entry) => entry.path[0] !== startStack[0])) return entries;

  let j = 0;
  while (
    j + 1 < startStack.length &&
    candidates.every((entry) => entry.path.length > j + 1 && entry.path[j + 1] === startStack[j + 1])
  ) {
    j += 1;
  }
  if (j === 0) return entries;

  // Every path that starts with S[0..j) and goes on is trimmed: the candidates, and entries of CPU alone that do.
  const stem = startStack.slice(0, j);
  const underStem = (path: Path): boolean => path.length > j && stem.every((f, i) => path[i] === f);
  const trimmed = new Map<Path, Path>(); // per unique path
  return entries.map((entry) => {
    if (!underStem(entry.path)) return entry;
    let path = trimmed.get(entry.path);
    if (path === undefined) {
      path = entry.path.slice(j);
      trimmed.set(entry.path, path);
    }
    return { path, w: entry.w, cpu: entry.cpu };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Tree building

function newNode(frame: number, parent: TreeNode | null): TreeNode {
  return {
    frame,
    parent,
    children: [],
    childByFrame: null,
    time: 0,
    selfTime: 0,
    awaitTime: 0,
    cpuTime: 0,
    group: -1,
    visible: false,
  };
}

/** The child of `parent` to walk into for `frame`, created (appended) when there is none to take. */
function stepInto(parent: TreeNode, frame: number, timeline: boolean): TreeNode {
  if (timeline) {
    const last = parent.children[parent.children.length - 1];
    if (last !== undefined && last.frame === frame) return last;
  } else {
    parent.childByFrame ??= new Map();
    const existing = parent.childByFrame.get(frame);
    if (existing !== undefined) return existing;
  }
  const child = newNode(frame, parent);
  parent.children.push(child);
  if (!timeline) parent.childByFrame!.set(frame, child);
  return child;
}

/** The frames an entry walks below the root: its path, then [self] when it is empty or ends with a real frame. */
function walkFrames(path: Path): Path {
  return path.length === 0 || isReal(path[path.length - 1]) ? [...path, SyntheticFrame.self] : path;
}

function buildTree(entries: Entry[], timeline: boolean): TreeNode {
  const root = newNode(SyntheticFrame.root, null);
  // CPU time without wall time (SPEC "CPU time") makes no node: it goes to every node of the walk its frames
  // make through existing nodes. Aggregated: existing children, once the tree of the other entries is built;
  // timeline: the nodes the previous entry with wall time walked.
  const cpuOnly: Entry[] = [];
  let previous: TreeNode[] = [root];
  for (const { path, w, cpu } of entries) {
    if (w === 0) {
      if (!timeline) {
        cpuOnly.push({ path, w, cpu });
        continue;
      }
      const frames = walkFrames(path);
      let k = 0;
      while (k < frames.length && k + 1 < previous.length && previous[k + 1].frame === frames[k]) k++;
      for (let i = 0; i <= k; i++) previous[i].cpuTime += cpu;
      continue;
    }
    const isAwait = path.length > 0 && path[path.length - 1] === SyntheticFrame.await;
    const walk: TreeNode[] = [root];
    let node = root;
    for (const frame of path) {
      node = stepInto(node, frame, timeline);
      walk.push(node);
    }
    for (const visited of walk) {
      visited.time += w;
      visited.cpuTime += cpu;
      if (isAwait) visited.awaitTime += w;
    }
    // An empty path ends at the root, which is not synthetic in this sense: its time goes to its [self] child.
    if (path.length === 0 || isReal(node.frame)) {
      const self = stepInto(node, SyntheticFrame.self, timeline);
      self.time += w;
      self.selfTime += w;
      self.cpuTime += cpu;
      walk.push(self);
    } else {
      node.selfTime += w;
    }
    previous = walk;
  }
  for (const { path, cpu } of cpuOnly) {
    let node = root;
    node.cpuTime += cpu;
    for (const frame of walkFrames(path)) {
      const next = node.childByFrame?.get(frame);
      if (next === undefined) break;
      node = next;
      node.cpuTime += cpu;
    }
  }
  return root;
}

// ---------------------------------------------------------------------------------------------------------------
// Traversal helpers (iterative)

/** All nodes in pre-order (children in their current order). */
function preorder(root: TreeNode): TreeNode[] {
  const out: TreeNode[] = [];
  const stack: TreeNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    out.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Remove irrelevant nodes

function removeIrrelevantNodes(root: TreeNode, filterThreshold: number): void {
  const total = root.time;
  const stack: TreeNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    node.children = node.children.filter((child) => !(child.time < filterThreshold * total));
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 6. Remove unnecessary [self] nodes

function removeLoneSelfNodes(root: TreeNode): void {
  for (const node of preorder(root)) {
    if (node.children.length === 1 && node.children[0].frame === SyntheticFrame.self) {
      node.selfTime += node.children[0].time;
      node.children = [];
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 7. Order

function orderChildren(root: TreeNode, timeline: boolean): void {
  if (timeline) return; // creation order
  for (const node of preorder(root)) {
    // Array.prototype.sort is stable: ties keep creation order.
    node.children.sort((a, b) => b.time - a.time);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 8. Group library frames

function groupLibraryFrames(root: TreeNode, options: CoreProcessOptions): Group[] {
  const hidden = (node: TreeNode): boolean => {
    if (isReal(node.frame)) return (options.frameFlags[node.frame] & FrameFlag.library) !== 0;
    const folded = node.frame === SyntheticFrame.self || node.frame === SyntheticFrame.gc;
    return folded && node.parent !== null && hidden(node.parent);
  };

  const groups: Group[] = [];
  if (!options.showAll) {
    // Pre-order over the tree: each child c is considered before c's own children (pyinstrument's order).
    for (const c of preorder(root)) {
      if (c === root) continue;
      const startsGroup = c.group === -1 &&
        isReal(c.frame) &&
        hidden(c) &&
        c.children.some((child) => isReal(child.frame) && hidden(child));
      if (!startsGroup) continue;
      const group: Group = { root: c, members: [], hidden: 0, libs: [] };
      const id = groups.length;
      groups.push(group);
      const stack: TreeNode[] = [c];
      while (stack.length > 0) {
        const member = stack.pop()!;
        member.group = id;
        group.members.push(member);
        for (let i = member.children.length - 1; i >= 0; i--) {
          if (hidden(member.children[i])) stack.push(member.children[i]);
        }
      }
    }
  }

  const totalSelf = (node: TreeNode): number => {
    let t = node.selfTime;
    for (const child of node.children) {
      if (child.frame === SyntheticFrame.self || child.frame === SyntheticFrame.gc) t += child.time;
    }
    return t;
  };
  for (const node of preorder(root)) {
    node.visible = node.group === -1 ||
      groups[node.group].root === node ||
      node.children.some((child) => child.group !== node.group) ||
      totalSelf(node) > 0.2 * root.time;
  }

  for (const group of groups) {
    for (const member of group.members) {
      if (!isReal(member.frame)) continue;
      if (!member.visible) group.hidden += 1;
      const lib = options.frameLibrary[member.frame];
      if (lib !== NO_LIBRARY && !group.libs.includes(lib)) group.libs.push(lib);
    }
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------------------------
// 9. Flat view

interface FlatRow {
  frame: number;
  self: number;
  total: number;
}

function flatView(entries: Entry[], rootTime: number, options: CoreProcessOptions): FlatRow[] {
  const rows: FlatRow[] = []; // in order of first appearance
  const rowOf = new Map<number, FlatRow>();
  for (const { path, w } of entries) {
    // An empty path (charged to the root's [self] in the tree) has no frame to show here; CPU time without wall
    // time has no place in the flat view.
    if (path.length === 0 || w === 0) continue;
    const seen = new Set<number>();
    for (const frame of path) {
      let row = rowOf.get(frame);
      if (row === undefined) {
        row = { frame, self: 0, total: 0 };
        rowOf.set(frame, row);
        rows.push(row);
      }
      if (!seen.has(frame)) {
        seen.add(frame);
        row.total += w;
      }
    }
    rowOf.get(path[path.length - 1])!.self += w;
  }

  const chosen = (row: FlatRow): number => (options.flatTime === "total" ? row.total : row.self);
  const kept = options.showAll ? rows : rows.filter((row) => !(chosen(row) < options.filterThreshold * rootTime));
  return kept.slice().sort((a, b) => chosen(b) - chosen(a)); // stable: ties by first appearance
}

// ---------------------------------------------------------------------------------------------------------------
// Output

function toProcessedTree(root: TreeNode, groups: Group[], flat: FlatRow[], cpuKnown: boolean): ProcessedTree {
  const nodes = preorder(root);
  const index = new Map<TreeNode, number>();
  nodes.forEach((node, i) => index.set(node, i));
  const depth = new Map<TreeNode, number>();

  const tree: ProcessedTree = {
    frame: new Uint32Array(nodes.length),
    parent: new Int32Array(nodes.length),
    depth: new Uint32Array(nodes.length),
    time: new Float64Array(nodes.length),
    selfTime: new Float64Array(nodes.length),
    awaitTime: new Float64Array(nodes.length),
    group: new Int32Array(nodes.length),
    flags: new Uint8Array(nodes.length),
    groupRoot: new Uint32Array(groups.length),
    groupHidden: new Uint32Array(groups.length),
    groupLibOffsets: new Uint32Array(groups.length + 1),
    groupLibs: new Uint32Array(groups.reduce((sum, group) => sum + group.libs.length, 0)),
    flatFrame: new Uint32Array(flat.length),
    flatSelf: new Float64Array(flat.length),
    flatTotal: new Float64Array(flat.length),
  };
  // Absent, not zeros, when the session has no CPU column.
  if (cpuKnown) tree.cpuTime = Float64Array.from(nodes, (node) => node.cpuTime);

  nodes.forEach((node, i) => {
    const d = node.parent === null ? 0 : depth.get(node.parent)! + 1; // parents come first in pre-order
    depth.set(node, d);
    tree.frame[i] = node.frame;
    tree.parent[i] = node.parent === null ? -1 : index.get(node.parent)!;
    tree.depth[i] = d;
    tree.time[i] = node.time;
    tree.selfTime[i] = node.selfTime;
    tree.awaitTime[i] = node.awaitTime;
    tree.group[i] = node.group;
    let flags = 0;
    if (node.visible) flags |= NodeFlag.visible;
    if (node.group !== -1 && groups[node.group].root === node) flags |= NodeFlag.groupRoot;
    tree.flags[i] = flags;
  });

  let libOffset = 0;
  groups.forEach((group, g) => {
    tree.groupRoot[g] = index.get(group.root)!;
    tree.groupHidden[g] = group.hidden;
    tree.groupLibOffsets[g] = libOffset;
    for (const lib of group.libs) tree.groupLibs[libOffset++] = lib;
  });
  tree.groupLibOffsets[groups.length] = libOffset;

  flat.forEach((row, i) => {
    tree.flatFrame[i] = row.frame;
    tree.flatSelf[i] = row.self;
    tree.flatTotal[i] = row.total;
  });
  return tree;
}

// ---------------------------------------------------------------------------------------------------------------

export function oracleProcess(
  stacks: StackTable,
  samples: SampleTable,
  options: CoreProcessOptions,
  waits?: WaitTable,
): ProcessedTree {
  if (options.flatTime !== "self" && options.flatTime !== "total") fail(`flatTime is ${String(options.flatTime)}`);
  const { entries, cpuKnown } = steps1to3(stacks, samples, options, waits);
  const root = buildTree(entries, options.timeline); // step 4
  if (!options.showAll) removeIrrelevantNodes(root, options.filterThreshold); // step 5
  removeLoneSelfNodes(root); // step 6
  orderChildren(root, options.timeline); // step 7
  const groups = groupLibraryFrames(root, options); // step 8 (no groups when showAll; visibility always)
  const flat = flatView(entries, root.time, options); // step 9
  return toProcessedTree(root, groups, flat, cpuKnown);
}

/** Steps 1-3: the entries in time order, awaits attributed, paths filtered and trimmed. */
function steps1to3(stacks: StackTable, samples: SampleTable, options: CoreProcessOptions, waits?: WaitTable) {
  const input = validate(stacks, samples, options, waits);
  const entries = trimStem(
    filterPaths(
      attributeAwaits(
        buildEntries(stacks, samples, input, options.frameFlags),
        stacks,
        input.waits,
        input.interval,
        input.idleSampled,
      ),
      options,
    ), // steps 1, 2
    filteredStartStack(options),
  ); // step 3
  return { entries, cpuKnown: input.cpu !== null };
}

// ---------------------------------------------------------------------------------------------------------------
// Diff of two trees (SPEC "Diff of two trees"), over the trees as the core outputs them.

interface DiffNode extends TreeNode {
  children: DiffNode[];
  parent: DiffNode | null;
  /** [BASE, NEW] */
  times: [number, number];
  own: [number, number];
  waits: [number, number];
  side: number;
}

function newDiffNode(frame: number, parent: DiffNode | null): DiffNode {
  return { ...newNode(frame, parent), children: [], parent, times: [0, 0], own: [0, 0], waits: [0, 0], side: 0 };
}

export function oracleDiff(
  base: ProcessedTree,
  next: ProcessedTree,
  options: CoreDiffOptions & Pick<CoreProcessOptions, "frameFlags" | "frameLibrary">,
): DiffTree {
  const frames = options.frameFlags.length;
  if (options.frameLibrary.length !== frames) fail("frameLibrary and frameFlags differ in length");
  for (const [name, t] of [["base", base], ["new", next]] as const) {
    if (t.frame.length === 0 || t.frame[0] !== SyntheticFrame.root) fail(`${name}: the tree has no root`);
    for (let i = 1; i < t.frame.length; i++) {
      if (!(t.parent[i] >= 0 && t.parent[i] < i)) fail(`${name}: node ${i} is not in pre-order`);
    }
    for (const f of [...t.frame, ...t.flatFrame]) {
      if (isReal(f) && f >= frames) fail(`${name}: frame id ${f} out of range`);
    }
  }
  // Rules 1-2.
  const root = newDiffNode(SyntheticFrame.root, null);
  root.side = 3;
  for (const [s, t] of [[1, next], [0, base]] as const) {
    const to: DiffNode[] = [];
    for (let i = 0; i < t.frame.length; i++) {
      if (i > 0 && t.frame[i] === SyntheticFrame.self) {
        to[t.parent[i]].own[s] += t.time[i];
        continue;
      }
      let m = root;
      if (i > 0) {
        const parent = to[t.parent[i]];
        m = parent.children.find((c) => c.frame === t.frame[i]) ??
          parent.children[parent.children.push(newDiffNode(t.frame[i], parent)) - 1];
      }
      to[i] = m;
      m.times[s] += t.time[i];
      m.own[s] += t.selfTime[i];
      m.waits[s] += t.awaitTime[i];
      m.side |= 1 << s;
    }
  }
  const totals = root.times.slice() as [number, number];
  const dropped = (times: [number, number]): boolean =>
    !options.showAll && times[0] < options.filterThreshold * totals[0] &&
    times[1] < options.filterThreshold * totals[1];
  // Rules 3-4.
  const stack: DiffNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    node.children = node.children.filter((c) => !dropped(c.times));
    stack.push(...node.children);
    if (node.children.length > 0 && (node.own[0] > 0 || node.own[1] > 0)) {
      const own = node.own;
      node.own = [0, 0];
      if (!dropped(own)) {
        const self = newDiffNode(SyntheticFrame.self, node);
        self.times = [...own];
        self.own = [...own];
        self.side = (own[0] > 0 ? 1 : 0) | (own[1] > 0 ? 2 : 0);
        node.children.push(self);
      }
    }
  }
  // Rule 5, then rule 6 (§8 with NEW's times).
  const all = preorder(root) as DiffNode[];
  for (const node of all) node.children.sort((a, b) => b.times[1] - a.times[1] || b.times[0] - a.times[0]);
  const ordered = preorder(root) as DiffNode[];
  for (const node of ordered) {
    node.time = node.times[1];
    node.selfTime = node.own[1];
    node.awaitTime = node.waits[1];
  }
  const groups = groupLibraryFrames(root, { ...options, timeline: false } as unknown as CoreProcessOptions);
  const tree = toProcessedTree(root, groups, [], false) as unknown as DiffTree;
  tree.baseTime = Float64Array.from(ordered, (n) => n.times[0]);
  tree.baseSelfTime = Float64Array.from(ordered, (n) => n.own[0]);
  tree.baseAwaitTime = Float64Array.from(ordered, (n) => n.waits[0]);
  tree.side = Uint8Array.from(ordered, (n) => n.side);

  // Rule 7.
  const rows = new Map<number, { frame: number; self: [number, number]; total: [number, number] }>();
  for (const [s, t] of [[1, next], [0, base]] as const) {
    t.flatFrame.forEach((frame, k) => {
      if (frame === SyntheticFrame.idle) return;
      const row = rows.get(frame) ?? { frame, self: [0, 0], total: [0, 0] };
      rows.set(frame, row);
      row.self[s] += t.flatSelf[k];
      row.total[s] += t.flatTotal[k];
    });
  }
  const chosen = (r: { self: number[]; total: number[] }, s: number) =>
    options.flatTime === "total" ? r.total[s] : r.self[s];
  const share = (r: { self: number[]; total: number[] }, s: number) => totals[s] > 0 ? chosen(r, s) / totals[s] : 0;
  const change = (r: { self: number[]; total: number[] }) =>
    Math.abs(options.normalize ? share(r, 1) - share(r, 0) : chosen(r, 1) - chosen(r, 0));
  const flat = [...rows.values()]
    .filter((r) => !dropped([chosen(r, 0), chosen(r, 1)]))
    .sort((a, b) => change(b) - change(a));
  tree.flatFrame = Uint32Array.from(flat, (r) => r.frame);
  tree.flatSelf = Float64Array.from(flat, (r) => r.self[1]);
  tree.flatTotal = Float64Array.from(flat, (r) => r.total[1]);
  tree.flatBaseSelf = Float64Array.from(flat, (r) => r.self[0]);
  tree.flatBaseTotal = Float64Array.from(flat, (r) => r.total[0]);
  return tree;
}

// ---------------------------------------------------------------------------------------------------------------
// Entries (SPEC "Entries"): steps 1-3 in time order, weight > 0, consecutive equal paths merged.

export function oracleEntries(
  stacks: StackTable,
  samples: SampleTable,
  options: CoreProcessOptions,
  waits?: WaitTable,
): Array<{ path: number[]; w: number }> {
  const { entries } = steps1to3(stacks, samples, options, waits);
  const out: Array<{ path: number[]; w: number }> = [];
  for (const { path, w } of entries) {
    if (w <= 0) continue;
    const last = out[out.length - 1];
    if (last && last.path.length === path.length && last.path.every((f, i) => f === path[i])) last.w += w;
    else out.push({ path: [...path], w });
  }
  return out;
}
