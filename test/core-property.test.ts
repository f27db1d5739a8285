// Property tests: the wasm core (wasm/core.ts) must produce exactly the oracle's ProcessedTree (test/oracle.ts) on
// random sessions, whatever the chunking of its input, and both must reject malformed input with an Error.
// Cases come from a seeded PRNG; every failure prints its seed and a shrunk case. Reproduce one case with
//   TSPROFILE_SEED=<seed> TSPROFILE_CASES=1 node test/core-property.test.ts
// More cases: TSPROFILE_CASES=20000 (the default is 600 per property).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { oracleDiff, oracleEntries, oracleProcess } from "./oracle.ts";
import { mulberry32 } from "./prng.ts";
import { DiffSide, FrameFlag, NO_LIBRARY, NodeFlag, SampleState, SyntheticFrame } from "../session/types.ts";
import type {
  AsyncMode,
  CoreProcessOptions,
  DiffTree,
  ProcessedTree,
  SampleTable,
  SessionEntries,
  StackTable,
  WaitTable,
} from "../session/types.ts";

// ---- the wasm core, loaded dynamically so that this file runs (oracle properties only) before it exists ----------

interface CoreSession {
  addStacks(parent: Int32Array, frame: Uint32Array): void;
  addSamples(stack: Int32Array, time: Float64Array, state: Uint8Array, cpu?: Float64Array): void;
  addWaits(start: Float64Array, end: Float64Array, stack: Int32Array): void;
  process(options: CoreProcessOptions): ProcessedTree;
  diff(base: CoreSession, options: Parameters<typeof oracleDiff>[2]): DiffTree;
  entries(options: CoreProcessOptions): SessionEntries;
  dispose(): void;
}
interface CoreModule {
  createCoreSession(): CoreSession | Promise<CoreSession>;
}

const env = (name: string): string | undefined => {
  const g = globalThis as {
    process?: { env: Record<string, string | undefined> };
    Deno?: { env: { get(n: string): string | undefined } };
  };
  return g.Deno ? g.Deno.env.get(name) : g.process?.env[name];
};

let core: CoreModule | null = null;
let coreMissing = "";
try {
  core = (await import("../wasm/core.ts")) as unknown as CoreModule;
} catch (e) {
  coreMissing = String((e as Error)?.message ?? e).split("\n")[0];
}

const CASES = Number(env("TSPROFILE_CASES") ?? 600);
const BASE_SEED = Number(env("TSPROFILE_SEED") ?? 0x7a5eed);

// ---- PRNG ----------------------------------------------------------------------------------------------------------

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

// ---- random sessions -----------------------------------------------------------------------------------------------

interface Case {
  stacks: StackTable;
  samples: SampleTable;
  options: CoreProcessOptions;
  /** Await attribution's input; absent in about a quarter of the cases. */
  waits?: WaitTable;
}

function pathOf(stacks: StackTable, stack: number): number[] {
  const path: number[] = [];
  for (let s = stack; s !== -1; s = stacks.parent[s]) path.push(stacks.frame[s]);
  return path.reverse();
}

function randomCase(seed: number): Case {
  const rng = new Rng(seed);
  const big = rng.chance(0.1);
  // Deep: long recursive walks on few frames, re-walked under fresh ids (many duplicate deep paths).
  const deep = !big && rng.chance(0.08);

  // Frames: random flags (any combination) and libraries.
  const frameCount = rng.int(1, big ? 40 : 12);
  const frameFlags = new Uint8Array(frameCount);
  const frameLibrary = new Uint32Array(frameCount);
  const pInternal = rng.pick([0, 0.1, 0.25]);
  const pHidden = rng.pick([0, 0.1, 0.2]);
  const pLibrary = rng.pick([0, 0.3, 0.6, 0.9]);
  for (let f = 0; f < frameCount; f++) {
    if (rng.chance(pInternal)) frameFlags[f] |= FrameFlag.internal;
    if (rng.chance(pHidden)) frameFlags[f] |= FrameFlag.hidden;
    if (rng.chance(pLibrary)) frameFlags[f] |= FrameFlag.library;
    if (rng.chance(0.05)) frameFlags[f] |= 0xf8; // unknown bits must be ignored
    frameLibrary[f] = rng.chance(0.3) ? NO_LIBRARY : rng.int(0, 4);
  }

  // Stacks: an optional common stem (the frames above start()'s caller), then a random prefix tree, with
  // deliberate duplicate paths under different ids.
  const parent: number[] = [];
  const frame: number[] = [];
  const stemLength = rng.chance(0.5) ? rng.int(1, 5) : 0;
  // Often every sampled stack is under the whole stem (profiler.start() called from one place): trimming happens.
  const strictStem = stemLength > 0 && rng.chance(0.7);
  /** Stacks whose path holds the whole stem (and maybe more). */
  const underStem: number[] = [];
  const isUnderStem = new Set<number>();
  const add = (p: number, f: number): number => {
    const id = parent.length;
    parent.push(p);
    frame.push(f);
    if (id === stemLength - 1 || isUnderStem.has(p)) {
      underStem.push(id);
      isUnderStem.add(id);
    }
    return id;
  };
  for (let i = 0; i < stemLength; i++) add(i - 1, rng.int(0, frameCount - 1));
  if (deep) {
    for (let walk = rng.int(1, 6); walk > 0; walk--) {
      const from = parent.length > 0 && rng.chance(0.5) ? rng.int(0, parent.length - 1) : stemLength - 1;
      const prefix = from >= 0 ? pathOf({ parent: Int32Array.from(parent), frame: Uint32Array.from(frame) }, from) : [];
      let p = -1;
      for (const f of prefix) p = add(p, f); // the same path again, under fresh ids
      for (let d = rng.int(20, 400); d > 0; d--) p = add(p, rng.int(0, Math.min(frameCount, 4) - 1));
    }
  }
  const stackTarget = stemLength + rng.int(0, big ? 120 : 25);
  while (parent.length < stackTarget) {
    const i = parent.length;
    if (i > 0 && rng.chance(0.1)) {
      // Duplicate the path of an existing stack under fresh ids (its stem copy is under the stem too).
      const path = pathOf({ parent: Int32Array.from(parent), frame: Uint32Array.from(frame) }, rng.int(0, i - 1));
      const startsWithStem = path.length >= stemLength && path.slice(0, stemLength).every((f, x) => f === frame[x]);
      let p = -1;
      for (let k = 0; k < path.length; k++) {
        p = add(p, path[k]);
        if (k === stemLength - 1 && startsWithStem) {
          underStem.push(p);
          isUnderStem.add(p);
        }
      }
      continue;
    }
    let p: number;
    if (strictStem) p = rng.pick(underStem);
    else if (i === 0 || rng.chance(0.1)) p = -1;
    else if (stemLength > 0 && rng.chance(0.8)) p = rng.int(stemLength - 1, i - 1);
    else p = rng.chance(0.6) ? rng.int(Math.max(0, i - 4), i - 1) : rng.int(0, i - 1);
    add(p, rng.int(0, frameCount - 1));
  }
  const stacks: StackTable = { parent: Int32Array.from(parent), frame: Uint32Array.from(frame) };
  const stackCount = parent.length;

  // Samples: all states, empty stacks, equal times, small steps, big gaps, some fractional times.
  const gapCap = rng.pick([0, 1, 2, 3, 5, 8, 10, 1_000_000]);
  const n = rng.chance(0.05) ? 0 : rng.int(1, big ? 300 : 40);
  const stack = new Int32Array(n);
  const time = new Float64Array(n);
  const state = new Uint8Array(n);
  const fractional = rng.chance(0.15);
  // Sometimes a start far from 0 (large but exact f64 integers: sums stay below 2^53).
  let t = rng.chance(0.03) ? rng.int(1, 2 ** 20) * 2 ** 30 : rng.chance(0.4) ? 0 : rng.int(1, 20);
  for (let i = 0; i < n; i++) {
    if (stackCount === 0 || rng.chance(0.08)) stack[i] = -1;
    else if (strictStem && rng.chance(0.95)) stack[i] = rng.pick(underStem);
    else stack[i] = rng.int(0, stackCount - 1);
    state[i] = rng.chance(0.5) ? SampleState.js : rng.int(1, 5);
    // Runs of bare GC samples (no stack), which take the code around them (SPEC §1).
    if (rng.chance(0.06)) [stack[i], state[i]] = [-1, SampleState.gc];
    time[i] = t;
    const r = rng.next();
    if (r < 0.15) t += 0; // equal times
    else if (r < 0.85) t += rng.int(1, 3);
    else if (r < 0.95) t += rng.int(4, 30); // gaps around gapCap
    else t += rng.int(100, 100_000); // big gaps
    if (fractional) t += rng.pick([0, 0.25, 0.5, 0.75, 0.4999]);
  }
  const last = n > 0 ? time[n - 1] : 0;
  const duration = rng.chance(0.2) ? 0 : Math.max(0, last + rng.int(-5, 20));

  // startStack: often the samples' stem (or a prefix, or more), sometimes random, sometimes empty.
  let startStack: number[] = [];
  const r = rng.next();
  if ((r < 0.5 || strictStem) && stemLength > 0) {
    startStack = pathOf(stacks, stemLength - 1).slice(0, rng.chance(0.7) ? stemLength : rng.int(1, stemLength));
    if (rng.chance(0.2)) startStack.push(rng.int(0, frameCount - 1));
  } else if (r < 0.7 && n > 0 && stack[0] !== -1) {
    const p = pathOf(stacks, stack[0]);
    startStack = p.slice(0, rng.int(1, p.length));
  } else if (r < 0.85) {
    startStack = Array.from({ length: rng.int(1, 4) }, () => rng.int(0, frameCount - 1));
  }

  const options: CoreProcessOptions = {
    duration,
    gapCap,
    timeline: rng.chance(0.5),
    showAll: rng.chance(0.2),
    filterThreshold: rng.pick([0, 0, 0.01, 0.01, 0.05, 0.07, 0.1, 0.2, 0.29, rng.next() * 0.4]),
    flatTime: rng.chance(0.5) ? "self" : "total",
    startStack,
    frameFlags,
    frameLibrary,
  };

  // Waits (drawn last, so the cases above are the same as before waits existed): overlapping ones, bursts of
  // many at once, zero-length ones, some crossing big gaps or running past the end, unknown stacks; all modes.
  const mode = rng.pick<AsyncMode | undefined>([undefined, "enabled", "enabled", "strict", "disabled"]);
  if (mode !== undefined) options.asyncMode = mode;
  const interval = rng.pick([undefined, 0, 1, 1, 2, 3, 5, 10, 0.4, 2.5]);
  if (interval !== undefined) options.interval = interval;
  let waits: WaitTable | undefined;
  if (rng.chance(0.75)) {
    const m = rng.chance(0.08) ? 0 : rng.int(1, big ? 80 : rng.pick([3, 8, 20]));
    const lo = n > 0 ? Math.max(0, time[0] - 10) : 0;
    const hi = (n > 0 ? time[n - 1] : 0) + 25;
    const burst = rng.chance(0.2) ? rng.int(Math.floor(lo), Math.floor(hi)) : -1;
    const starts: number[] = [];
    for (let i = 0; i < m; i++) {
      let a = burst >= 0 && rng.chance(0.7) ? burst + rng.int(0, 3) : lo + rng.int(0, Math.max(0, Math.floor(hi - lo)));
      if (fractional || rng.chance(0.05)) a += rng.pick([0, 0.25, 0.5, 0.75]);
      starts.push(a);
    }
    starts.sort((x, y) => x - y);
    const r = (): number => {
      const k = rng.next();
      if (k < 0.1) return 0;
      if (k < 0.4) return rng.int(1, 5);
      if (k < 0.8) return rng.int(5, 50);
      return rng.int(50, 200_000);
    };
    const ends = starts.map((a) => a + r() + (rng.chance(0.05) ? 0.5 : 0));
    const wstack = starts.map(() =>
      stackCount === 0 || rng.chance(0.12)
        ? -1
        : strictStem && rng.chance(0.8)
        ? rng.pick(underStem)
        : rng.int(0, stackCount - 1)
    );
    waits = { start: Float64Array.from(starts), end: Float64Array.from(ends), stack: Int32Array.from(wstack) };
  }
  const samples: SampleTable = { stack, time, state };
  // The CPU column (drawn last, like the waits): in half the cases; steps of 0, up to the wall step or beyond
  // it, jumps past a u16 delta, fractions; sometimes a start above 0.
  if (rng.chance(0.5)) {
    const cpu = new Float64Array(n);
    let c = rng.chance(0.3) ? rng.int(1, 50) : 0;
    for (let i = 0; i < n; i++) {
      cpu[i] = c;
      const step = i + 1 < n ? time[i + 1] - time[i] : 0;
      const r = rng.next();
      if (r < 0.2) c += 0;
      else if (r < 0.8) c += Math.floor(rng.next() * (step + 1));
      else if (r < 0.95) c += rng.int(1, 40);
      else c += rng.int(65_000, 70_000);
      if (fractional && rng.chance(0.3)) c += rng.pick([0.25, 0.5, 0.75]);
    }
    samples.cpu = cpu;
  }
  // The sampler records idle (SPEC §1, running gap): drawn last too, in half the cases.
  if (rng.chance(0.5)) options.idleSampled = true;
  // Bun's rule for a running gap (the sample before it keeps it all), in half of those.
  if (options.idleSampled && rng.chance(0.5)) options.runningGapToPrevious = true;
  return { stacks, samples, options, waits };
}

// ---- comparing trees -----------------------------------------------------------------------------------------------

/** Compared besides TREE_KEYS: present on both sides or absent on both (CPU time unknown). */
const OPTIONAL_TREE_KEYS = ["cpuTime"] as const;

const TREE_KEYS = [
  "frame",
  "parent",
  "depth",
  "time",
  "selfTime",
  "awaitTime",
  "group",
  "flags",
  "groupRoot",
  "groupHidden",
  "groupLibOffsets",
  "groupLibs",
  "flatFrame",
  "flatSelf",
  "flatTotal",
] as const;

/** The first difference between two trees ("" when equal), as "key[index]: expected X, got Y". */
function firstDifference(expected: ProcessedTree, actual: ProcessedTree): string {
  for (const key of TREE_KEYS) {
    const e = expected[key];
    const a = actual[key];
    if (a === undefined || a === null) return `${key}: missing`;
    if (Object.prototype.toString.call(a) !== Object.prototype.toString.call(e)) {
      return `${key}: expected a ${e.constructor.name}, got ${Object.prototype.toString.call(a)}`;
    }
    const n = Math.min(e.length, a.length);
    for (let i = 0; i < n; i++) {
      if (!Object.is(e[i], a[i])) {
        return `${key}[${i}]: expected ${e[i]}, got ${a[i]} (lengths ${e.length}/${a.length})`;
      }
    }
    if (e.length !== a.length) return `${key}: expected length ${e.length}, got ${a.length}`;
  }
  for (const key of OPTIONAL_TREE_KEYS) {
    const e = expected[key];
    const a = actual[key];
    if (e === undefined || a === undefined) {
      if (e !== a) {
        return `${key}: expected ${e === undefined ? "none" : "a column"}, got ${
          a === undefined ? "none" : "a column"
        }`;
      }
      continue;
    }
    if (!(a instanceof Float64Array)) {
      return `${key}: expected a Float64Array, got ${Object.prototype.toString.call(a)}`;
    }
    for (let i = 0; i < Math.min(e.length, a.length); i++) {
      if (!Object.is(e[i], a[i])) {
        return `${key}[${i}]: expected ${e[i]}, got ${a[i]} (lengths ${e.length}/${a.length})`;
      }
    }
    if (e.length !== a.length) return `${key}: expected length ${e.length}, got ${a.length}`;
  }
  return "";
}

function caseJson(c: Case): string {
  return JSON.stringify({
    stacks: { parent: Array.from(c.stacks.parent), frame: Array.from(c.stacks.frame) },
    samples: {
      stack: Array.from(c.samples.stack),
      time: Array.from(c.samples.time),
      state: Array.from(c.samples.state),
      ...(c.samples.cpu ? { cpu: Array.from(c.samples.cpu) } : {}),
    },
    waits: c.waits &&
      { start: Array.from(c.waits.start), end: Array.from(c.waits.end), stack: Array.from(c.waits.stack) },
    options: {
      ...c.options,
      startStack: Array.from(c.options.startStack),
      frameFlags: Array.from(c.options.frameFlags),
      frameLibrary: Array.from(c.options.frameLibrary),
    },
  });
}

// ---- running both sides --------------------------------------------------------------------------------------------

type Outcome = { tree: ProcessedTree } | { error: unknown };

function runOracle(c: Case): Outcome {
  try {
    return { tree: oracleProcess(c.stacks, c.samples, c.options, c.waits) };
  } catch (error) {
    return { error };
  }
}

/** Cut [0, n) into random consecutive chunks (some empty). */
function splits(rng: Rng, n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < n) {
    const len = rng.chance(0.1) ? 0 : rng.int(1, Math.max(1, Math.ceil(n / 3)));
    out.push([i, Math.min(n, i + len)]);
    i += len;
  }
  if (rng.chance(0.3)) out.push([n, n]);
  return out;
}

/**
 * The wasm core on the case: stacks, samples and waits each in one call, unless `rng` asks for random chunks.
 * Chunked, stacks arrive the way a streaming sampler sends them: in chunks of their own, each before the first
 * sample chunk that refers to its stacks (the core may check sample stack ids as they arrive); waits arrive in
 * chunks of their own between sample chunks, possibly before the stacks they name (checked at process time).
 */
async function runWasm(c: Case, rng?: Rng): Promise<Outcome> {
  let session: CoreSession | null = null;
  try {
    session = await core!.createCoreSession();
    const ns = c.stacks.parent.length;
    const n = c.samples.stack.length;
    let stacksAdded = 0;
    const addStacksUpTo = (end: number): void => {
      while (stacksAdded < end) {
        const to = rng ? Math.min(end, stacksAdded + rng.int(1, Math.max(1, end - stacksAdded))) : end;
        session!.addStacks(c.stacks.parent.slice(stacksAdded, to), c.stacks.frame.slice(stacksAdded, to));
        stacksAdded = to;
      }
    };
    const waits = c.waits;
    const waitChunks = waits
      ? (rng ? splits(rng, waits.start.length) : [[0, waits.start.length] as [number, number]])
      : [];
    const addWaitChunk = (): void => {
      const [from, to] = waitChunks.shift()!;
      session!.addWaits(waits!.start.slice(from, to), waits!.end.slice(from, to), waits!.stack.slice(from, to));
    };
    if (!rng) addStacksUpTo(ns);
    else if (rng.chance(0.3)) session.addStacks(new Int32Array(0), new Uint32Array(0));
    const sampleChunks = rng ? splits(rng, n) : [[0, n] as [number, number]];
    // A session of no samples says it has a CPU column with an empty chunk (the core cannot know otherwise).
    if (sampleChunks.length === 0 && c.samples.cpu) sampleChunks.push([0, 0]);
    for (const [from, to] of sampleChunks) {
      if (rng) {
        let needed = 0;
        for (let i = from; i < to; i++) needed = Math.max(needed, c.samples.stack[i] + 1);
        addStacksUpTo(Math.min(ns, Math.max(needed, rng.chance(0.3) ? rng.int(needed, ns) : needed)));
        while (waitChunks.length > 0 && rng.chance(0.5)) addWaitChunk();
      }
      session.addSamples(
        c.samples.stack.slice(from, to),
        c.samples.time.slice(from, to),
        c.samples.state.slice(from, to),
        c.samples.cpu?.slice(from, to),
      );
    }
    while (waitChunks.length > 0) addWaitChunk();
    addStacksUpTo(ns);
    return { tree: session.process(c.options) };
  } catch (error) {
    return { error };
  } finally {
    try {
      session?.dispose();
    } catch {
      // reported by the caller's next session if it matters
    }
  }
}

const isTrap = (e: unknown): boolean => typeof WebAssembly !== "undefined" && e instanceof WebAssembly.RuntimeError;

/** "" when both outcomes agree (same tree, or both an Error that is not a trap), else what differs. */
function disagreement(expected: Outcome, actual: Outcome): string {
  if ("error" in actual && isTrap(actual.error)) return `wasm trapped: ${String(actual.error)}`;
  if ("error" in expected && "error" in actual) {
    return actual.error instanceof Error ? "" : `wasm threw a non-Error: ${String(actual.error)}`;
  }
  if ("error" in expected) return `oracle threw (${(expected.error as Error).message}), wasm returned a tree`;
  if ("error" in actual) {
    return `wasm threw (${String((actual.error as Error)?.message ?? actual.error)}), oracle returned a tree`;
  }
  return firstDifference(expected.tree, actual.tree);
}

// ---- shrinking -------------------------------------------------------------------------------------------------------

function withWaits(c: Case, keep: (i: number) => boolean): Case {
  if (!c.waits) return c;
  const w = c.waits;
  const idx = Array.from({ length: w.start.length }, (_, i) => i).filter(keep);
  return {
    ...c,
    waits: {
      start: Float64Array.from(idx, (i) => w.start[i]),
      end: Float64Array.from(idx, (i) => w.end[i]),
      stack: Int32Array.from(idx, (i) => w.stack[i]),
    },
  };
}

function withSamples(c: Case, keep: (i: number) => boolean): Case {
  const idx = Array.from({ length: c.samples.stack.length }, (_, i) => i).filter(keep);
  const cpu = c.samples.cpu;
  return {
    ...c,
    samples: {
      stack: Int32Array.from(idx, (i) => c.samples.stack[i]),
      time: Float64Array.from(idx, (i) => c.samples.time[i]),
      state: Uint8Array.from(idx, (i) => c.samples.state[i]),
      ...(cpu ? { cpu: Float64Array.from(idx, (i) => cpu[i]) } : {}),
    },
  };
}

function withoutCpu(c: Case): Case {
  const { cpu: _, ...samples } = c.samples;
  return { ...c, samples };
}

function withOptions(c: Case, patch: Partial<CoreProcessOptions>): Case {
  return { ...c, options: { ...c.options, ...patch } };
}

/** The case with only the stacks its samples use and their ancestors, renumbered in order; `intern` also merges
 * stacks with the same path. */
function compactStacks(c: Case, intern: boolean): Case {
  const ns = c.stacks.parent.length;
  const used = new Uint8Array(ns);
  const referenced = [...c.samples.stack, ...(c.waits?.stack ?? [])];
  for (const s of referenced) for (let x = s; x !== -1 && !used[x]; x = c.stacks.parent[x]) used[x] = 1;
  const newId = new Int32Array(ns).fill(-1);
  const parent: number[] = [];
  const frame: number[] = [];
  const byPath = new Map<string, number>();
  for (let s = 0; s < ns; s++) {
    if (!used[s]) continue;
    const p = c.stacks.parent[s] === -1 ? -1 : newId[c.stacks.parent[s]];
    const key = `${p}:${c.stacks.frame[s]}`;
    const existing = intern ? byPath.get(key) : undefined;
    if (existing !== undefined) {
      newId[s] = existing;
      continue;
    }
    newId[s] = parent.length;
    byPath.set(key, parent.length);
    parent.push(p);
    frame.push(c.stacks.frame[s]);
  }
  return {
    ...c,
    stacks: { parent: Int32Array.from(parent), frame: Uint32Array.from(frame) },
    samples: { ...c.samples, stack: c.samples.stack.map((s) => (s === -1 ? -1 : newId[s])) },
    waits: c.waits && { ...c.waits, stack: c.waits.stack.map((s) => (s === -1 ? -1 : newId[s])) },
  };
}

/** The case without stack s: its children hang from its parent, its samples use its parent. */
function spliceStack(c: Case, s: number): Case {
  const up = c.stacks.parent[s];
  const renumber = (x: number): number => (x === s ? renumber(up) : x > s ? x - 1 : x);
  const keep = (_: number, i: number): boolean => i !== s;
  return {
    ...c,
    stacks: {
      parent: c.stacks.parent.map(renumber).filter(keep),
      frame: c.stacks.frame.filter(keep),
    },
    samples: { ...c.samples, stack: c.samples.stack.map(renumber) },
    waits: c.waits && { ...c.waits, stack: c.waits.stack.map(renumber) },
  };
}

/** Smaller variants of a case, most aggressive first. */
function* shrinkSteps(c: Case): Generator<Case> {
  const n = c.samples.stack.length;
  if (c.samples.cpu) yield withoutCpu(c);
  if (c.waits) {
    if (c.waits.start.length > 0) yield { ...c, waits: undefined };
    const m = c.waits.start.length;
    for (let size = Math.floor(m / 2); size >= 1; size = Math.floor(size / 2)) {
      for (let from = 0; from + size <= m; from += size) yield withWaits(c, (i) => i < from || i >= from + size);
    }
  }
  for (let size = Math.floor(n / 2); size >= 1; size = Math.floor(size / 2)) {
    for (let from = 0; from + size <= n; from += size) yield withSamples(c, (i) => i < from || i >= from + size);
  }
  if (c.options.startStack.length > 0) {
    yield withOptions(c, { startStack: [] });
    yield withOptions(c, { startStack: Array.from(c.options.startStack).slice(0, -1) });
  }
  if (c.options.filterThreshold !== 0) yield withOptions(c, { filterThreshold: 0 });
  if (c.options.showAll) yield withOptions(c, { showAll: false });
  if (c.options.timeline) yield withOptions(c, { timeline: false });
  if (c.options.gapCap !== 1_000_000) yield withOptions(c, { gapCap: 1_000_000 });
  if (c.options.idleSampled) yield withOptions(c, { idleSampled: false });
  if (c.options.runningGapToPrevious) yield withOptions(c, { runningGapToPrevious: false });
  if (c.options.interval) yield withOptions(c, { interval: 0 });
  for (let f = 0; f < c.options.frameFlags.length; f++) {
    if (c.options.frameFlags[f] !== 0) {
      const flags = c.options.frameFlags.slice();
      flags[f] = 0;
      yield withOptions(c, { frameFlags: flags });
    }
    if (c.options.frameLibrary[f] !== NO_LIBRARY) {
      const libs = c.options.frameLibrary.slice();
      libs[f] = NO_LIBRARY;
      yield withOptions(c, { frameLibrary: libs });
    }
  }
  // Keep only the stacks the samples use (and their callers), then one stack id per path.
  const compacted = compactStacks(c, false);
  if (compacted.stacks.parent.length < c.stacks.parent.length) yield compacted;
  const interned = compactStacks(c, true);
  if (interned.stacks.parent.length < c.stacks.parent.length) yield interned;
  // Shorter paths: splice one stack out (its children and samples move to its parent).
  for (let s = 0; s < c.stacks.parent.length; s++) yield spliceStack(c, s);
  // Earlier times: close the gaps one sample at a time.
  for (let i = 0; i < n; i++) {
    const prev = i > 0 ? c.samples.time[i - 1] : 0;
    if (c.samples.time[i] > prev + 1) {
      const time = c.samples.time.slice();
      const delta = time[i] - prev - 1;
      for (let k = i; k < n; k++) time[k] -= delta;
      yield {
        ...c,
        samples: { ...c.samples, time },
        options: { ...c.options, duration: Math.max(0, c.options.duration - delta) },
      };
    }
  }
  // Smaller CPU steps: flatten the column up to one sample.
  const cpu = c.samples.cpu;
  for (let i = 0; cpu && i < n; i++) {
    const prev = i > 0 ? cpu[i - 1] : 0;
    if (cpu[i] > prev) {
      const flat = cpu.slice();
      const delta = cpu[i] - prev;
      for (let k = i; k < n; k++) flat[k] -= delta;
      yield { ...c, samples: { ...c.samples, cpu: flat } };
    }
  }
}

async function shrink(c: Case, fails: (c: Case) => Promise<boolean>): Promise<Case> {
  let current = c;
  for (let round = 0; round < 200; round++) {
    let smaller: Case | null = null;
    for (const candidate of shrinkSteps(current)) {
      if (await fails(candidate)) {
        smaller = candidate;
        break;
      }
    }
    if (smaller === null) break;
    current = smaller;
  }
  return current;
}

async function report(seed: number, c: Case, what: string, fails: (c: Case) => Promise<boolean>): Promise<string> {
  const small = await shrink(c, fails);
  return `seed ${seed}: ${what}\n  shrunk case: ${caseJson(small)}`;
}

// ---- oracle invariants (run with or without the wasm core) --------------------------------------------------------------

function checkInvariants(c: Case, t: ProcessedTree): string {
  const n = t.frame.length;
  if (n < 1 || t.frame[0] !== SyntheticFrame.root || t.parent[0] !== -1 || t.depth[0] !== 0) return "bad root";
  const samples = c.samples.time.length;
  const end = samples === 0 ? 0 : Math.max(Math.round(c.options.duration), Math.round(c.samples.time[samples - 1]));
  if (t.time[0] !== end) return `root time ${t.time[0]}, expected end ${end}`;
  const childSum = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    const p = t.parent[i];
    if (!(p >= 0 && p < i) || t.depth[i] !== t.depth[p] + 1) return `bad parent/depth at ${i}`;
    if (t.awaitTime[i] > t.time[i] || t.time[i] <= 0) return `bad times at ${i}`;
    childSum[p] += t.time[i];
  }
  // Siblings: in aggregated mode distinct frames in descending time; in timeline mode no two adjacent alike.
  const lastChild = new Map<number, number>();
  for (let i = 1; i < n; i++) {
    const prev = lastChild.get(t.parent[i]);
    if (prev !== undefined) {
      const nothingRemoved = c.options.showAll || c.options.filterThreshold <= 0;
      if (c.options.timeline && nothingRemoved && t.frame[prev] === t.frame[i]) {
        return `timeline siblings ${prev}, ${i} alike`;
      }
      if (!c.options.timeline && t.time[prev] < t.time[i]) return `siblings ${prev}, ${i} out of order`;
    }
    lastChild.set(t.parent[i], i);
  }
  if (c.options.showAll) {
    for (let i = 0; i < n; i++) {
      if (t.time[i] !== t.selfTime[i] + childSum[i]) return `node ${i}: time != self + children`;
    }
    if (t.groupRoot.length !== 0) return "groups with showAll";
  }
  for (let g = 0; g < t.groupRoot.length; g++) {
    const root = t.groupRoot[g];
    if (t.group[root] !== g || !(t.flags[root] & NodeFlag.groupRoot) || !(t.flags[root] & NodeFlag.visible)) {
      return `group ${g}: bad root`;
    }
    if (g > 0 && t.groupRoot[g - 1] >= root) return "group ids not in pre-order of their roots";
  }
  for (let i = 0; i < n; i++) if (t.group[i] === -1 && !(t.flags[i] & NodeFlag.visible)) return `ungrouped ${i} hidden`;
  let flatSelf = 0;
  for (let i = 0; i < t.flatFrame.length; i++) {
    if (t.flatSelf[i] > t.flatTotal[i]) return `flat row ${i}: self > total`;
    flatSelf += t.flatSelf[i];
  }
  if (c.options.showAll && flatSelf > t.time[0]) return "flat self exceeds the total";
  // CPU time (SPEC "CPU time"): known iff the session has the column; the root holds all of it (the last
  // reading, rounded); inclusive, so no node has less than its children.
  const cpu = c.samples.cpu;
  if ((t.cpuTime !== undefined) !== (cpu !== undefined)) {
    return "cpuTime present without samples.cpu, or absent with it";
  }
  if (cpu && t.cpuTime) {
    if (t.cpuTime.length !== n) return "cpuTime length";
    const want = samples === 0 ? 0 : Math.round(cpu[samples - 1]);
    if (t.cpuTime[0] !== want) return `root cpu ${t.cpuTime[0]}, expected ${want}`;
    const childCpu = new Float64Array(n);
    for (let i = 1; i < n; i++) childCpu[t.parent[i]] += t.cpuTime[i];
    for (let i = 0; i < n; i++) if (!(t.cpuTime[i] >= childCpu[i])) return `node ${i}: cpu below its children's`;
  }
  return "";
}

// ---- malformed inputs ----------------------------------------------------------------------------------------------------

/** A copy of a valid case with one thing broken, as listed in SPEC "Validation"; null when it cannot be broken so. */
function corrupt(c: Case, rng: Rng): { what: string; c: Case } | null {
  const frameCount = c.options.frameFlags.length;
  const stacks = { parent: c.stacks.parent.slice(), frame: c.stacks.frame.slice() };
  const samples: SampleTable = {
    stack: c.samples.stack.slice(),
    time: c.samples.time.slice(),
    state: c.samples.state.slice(),
  };
  if (c.samples.cpu) samples.cpu = c.samples.cpu.slice();
  const ns = stacks.parent.length;
  const n = samples.stack.length;
  const kind = rng.int(0, 9);
  // A third of the cases break a wait instead, when the case has waits.
  const w = c.waits;
  if (w && w.start.length > 0 && rng.chance(0.33)) {
    const waits = { start: w.start.slice(), end: w.end.slice(), stack: w.stack.slice() };
    const m = waits.start.length;
    const i = rng.int(0, m - 1);
    const bad = { ...c, waits };
    switch (rng.int(0, 5)) {
      case 0:
        waits.start[i] = rng.pick([NaN, Infinity, -1]);
        return { what: `wait ${i} start ${waits.start[i]}`, c: bad };
      case 1:
        waits.end[i] = rng.pick([NaN, Infinity, -Infinity]);
        return { what: `wait ${i} end ${waits.end[i]}`, c: bad };
      case 2:
        waits.end[i] = waits.start[i] - rng.pick([0.25, 1, 100]);
        return { what: `wait ${i} ends before it starts`, c: bad };
      case 3:
        if (m < 2) return null;
        waits.start[m - 1] = waits.start[m - 2] - rng.pick([0.5, 1, 1000]);
        if (waits.start[m - 1] < 0) return null;
        return { what: `wait ${m - 1} starts before the one before it`, c: bad };
      case 4:
        waits.stack[i] = rng.pick([ns, ns + 3, 2147483647]);
        return { what: `wait ${i} stack ${waits.stack[i]} >= stack count`, c: bad };
      default:
        waits.stack[i] = rng.pick([-2, -2147483648]);
        return { what: `wait ${i} stack ${waits.stack[i]} < -1`, c: bad };
    }
  }
  const cpu = c.samples.cpu;
  if (cpu && n > 0 && rng.chance(0.25)) {
    const bad = { ...c, samples: { ...samples, cpu: cpu.slice() } };
    const i = rng.int(0, n - 1);
    switch (rng.int(0, 2)) {
      case 0:
        bad.samples.cpu[i] = rng.pick([NaN, Infinity, -1, -0.75]);
        return { what: `sample ${i} cpu ${bad.samples.cpu[i]}`, c: bad };
      case 1:
        if (n < 2 || cpu[n - 2] < 0.5) return null;
        bad.samples.cpu[n - 1] = cpu[n - 2] - rng.pick([0.5, 1, cpu[n - 2]]);
        return { what: `sample ${n - 1} cpu goes back`, c: bad };
      default:
        bad.samples.cpu = cpu.slice(0, n - 1);
        return { what: "cpu column shorter than the samples", c: bad };
    }
  }
  switch (kind) {
    case 0: {
      if (ns === 0) return null;
      const i = rng.int(0, ns - 1);
      stacks.parent[i] = rng.int(i, i + 3);
      return { what: `parent[${i}] = ${stacks.parent[i]} >= own id`, c: { ...c, stacks } };
    }
    case 1: {
      if (ns === 0) return null;
      const i = rng.int(0, ns - 1);
      stacks.parent[i] = rng.pick([-2, -1000, -2147483648]);
      return { what: `parent[${i}] = ${stacks.parent[i]} < -1`, c: { ...c, stacks } };
    }
    case 2: {
      if (ns === 0) return null;
      const i = rng.int(0, ns - 1);
      stacks.frame[i] = rng.pick([frameCount, frameCount + 1, SyntheticFrame.idle, 0xffffffff]);
      return { what: `frame[${i}] = ${stacks.frame[i]} >= frame count ${frameCount}`, c: { ...c, stacks } };
    }
    case 3: {
      if (n === 0) return null;
      const i = rng.int(0, n - 1);
      samples.stack[i] = rng.pick([ns, ns + 5, -2, -2147483648, 2147483647]);
      return { what: `sample ${i} stack ${samples.stack[i]} out of range`, c: { ...c, samples } };
    }
    case 4: {
      if (n === 0) return null;
      const i = rng.int(0, n - 1);
      samples.time[i] = rng.pick([NaN, Infinity, -Infinity]);
      return { what: `sample ${i} time ${samples.time[i]}`, c: { ...c, samples } };
    }
    case 5: {
      if (n === 0) return null;
      samples.time[0] = rng.pick([-1, -0.75, -1e9]);
      return { what: `sample 0 time ${samples.time[0]} < 0`, c: { ...c, samples } };
    }
    case 6: {
      if (n < 2) return null;
      const i = rng.int(1, n - 1);
      samples.time[i] = samples.time[i - 1] - rng.pick([1, 2, 1000]);
      if (samples.time[i] < 0) return null;
      return { what: `sample ${i} time goes back`, c: { ...c, samples } };
    }
    case 7: {
      if (n === 0) return null;
      const i = rng.int(0, n - 1);
      samples.state[i] = rng.int(6, 255);
      return { what: `sample ${i} state ${samples.state[i]}`, c: { ...c, samples } };
    }
    case 8: {
      const startStack = [...Array.from(c.options.startStack), rng.pick([frameCount, frameCount + 7, 2 ** 32])];
      return { what: `startStack entry >= frame count`, c: withOptions(c, { startStack }) };
    }
    default: {
      // Several things at once, including huge and nonsensical values.
      if (ns === 0 || n === 0) return null;
      stacks.parent[ns - 1] = 2147483647;
      samples.stack[0] = -5;
      samples.time[n - 1] = NaN;
      return { what: "several faults at once", c: { ...c, stacks, samples } };
    }
  }
}

/** Print each failure in full (seed and case), then fail with a one-line summary. */
function expectNone(failures: string[]): void {
  for (const f of failures) console.log(`\n${f}`);
  assert.ok(
    failures.length === 0,
    `${failures.length} failure(s), printed above; first: ${failures[0]?.split("\n")[0]}`,
  );
}

// ---- the properties ------------------------------------------------------------------------------------------------------

const seeds = Array.from({ length: CASES }, (_, i) => (BASE_SEED + i) >>> 0);

test(`oracle invariants hold on ${CASES} random sessions`, () => {
  const failures: string[] = [];
  for (const seed of seeds) {
    const c = randomCase(seed);
    let t: ProcessedTree;
    try {
      t = oracleProcess(c.stacks, c.samples, c.options, c.waits);
    } catch (e) {
      failures.push(`seed ${seed}: oracle threw on a valid case: ${(e as Error).message}\n  case: ${caseJson(c)}`);
      continue;
    }
    const problem = checkInvariants(c, t);
    if (problem) failures.push(`seed ${seed}: ${problem}\n  case: ${caseJson(c)}`);
    if (failures.length >= 5) break;
  }
  expectNone(failures);
});

test("the random sessions cover every SPEC step", () => {
  const seen = {
    empty: 0, // no samples
    leadingIdle: 0,
    gapIdle: 0,
    runningGap: 0, // idleSampled changes the tree (a gap between running samples beyond the cap)
    runningGapWithWaits: 0, // ... in a session whose waits are attributed
    equalTimes: 0,
    trimmed: 0,
    filtered: 0,
    dropped: 0,
    groups: 0,
    hiddenInGroup: 0,
    groupLibs: 0,
    timeline: 0,
    showAll: 0,
    duplicatePaths: 0,
    // await attribution
    waitsAttributed: 0, // the tree differs from asyncMode disabled
    gapRuleTrustsWait: 0, // the tree differs without the interval
    overlappingWaits: 0, // some wait starts before an earlier one ends, both charged
    unknownWaitStack: 0,
    waitsPastEnd: 0,
    disabledWithWaits: 0,
    strictWithWaits: 0,
    // CPU time
    cpuKnown: 0,
    cpuWithoutWall: 0, // a sample with CPU time but no wall time (dt 0): an entry of CPU alone
    cpuWithAwaits: 0, // CPU time in a tree that await attribution changed
    cpuBigDelta: 0, // a delta past u16
  };
  for (const seed of seeds) {
    const c = randomCase(seed);
    const t = oracleProcess(c.stacks, c.samples, c.options, c.waits);
    const n = c.samples.time.length;
    const w = c.waits;
    if (w && w.start.length > 0) {
      const mode = c.options.asyncMode ?? "enabled";
      if (mode === "disabled") seen.disabledWithWaits++;
      if (mode === "strict") seen.strictWithWaits++;
      if (mode !== "disabled") {
        const off = oracleProcess(c.stacks, c.samples, { ...c.options, asyncMode: "disabled" }, w);
        if (firstDifference(off, t) !== "") seen.waitsAttributed++;
        if (c.options.interval) {
          const noInterval = oracleProcess(c.stacks, c.samples, { ...c.options, interval: 0 }, w);
          if (firstDifference(noInterval, t) !== "") seen.gapRuleTrustsWait++;
        }
        let maxEnd = -1;
        for (let i = 0; i < w.start.length; i++) {
          if (w.start[i] < maxEnd && w.end[i] > w.start[i]) {
            seen.overlappingWaits++;
            break;
          }
          maxEnd = Math.max(maxEnd, w.end[i]);
        }
        if (w.stack.some((s) => s === -1)) seen.unknownWaitStack++;
        if (n > 0 && w.end.some((e) => e > Math.max(c.options.duration, c.samples.time[n - 1]))) seen.waitsPastEnd++;
      }
    }
    const cpu = c.samples.cpu;
    if (cpu && t.cpuTime) {
      seen.cpuKnown++;
      if (Array.from(cpu).some((x, i) => i > 0 && x > cpu[i - 1] && c.samples.time[i] === c.samples.time[i - 1])) {
        seen.cpuWithoutWall++;
      }
      if (t.awaitTime[0] > 0 && t.cpuTime[0] > 0) seen.cpuWithAwaits++;
      if (Array.from(cpu).some((x, i) => x - (i > 0 ? cpu[i - 1] : 0) >= 65_535)) seen.cpuBigDelta++;
    }
    if (n === 0) seen.empty++;
    if (n > 0 && c.samples.time[0] >= 0.5) seen.leadingIdle++;
    if (Array.from(c.samples.time).some((x, i) => i > 0 && x - c.samples.time[i - 1] > c.options.gapCap)) {
      seen.gapIdle++;
    }
    if (c.options.idleSampled) {
      const off = oracleProcess(c.stacks, c.samples, { ...c.options, idleSampled: false }, c.waits);
      if (firstDifference(off, t) !== "") {
        seen.runningGap++;
        if (w && w.start.length > 0 && (c.options.asyncMode ?? "enabled") !== "disabled") seen.runningGapWithWaits++;
      }
    }
    if (Array.from(c.samples.time).some((x, i) => i > 0 && x === c.samples.time[i - 1])) seen.equalTimes++;
    const untrimmed = oracleProcess(c.stacks, c.samples, { ...c.options, startStack: [] }, c.waits);
    if (untrimmed.frame.length !== t.frame.length || firstDifference(untrimmed, t) !== "") seen.trimmed++;
    if (!c.options.showAll && c.options.frameFlags.some((f) => (f & 3) !== 0)) seen.filtered++;
    if (!c.options.showAll && c.options.filterThreshold > 0) {
      const all = oracleProcess(c.stacks, c.samples, { ...c.options, filterThreshold: 0 }, c.waits);
      if (all.frame.length > t.frame.length + 1) seen.dropped++;
    }
    if (t.groupRoot.length > 0) seen.groups++;
    if (t.groupHidden.some((h) => h > 0)) seen.hiddenInGroup++;
    if (t.groupLibs.length > 1) seen.groupLibs++;
    if (c.options.timeline) seen.timeline++;
    if (c.options.showAll) seen.showAll++;
    const paths = new Set<string>();
    for (let s = 0; s < c.stacks.parent.length; s++) {
      const key = pathOf(c.stacks, s).join(",");
      if (paths.has(key)) {
        seen.duplicatePaths++;
        break;
      }
      paths.add(key);
    }
  }
  console.log(`core-property: ${CASES} sessions from seed ${BASE_SEED}: ${JSON.stringify(seen)}`);
  if (CASES >= 200) {
    for (const [what, count] of Object.entries(seen)) assert.ok(count >= 5, `only ${count} sessions with ${what}`);
  }
});

test("oracle: the timeline and aggregated views have the same flat view and total", () => {
  for (const seed of seeds.slice(0, 200)) {
    const c = randomCase(seed);
    const a = oracleProcess(c.stacks, c.samples, withOptions(c, { timeline: false }).options, c.waits);
    const t = oracleProcess(c.stacks, c.samples, withOptions(c, { timeline: true }).options, c.waits);
    for (const key of ["flatFrame", "flatSelf", "flatTotal"] as const) {
      assert.equal(Array.from(a[key]), Array.from(t[key]), `seed ${seed} ${key}`);
    }
    assert.is(a.time[0], t.time[0], `seed ${seed}`);
    assert.is(a.cpuTime?.[0], t.cpuTime?.[0], `seed ${seed} cpu`);
  }
});

test('oracle: the CPU column changes nothing but cpuTime (SPEC "CPU time")', () => {
  let compared = 0;
  for (const seed of seeds) {
    const c = randomCase(seed);
    if (!c.samples.cpu) continue;
    const withCpu = oracleProcess(c.stacks, c.samples, c.options, c.waits);
    const without = oracleProcess(c.stacks, withoutCpu(c).samples, c.options, c.waits);
    assert.is(firstDifference(without, { ...withCpu, cpuTime: undefined }), "", `seed ${seed}`);
    compared++;
  }
  assert.ok(compared > CASES / 4, `${compared} cases with a CPU column`);
});

test(`oracle rejects malformed inputs with an Error (${CASES} cases)`, () => {
  for (const seed of seeds) {
    const rng = new Rng(seed ^ 0x5bd1e995);
    const bad = corrupt(randomCase(seed), rng);
    if (bad === null) continue;
    assert.throws(
      () => oracleProcess(bad.c.stacks, bad.c.samples, bad.c.options, bad.c.waits),
      Error,
      `seed ${seed}: ${bad.what}`,
    );
  }
});

if (core === null) {
  console.log(`core-property: wasm/core.ts not loaded (${coreMissing}); wasm properties skipped`);
  test.skip("wasm equals the oracle on random sessions (wasm/core.ts missing)", () => {});
  test.skip("wasm with stacks and samples in random chunks equals the oracle (wasm/core.ts missing)", () => {});
  test.skip("wasm: one session processed with several options, and between chunks (wasm/core.ts missing)", () => {});
  test.skip("wasm rejects malformed inputs with an Error, never a trap (wasm/core.ts missing)", () => {});
} else {
  const MAX_REPORTED = 5;

  test(`wasm equals the oracle on ${CASES} random sessions`, async () => {
    const failures: string[] = [];
    for (const seed of seeds) {
      const c = randomCase(seed);
      const what = disagreement(runOracle(c), await runWasm(c));
      if (what) {
        const fails = async (x: Case) => disagreement(runOracle(x), await runWasm(x)) !== "";
        failures.push(await report(seed, c, what, fails));
        if (failures.length >= MAX_REPORTED) break;
      }
    }
    expectNone(failures);
  });

  test(`wasm with stacks and samples in random chunks equals the oracle (${CASES} sessions)`, async () => {
    const failures: string[] = [];
    for (const seed of seeds) {
      const c = randomCase(seed);
      const chunkSeed = (seed ^ 0x9e3779b9) >>> 0;
      const what = disagreement(runOracle(c), await runWasm(c, new Rng(chunkSeed)));
      if (what) {
        const fails = async (x: Case) => disagreement(runOracle(x), await runWasm(x, new Rng(chunkSeed))) !== "";
        failures.push(await report(seed, c, `(chunked) ${what}`, fails));
        if (failures.length >= MAX_REPORTED) break;
      }
    }
    expectNone(failures);
  });

  test("wasm: one session processed with several options gives each the oracle's tree", async () => {
    const failures: string[] = [];
    for (const seed of seeds.slice(0, 200)) {
      const c = randomCase(seed);
      const rng = new Rng(seed ^ 0x1234567);
      const session = await core!.createCoreSession();
      try {
        session.addStacks(c.stacks.parent, c.stacks.frame);
        session.addSamples(c.samples.stack, c.samples.time, c.samples.state, c.samples.cpu);
        if (c.waits) session.addWaits(c.waits.start, c.waits.end, c.waits.stack);
        for (let k = 0; k < 3; k++) {
          const o = withOptions(c, {
            timeline: rng.chance(0.5),
            showAll: rng.chance(0.3),
            filterThreshold: rng.pick([0, 0.01, 0.1]),
            flatTime: rng.chance(0.5) ? "self" : "total",
            asyncMode: rng.pick(["enabled", "strict", "disabled"] as const),
            interval: rng.pick([0, 1, 3]),
            idleSampled: rng.chance(0.5),
            runningGapToPrevious: rng.chance(0.5),
          });
          let actual: Outcome;
          try {
            actual = { tree: session.process(o.options) };
          } catch (error) {
            actual = { error };
          }
          const what = disagreement(runOracle(o), actual);
          if (what) failures.push(`seed ${seed}, process #${k + 1}: ${what}\n  case: ${caseJson(o)}`);
        }
      } finally {
        session.dispose();
      }
      if (failures.length >= MAX_REPORTED) break;
    }
    expectNone(failures);
  });

  test("wasm: processing between sample chunks gives the oracle's tree of the samples so far", async () => {
    const failures: string[] = [];
    for (const seed of seeds.slice(0, 200)) {
      const c = randomCase(seed);
      const rng = new Rng(seed ^ 0x2545f491);
      const session = await core!.createCoreSession();
      try {
        session.addStacks(c.stacks.parent, c.stacks.frame);
        if (c.waits) session.addWaits(c.waits.start, c.waits.end, c.waits.stack);
        for (const [from, to] of splits(rng, c.samples.stack.length)) {
          session.addSamples(
            c.samples.stack.slice(from, to),
            c.samples.time.slice(from, to),
            c.samples.state.slice(from, to),
            c.samples.cpu?.slice(from, to),
          );
          const sofar = withSamples(c, (i) => i < to);
          let actual: Outcome;
          try {
            actual = { tree: session.process(sofar.options) };
          } catch (error) {
            actual = { error };
          }
          const what = disagreement(runOracle(sofar), actual);
          if (what) {
            failures.push(`seed ${seed}, after samples [0, ${to}): ${what}\n  case: ${caseJson(sofar)}`);
            break;
          }
        }
      } finally {
        session.dispose();
      }
      if (failures.length >= MAX_REPORTED) break;
    }
    expectNone(failures);
  });

  test(`wasm rejects malformed inputs with an Error, never a trap (${CASES} cases)`, async () => {
    const failures: string[] = [];
    for (const seed of seeds) {
      const rng = new Rng(seed ^ 0x5bd1e995);
      const bad = corrupt(randomCase(seed), rng);
      if (bad === null) continue;
      const chunked = rng.chance(0.5) ? new Rng(seed) : undefined;
      const outcome = await runWasm(bad.c, chunked);
      if (!("error" in outcome)) failures.push(`seed ${seed}: ${bad.what}: wasm returned a tree`);
      else if (isTrap(outcome.error) || !(outcome.error instanceof Error)) {
        failures.push(`seed ${seed}: ${bad.what}: wasm threw ${String(outcome.error)}`);
      }
      if (failures.length >= MAX_REPORTED) break;
    }
    // The module is still usable after all those errors.
    const c = randomCase(seeds[0]);
    const what = disagreement(runOracle(c), await runWasm(c));
    if (what) failures.push(`after the malformed inputs, a valid session: ${what}`);
    expectNone(failures);
  });

  test("wasm agrees with the oracle on the edge cases SPEC.md leaves to judgement", async () => {
    const base = (
      stacks: [number[], number[]],
      samples: [number[], number[], number[]?],
      o: Partial<CoreProcessOptions>,
    ): Case => ({
      stacks: { parent: Int32Array.from(stacks[0]), frame: Uint32Array.from(stacks[1]) },
      samples: {
        stack: Int32Array.from(samples[0]),
        time: Float64Array.from(samples[1]),
        state: Uint8Array.from(samples[2] ?? samples[0].map(() => 0)),
      },
      options: {
        duration: 10,
        gapCap: 1_000_000,
        timeline: false,
        showAll: false,
        filterThreshold: 0,
        flatTime: "self",
        startStack: [],
        frameFlags: new Uint8Array(12),
        frameLibrary: new Uint32Array(12).fill(NO_LIBRARY),
        ...o,
      },
    });
    const withWaits2 = (c: Case, waits: Array<[number, number, number]>): Case => ({
      ...c,
      waits: {
        start: Float64Array.from(waits, (w) => w[0]),
        end: Float64Array.from(waits, (w) => w[1]),
        stack: Int32Array.from(waits, (w) => w[2]),
      },
    });
    const lib = new Uint8Array(12).fill(FrameFlag.library, 8);
    const two: [number[], number[]] = [[-1, -1], [0, 1]];
    const cases: Array<[string, Case]> = [
      // Group ids in pre-order of their roots (A>B>L1>L2 first, then L3>L4), as pyinstrument numbers them.
      [
        "group id order",
        base([[-1, 0, 1, 2, -1, 4], [0, 1, 8, 9, 10, 11]], [[3, 5], [0, 60]], { duration: 100, frameFlags: lib }),
      ],
      ["flat: an empty js stack has no row", base([[-1], [0]], [[-1, 0], [0, 10]], { duration: 20 })],
      [
        "flat: every frame filtered",
        base([[-1], [0]], [[0, 0], [0, 10]], {
          duration: 20,
          frameFlags: Uint8Array.from([1, ...new Array(11).fill(0)]),
        }),
      ],
      ["times going back before rounding (1.2, 1.1)", base(two, [[0, 1], [1.2, 1.1]], {})],
      ["0.49999999999999994 and 2.5", base(two, [[0, 1], [0.49999999999999994, 2.5]], { duration: 4 })],
      ["fractional duration", base(two, [[0, 1], [0, 5]], { duration: 10.5 })],
      ["fractional gapCap 2.5", base(two, [[0, 1], [0, 5]], { gapCap: 2.5 })],
      ["fractional gapCap 2.4", base(two, [[0, 1], [0, 5]], { gapCap: 2.4 })],
      ["gapCap Infinity", base(two, [[0, 1], [0, 5]], { gapCap: Infinity })],
      ["gapCap NaN", base(two, [[0, 1], [0, 5]], { gapCap: NaN })],
      ["gapCap -1", base(two, [[0, 1], [0, 5]], { gapCap: -1 })],
      ["duration NaN", base(two, [[0, 1], [0, 5]], { duration: NaN })],
      ["duration Infinity", base(two, [[0, 1], [0, 5]], { duration: Infinity })],
      ["duration negative", base(two, [[0, 1], [0, 5]], { duration: -5 })],
      ["frameLibrary shorter than frameFlags", base(two, [[0, 1], [0, 5]], { frameLibrary: new Uint32Array(3) })],
      ["frameLibrary longer than frameFlags", base(two, [[0, 1], [0, 5]], { frameLibrary: new Uint32Array(13) })],
      ["startStack 1.5", base(two, [[0, 1], [0, 5]], { startStack: [1.5] })],
      ["startStack -1", base(two, [[0, 1], [0, 5]], { startStack: [-1] })],
      ["startStack NaN", base(two, [[0, 1], [0, 5]], { startStack: [NaN] })],
      ["filterThreshold NaN", base(two, [[0, 1], [0, 5]], { filterThreshold: NaN })],
      ["filterThreshold -1", base(two, [[0, 1], [0, 5]], { filterThreshold: -1 })],
      ["filterThreshold 2", base(two, [[0, 1], [0, 5]], { filterThreshold: 2 })],
      ["time -0", base(two, [[0, 1], [-0, 5]], {})],
      ["times beyond 2^53", base(two, [[0, 1], [2 ** 53, 2 ** 53 + 2]], { duration: 0 })],
      ["times of 1e300", base(two, [[0, 1], [1e300, 1e300]], { duration: 0 })],
      ["no samples", base(two, [[], []], { duration: 100 })],
      [
        "no stacks, no frames",
        base([[], []], [[-1, -1], [0, 3], [0, 4]], { frameFlags: new Uint8Array(0), frameLibrary: new Uint32Array(0) }),
      ],
      ["flatTime neither self nor total", base(two, [[0, 1], [0, 5]], { flatTime: "both" as "self" })],
      // Await attribution.
      ["waits without samples", withWaits2(base(two, [[], []], { duration: 100 }), [[0, 50, 1]])],
      [
        "waits, no stacks, unknown stack",
        withWaits2(
          base([[], []], [[-1], [0], [1]], { frameFlags: new Uint8Array(0), frameLibrary: new Uint32Array(0) }),
          [[0, 5, -1]],
        ),
      ],
      [
        "wait stack out of range, disabled",
        withWaits2(base(two, [[0, 1], [0, 5], [1, 1]], { asyncMode: "disabled" }), [[0, 5, 2]]),
      ],
      [
        "wait start 0.5 and end 0.49999999999999994",
        withWaits2(base(two, [[-1], [0], [1]], {}), [[0.49999999999999994, 0.5, 0], [0.5, 2.5, 1]]),
      ],
      ["wait end -0", withWaits2(base(two, [[-1], [0], [1]], {}), [[-0, -0, 0], [0, 3, 1]])],
      ["wait ends beyond 2^53", withWaits2(base(two, [[-1], [0], [1]], {}), [[1, 2 ** 53 + 2, 0]])],
      [
        "wait longer than u32::MAX us",
        withWaits2(base(two, [[-1, 1], [0, 6e12], [1, 0]], { duration: 7e12 }), [[5, 5e12 + 3, 0], [6, 5.5e12, 1]]),
      ],
      ["interval NaN", base(two, [[0, 1], [0, 5]], { interval: NaN })],
      ["interval Infinity", base(two, [[0, 1], [0, 5]], { interval: Infinity })],
      ["interval -1", base(two, [[0, 1], [0, 5]], { interval: -1 })],
      [
        "interval 0.5 (rounds to 1)",
        withWaits2(base(two, [[0, 1], [0, 50]], { gapCap: 40, duration: 60, interval: 0.5 }), [[0, 60, 1]]),
      ],
      ["asyncMode unknown", base(two, [[0, 1], [0, 5]], { asyncMode: "on" as "enabled" })],
      [
        "a wait of many pending, remainders",
        withWaits2(
          base(two, [[-1], [0], [1]], { duration: 10 }),
          Array.from({ length: 12 }, (_, i) => [Math.floor(i / 4), 10 - (i % 4), i % 2] as [number, number, number]),
        ),
      ],
    ];
    const failures: string[] = [];
    for (const [what, c] of cases) {
      const problem = disagreement(runOracle(c), await runWasm(c));
      if (problem) failures.push(`${what}: ${problem}\n  case: ${caseJson(c)}`);
    }
    expectNone(failures);
  });

  test("wasm handles a 10,000-deep stack like the oracle", async () => {
    const depth = 10_000;
    const frameFlags = Uint8Array.from({ length: 4 }, (_, f) => (f >= 2 ? FrameFlag.library : 0));
    const c: Case = {
      stacks: {
        parent: Int32Array.from({ length: depth }, (_, i) => i - 1),
        frame: Uint32Array.from({ length: depth }, (_, i) => (i < 3 ? i : 2 + (i % 2))),
      },
      samples: {
        stack: Int32Array.from([depth - 1, depth - 2, -1, depth - 1]),
        time: Float64Array.from([0, 10, 20, 30]),
        state: Uint8Array.from([0, 4, 1, 0]),
      },
      options: {
        duration: 40,
        gapCap: 100,
        timeline: false,
        showAll: false,
        filterThreshold: 0.01,
        flatTime: "total",
        startStack: [0, 1],
        frameFlags,
        frameLibrary: Uint32Array.from([NO_LIBRARY, NO_LIBRARY, 0, 1]),
      },
    };
    for (const timeline of [false, true]) {
      const o = withOptions(c, { timeline });
      assert.is(disagreement(runOracle(o), await runWasm(o)), "", `timeline ${timeline}`);
    }
  });

  test(`wasm diff = oracle diff of two random runs over one frame table (${CASES} cases)`, async () => {
    const failures: string[] = [];
    const seen = { baseOnly: 0, newOnly: 0, selfOneSide: 0, groups: 0, flatRows: 0 };
    for (const seed of seeds) {
      const rng = new Rng(seed ^ 0x2545f491);
      const a = withOptions(randomCase(seed), { timeline: false, filterThreshold: 0 });
      // The other run: a subset of the samples (some paths gone, others with less time), sometimes no waits.
      const b0 = withSamples(a, () => rng.chance(0.6));
      const b = rng.chance(0.3) ? { ...b0, waits: undefined } : b0;
      const [base, next] = rng.chance(0.5) ? [a, b] : [b, a];
      const ob = runOracle(base);
      const on = runOracle(next);
      if ("error" in ob || "error" in on) continue; // malformed input is the other properties' concern
      const options = {
        showAll: a.options.showAll,
        filterThreshold: rng.pick([0, 0.01, 0.05, 0.3]),
        flatTime: a.options.flatTime,
        normalize: rng.chance(0.5),
        frameFlags: a.options.frameFlags,
        frameLibrary: a.options.frameLibrary,
      };
      const expected = oracleDiff(ob.tree, on.tree, options);
      if (expected.side.includes(DiffSide.base)) seen.baseOnly++;
      if (expected.side.includes(DiffSide.new)) seen.newOnly++;
      if (expected.frame.some((f, i) => f === SyntheticFrame.self && expected.side[i] !== 3)) seen.selfOneSide++;
      if (expected.groupRoot.length > 0) seen.groups++;
      if (expected.flatFrame.length > 1) seen.flatRows++;
      const sessions: CoreSession[] = [];
      try {
        for (const c of [base, next]) {
          const s = await core!.createCoreSession();
          sessions.push(s);
          s.addStacks(c.stacks.parent, c.stacks.frame);
          s.addSamples(c.samples.stack, c.samples.time, c.samples.state, c.samples.cpu);
          if (c.waits) s.addWaits(c.waits.start, c.waits.end, c.waits.stack);
          s.process(c.options);
        }
        const actual = sessions[1].diff(sessions[0], options);
        for (const key of Object.keys(expected) as Array<keyof DiffTree>) {
          const e = Array.from(expected[key] as ArrayLike<number>);
          const g = Array.from((actual[key] ?? []) as ArrayLike<number>);
          const at = e.findIndex((v, i) => !Object.is(v, g[i]));
          if (at >= 0 || e.length !== g.length) {
            failures.push(
              `seed ${seed}: ${key}[${at}]: expected ${e[at]}, got ${g[at]} (lengths ${e.length}, ${g.length})`,
            );
            break;
          }
        }
      } finally {
        for (const s of sessions) s.dispose();
      }
      if (failures.length >= MAX_REPORTED) break;
    }
    expectNone(failures);
    // The random pairs reach every rule (at 20 cases and up).
    if (CASES >= 20) { for (const [what, n] of Object.entries(seen)) assert.ok(n > 0, `no case with ${what}`); }
  });

  test(`wasm entries = oracle entries (SPEC "Entries") on ${CASES} random sessions`, async () => {
    const failures: string[] = [];
    for (const seed of seeds) {
      const c = randomCase(seed);
      let expected: Array<{ path: number[]; w: number }>;
      try {
        expected = oracleEntries(c.stacks, c.samples, c.options, c.waits);
      } catch {
        continue; // malformed input is the other properties' concern
      }
      const s = await core!.createCoreSession();
      try {
        s.addStacks(c.stacks.parent, c.stacks.frame);
        s.addSamples(c.samples.stack, c.samples.time, c.samples.state, c.samples.cpu);
        if (c.waits) s.addWaits(c.waits.start, c.waits.end, c.waits.stack);
        const e = s.entries(c.options);
        const actual = Array.from(e.entryPath, (p, i) => {
          const path: number[] = [];
          for (let x = p; x !== 0; x = e.pathParent[x]) path.unshift(e.pathFrame[x]);
          return { path, w: e.entryWeight[i] };
        });
        const at = expected.findIndex((x, i) => JSON.stringify(x) !== JSON.stringify(actual[i]));
        if (at >= 0 || expected.length !== actual.length) {
          failures.push(
            `seed ${seed}: entry ${at}: expected ${JSON.stringify(expected[at])}, got ${JSON.stringify(actual[at])} ` +
              `(${expected.length} and ${actual.length} entries)`,
          );
        }
      } finally {
        s.dispose();
      }
      if (failures.length >= MAX_REPORTED) break;
    }
    expectNone(failures);
  });
}

test.run();
