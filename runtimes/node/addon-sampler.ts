// The Node sampler on tsprofile's native addon (runtimes/node/addon: V8's CpuProfiler driven directly). It gives
// the same normalised Session as the inspector sampler (each rotated piece goes through the same
// convertProfile, then runtimes/shared/chunker.ts), plus what the inspector cannot:
//  - drain() on every Node version: the addon rotates overlapping profiles in well under a millisecond;
//  - each sample's VM state: a sample taken inside a native callback (V8's EXTERNAL state, e.g. a sync fs
//    call's C++) becomes state native, [native] under the JS function that called it, where the inspector
//    charges it to that function's own time. GC samples are [gc] on both samplers: V8 takes no stack while it
//    collects (tick-sample.cc), so GC cannot be charged to the allocating code from here;
//  - samples.cpu: the JS thread's CPU time at each sample (see SampleTable.cpu).
//
// Loading: one binary per Node ABI (scripts/build-addon.mjs, run at install). Not built at all (no compiler at
// install, which said so then): the inspector is used quietly. Built, but not for this Node or failing to load:
// loadAddon() says why in `warning`, and runtimes/index.ts prints it once. TSPROFILE_NO_ADDON=1 forces the
// inspector; TSPROFILE_ADDON_PATH names the binary to load instead of the one for this ABI (tests, debugging).
import { existsSync, readdirSync } from "node:fs";
import { Session as InspectorSession } from "node:inspector";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createSourceMapper, urlToFile } from "../../session/source/sourcemaps.ts";
import { MIN_INTERVAL_US, SampleState } from "../../session/types.ts";
import type { Session, SessionChunk, SessionMeta } from "../../session/types.ts";
import { SessionChunker } from "../shared/chunker.ts";
import { captureCallers, convertProfile, type CpuProfile, gapCapFor } from "../shared/cpuprofile.ts";
import { isTsprofileFile, TSPROFILE_ROOT } from "../../session/root.ts";
import { resolveWaits, waitTrackerFor } from "../awaits/tracker.ts";
import type { NodeSampler, NodeSamplerOptions } from "./sampler.ts";

/** What the addon's drain()/stop() return (runtimes/node/addon/src/sampler.cc, Collect). */
interface RawPiece {
  /** Profile start and end, monotonic us (CLOCK_MONOTONIC, process.hrtime's clock). */
  startTime: number;
  endTime: number;
  /** Merged tree nodes first seen in this piece: ids firstNode, firstNode + 1, ...; parents come first. */
  firstNode: number;
  parent: Int32Array;
  scriptId: Int32Array;
  /** 1-based, 0 unknown (V8's CpuProfileNode). */
  line: Int32Array;
  col: Int32Array;
  name: string[];
  url: string[];
  /** Per sample: merged node id, time (monotonic us), V8 StateTag, thread CPU (us, absolute). */
  node: Int32Array;
  time: Float64Array;
  state: Uint8Array;
  cpu?: Float64Array;
}
interface NativeSampler {
  start(): { startTime: number; cpuTime: number };
  drain(): RawPiece;
  stop(): RawPiece;
}
export interface AddonBinding {
  Sampler: new (intervalUs: number, cpuIntervalUs: number) => NativeSampler;
  moduleVersion: number;
}

/** V8's StateTag (v8-unwinder.h), the values that change a sample's state. */
const V8_GC = 1;
const V8_EXTERNAL = 6;

/** How often the sampler rotates on its own when nobody drains, ms: keeps V8's profile and stop() small. */
const ROTATE_MS = 1000;

export type AddonLoad = { binding: AddonBinding; warning?: undefined } | { binding: null; warning: string | null };

export const ADDON_DIR = join(TSPROFILE_ROOT, "runtimes", "node", "addon", "bin");
/** The binary scripts/build-addon.mjs builds for the running Node. */
export const addonPath = (): string =>
  join(ADDON_DIR, `tsprofile_sampler-${process.platform}-${process.arch}-${process.versions.modules}.node`);

let loaded: AddonLoad | undefined;

/** The addon for this Node, or why not (warning null: not expected here, say nothing). Cached. */
export function loadAddon(): AddonLoad {
  if (loaded) return loaded;
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (process.env.TSPROFILE_NO_ADDON === "1" || g.Deno !== undefined || g.Bun !== undefined || !TSPROFILE_ROOT) {
    return (loaded = { binding: null, warning: null });
  }
  const explicit = process.env.TSPROFILE_ADDON_PATH;
  const path = explicit || addonPath();
  if (!existsSync(path)) {
    let others: string[] = [];
    try {
      others = readdirSync(ADDON_DIR).filter((f) => f.endsWith(".node"));
    } catch {
      // no addon folder: counts as none built
    }
    // Nothing built at all: the install said why; the inspector is the normal path then.
    if (!explicit && others.length === 0) return (loaded = { binding: null, warning: null });
    const build = `run node ${join(TSPROFILE_ROOT, "scripts", "build-addon.mjs")}`;
    const why = explicit
      ? `${path} does not exist`
      : `it is not built for Node ${process.version} (ABI ${process.versions.modules}; ${build})`;
    return (loaded = { binding: null, warning: `native sampler unavailable: ${why}` });
  }
  try {
    const binding = createRequire(import.meta.url)(path) as AddonBinding;
    if (typeof binding?.Sampler !== "function") throw new Error("not tsprofile's sampler addon");
    if (String(binding.moduleVersion) !== process.versions.modules) {
      throw new Error(`built for ABI ${binding.moduleVersion}, this Node is ABI ${process.versions.modules}`);
    }
    return (loaded = { binding });
  } catch (err) {
    const msg = String((err as Error)?.message ?? err).split("\n")[0];
    return (loaded = { binding: null, warning: `native sampler failed to load (${msg})` });
  }
}

const monotonicUs = (): number => Number(process.hrtime.bigint()) / 1000;

/**
 * A sampler on the addon. `cpuInterval` (us) is how often the JS thread's CPU clock is read for samples.cpu;
 * 0 records none. Default: the sampling interval, at least 1 ms (bench/addon.ts measures the cost).
 */
export function startAddonSampler(
  binding: AddonBinding,
  options: NodeSamplerOptions & { cpuInterval?: number },
): NodeSampler & { drain(): SessionChunk; meta(m?: { program?: string }): SessionMeta } {
  const interval = options.interval;
  if (typeof interval !== "number" || !Number.isFinite(interval) || interval < MIN_INTERVAL_US) {
    throw new RangeError(
      `tsprofile: sampling interval must be at least ${MIN_INTERVAL_US} microseconds (got ${interval})`,
    );
  }
  const callers = options.startStack === false ? [] : captureCallers();
  // Started mid-run, optimized code the profiler never saw created loses its frames: see startNodeSampler.
  if (options.deoptimize !== false) deoptimizeAll();
  const cpuInterval = options.cpuInterval ?? Math.max(Math.round(interval), 1000);
  const native = new binding.Sampler(Math.round(interval), cpuInterval);
  const startTime = Date.now();
  const cpuStart = process.cpuUsage();
  const hrBefore = monotonicUs();
  const started = native.start();
  const hrAfter = monotonicUs();
  // The addon's clock (CLOCK_MONOTONIC) is hrtime's on Linux: its start time then lies within the call, however
  // long V8's code re-log made it. Elsewhere (macOS: hrtime is mach time) take the difference, to within the call.
  const sameClock = started.startTime >= hrBefore - 1000 && started.startTime <= hrAfter + 1000;
  const hrOffset = sameClock ? 0 : (hrBefore + hrAfter) / 2 - started.startTime;
  const base = started.startTime; // session time 0, on the addon's clock
  const cpuBase = started.cpuTime;
  let rotations = 0;
  const timer = setInterval(() => {
    try {
      if (running && !stoppedAtExit) rotate(native.drain());
    } catch {
      // a failed rotation must not throw from a timer into the profiled program
    }
  }, ROTATE_MS);
  timer.unref();
  // A sampler still running when the process exits is stopped here: the addon's own cleanup runs during the
  // environment's teardown, too late for V8's profiler (Node 20 aborts, 24 crashes). What it returns is kept for
  // a stop() from a later 'exit' listener (the CLI's preload).
  let stoppedAtExit: ReturnType<typeof native.stop> | null = null;
  const onExit = (): void => {
    if (!running || stoppedAtExit) return;
    try {
      stoppedAtExit = native.stop();
    } catch {
      // the process is exiting anyway: a failed stop loses the profile, not the exit
    }
  };
  process.on("exit", onExit);
  const tracker = waitTrackerFor(options, monotonicUs);
  let running = true;

  const mapper = createSourceMapper();
  const chunker = new SessionChunker();
  const runtime = `node ${process.versions.node}`;
  let programLine = process.argv.slice(1).join(" ");
  // The merged node tree (ids from the addon), as CpuProfile call frames, and which nodes are tsprofile's own.
  const nodes: CpuProfile["nodes"] = [];
  const nodeParent: number[] = [];
  const own: number[] = [];
  const mark: number[] = [];
  // samples.cpu of the samples the chunker holds (it carries no cpu column itself), session us.
  let cpuColumn: number[] = [];
  let lastCpu = 0;
  let anySample = false;

  const meta = (m: { program?: string } = {}): SessionMeta => {
    if (m.program !== undefined) programLine = m.program;
    return {
      startTime,
      duration: Math.max(0, Math.round(monotonicUs() - hrOffset - base)),
      cpuTime: -1,
      interval,
      gapCap: gapCapFor(interval),
      idleSampled: true, // V8 takes (idle) samples (SPEC.md §1, running gap)
      program: programLine,
      cwd: process.cwd(),
      runtime,
      startStack: [],
    };
  };

  /** Converts a piece like the inspector's profile (convertProfile) and hands it to the chunker; returns its end. */
  const rotate = (raw: RawPiece): number => {
    rotations++;
    for (let k = 0; k < raw.parent.length; k++) {
      const id = raw.firstNode + k;
      const p = raw.parent[k];
      const url = raw.url[k];
      nodes[id] = {
        id,
        callFrame: {
          functionName: raw.name[k],
          scriptId: raw.scriptId[k],
          url,
          lineNumber: raw.line[k] - 1,
          columnNumber: raw.col[k] - 1,
        },
      };
      nodeParent[id] = p;
      own[id] = (p >= 0 && own[p]) || (url !== "" && isTsprofileFile(urlToFile(url))) ? 1 : 0;
      mark[id] = 0;
    }
    // The piece's profile: the nodes its samples stand on and their ancestors.
    const used: CpuProfile["nodes"] = [];
    const count = raw.node.length;
    for (let i = 0; i < count; i++) {
      for (let id = raw.node[i]; id >= 0 && mark[id] !== rotations; id = nodeParent[id]) {
        mark[id] = rotations;
        used.push({ ...nodes[id], children: [] });
      }
    }
    const index = new Map<number, number>();
    used.forEach((n, i) => index.set(n.id, i));
    for (const n of used) {
      const p = nodeParent[n.id];
      if (p >= 0) used[index.get(p)!].children!.push(n.id);
    }
    const timeDeltas = new Float64Array(count);
    for (let i = 0; i < count; i++) timeDeltas[i] = raw.time[i] - (i > 0 ? raw.time[i - 1] : raw.startTime);
    const profile: CpuProfile = {
      nodes: used,
      startTime: raw.startTime,
      endTime: raw.endTime,
      samples: raw.node as unknown as number[],
      timeDeltas: timeDeltas as unknown as number[],
    };
    const piece = convertProfile(profile, {
      startTime,
      cpuTime: -1,
      interval,
      program: programLine,
      callers: chunker.startStack.length === 0 ? callers : [],
      mapper,
      runtime,
    });
    // The addon's states, where they say more than the profile's nodes (never on tsprofile's own samples).
    const state = piece.samples.state;
    const stack = piece.samples.stack;
    const frameOf = piece.stacks.frame;
    for (let i = 0; i < state.length; i++) {
      const v8State = raw.state[i];
      if (own[raw.node[i]] || state[i] !== SampleState.js) continue;
      if (v8State === V8_GC) state[i] = SampleState.gc; // not seen from V8 11-13 (no stack in GC), kept for safety
      // Only where the leaf is JavaScript: a native function's own frame (performance.now) already says it.
      else if (v8State === V8_EXTERNAL && stack[i] >= 0 && piece.frames[frameOf[stack[i]]].kind !== "native") {
        state[i] = SampleState.native;
      }
    }
    const offset = Math.round(raw.startTime - base);
    // The chunker drops samples at or before the last one it has; the cpu column drops the same ones.
    const cut = anySample ? chunker.lastTime : -Infinity;
    const times = piece.samples.time;
    for (let i = 0; i < times.length; i++) {
      if (times[i] + offset <= cut) continue;
      anySample = true;
      if (raw.cpu && cpuBase >= 0) lastCpu = Math.max(lastCpu, Math.round(raw.cpu[i] - cpuBase));
      cpuColumn.push(raw.cpu ? lastCpu : 0);
    }
    chunker.add(piece, offset);
    return offset + piece.meta.duration;
  };

  const takeCpu = (): Float64Array | undefined => {
    const out = Float64Array.from(cpuColumn);
    cpuColumn = [];
    return cpuBase >= 0 ? out : undefined;
  };

  return {
    get isRunning() {
      return running;
    },
    meta,
    drain(): SessionChunk {
      if (!running) throw new Error("tsprofile: the sampler was already stopped");
      if (!stoppedAtExit) rotate(native.drain());
      const chunk = chunker.take();
      const cpu = takeCpu();
      if (cpu) chunk.samples.cpu = cpu;
      return chunk;
    },
    stop(m = {}): Session {
      if (!running) throw new Error("tsprofile: the sampler was already stopped");
      running = false;
      clearInterval(timer);
      process.removeListener("exit", onExit);
      const waits = tracker?.stop();
      const duration = rotate(stoppedAtExit ?? native.stop());
      const cpu = process.cpuUsage(cpuStart);
      const rest = chunker.rest({ ...meta(m), duration, cpuTime: cpu.user + cpu.system });
      const cpuCol = takeCpu();
      if (cpuCol) rest.samples.cpu = cpuCol;
      if (waits) resolveWaits(rest, waits, { toSession: (t) => t - hrOffset - base, positions: "generated", mapper });
      return rest;
    },
  };
}

/**
 * The deoptimization startNodeSampler does before a mid-run start (why: see there), through a short-lived
 * inspector session. Coverage mode is isolate-wide: left alone when someone collects coverage.
 */
function deoptimizeAll(): void {
  if (process.env.NODE_V8_COVERAGE || process.execArgv.some((a) => a.includes("coverage"))) return;
  const session = new InspectorSession();
  try {
    session.connect();
    for (
      const [method, params] of [
        ["Profiler.enable", {}],
        ["Profiler.startPreciseCoverage", { callCount: false, detailed: false }],
        ["Profiler.stopPreciseCoverage", {}],
      ] as const
    ) {
      session.post(method, params, () => {}); // in-process: runs synchronously
    }
  } catch {
    // best effort: without the deoptimization, some optimized frames may go unnamed
  } finally {
    try {
      session.disconnect();
    } catch {
      // never connected: nothing to close
    }
  }
}
