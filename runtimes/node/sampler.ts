// The Node.js sampler: V8's CPU profiler through node:inspector, converted at stop into the normalised
// session (frame table, stack prefix tree, samples on one microsecond clock).
//
// Why the inspector on every Node version: on Node 24.21 v8.startCpuProfile() drives the same V8 CpuProfiler
// and measured the same (mixed workload, 12 interleaved runs, medians: at 1 ms CPU x1.029 vs x1.028, 896 vs
// 892 samples/s; at 100 us CPU x1.203 vs x1.206, 5382 vs 5388 samples/s; start ~13 ms and stop ~1.5 ms both),
// while on 24.21 it takes no options: its interval is only settable through a process-wide, sticky V8 flag
// (--cpu-profiler-sampling-interval). One route is simpler and leaves the process's flags alone.
import { Session as InspectorSession } from "node:inspector";
import { createSourceMapper } from "../../session/source/sourcemaps.ts";
import { MIN_INTERVAL_US } from "../../session/types.ts";
import type { Session, SessionChunk, SessionMeta } from "../../session/types.ts";
import { startRotatingSampler, v8StartCpuProfile } from "./rotating-sampler.ts";
import { resolveWaits, waitTrackerFor } from "../awaits/tracker.ts";
import { captureCallers, convertProfile, type CpuProfile } from "../shared/cpuprofile.ts";
import type { SamplerOptions } from "../shared/sampler.ts";
import { isTsprofileFile, TSPROFILE_ROOT } from "../../session/root.ts";

export { isTsprofileFile, TSPROFILE_ROOT };
// Moved to runtimes/shared/cpuprofile.ts (shared with Deno); re-exported for existing importers.
export { convertProfile, gapCapFor } from "../shared/cpuprofile.ts";

export interface NodeSampler {
  readonly isRunning: boolean;
  /** Stops sampling and returns the session. Synchronous, so it works inside a process 'exit' handler. */
  stop(meta?: { program?: string }): Session;
  /** With options.stream on Node >= 24.12 (runtimes/node/rotating-sampler.ts); see Sampler in runtimes/index.ts. */
  drain?(): SessionChunk;
  meta?(meta?: { program?: string }): SessionMeta;
}

/** The options every sampler takes (runtimes/shared/sampler.ts). */
export type NodeSamplerOptions = SamplerOptions;

/** Node's monotonic clock in microseconds: the clock of V8's profile times (profile.startTime). */
const monotonicUs = (): number => Number(process.hrtime.bigint()) / 1000;

export function startNodeSampler(options: NodeSamplerOptions): NodeSampler {
  const interval = options.interval;
  if (typeof interval !== "number" || !Number.isFinite(interval) || interval < MIN_INTERVAL_US) {
    throw new RangeError(
      `tsprofile: sampling interval must be at least ${MIN_INTERVAL_US} microseconds (got ${interval})`,
    );
  }
  if (options.stream && v8StartCpuProfile()) {
    if (options.deoptimize !== false) deoptimizeAll();
    return startRotatingSampler(options);
  }
  const callers = options.startStack === false ? [] : captureCallers();
  let startTime = 0;
  let cpuStart = process.cpuUsage();
  // Before the sampler, so that installing it (loading the modules it wraps) is not in the session.
  const tracker = waitTrackerFor(options, monotonicUs);
  const session = new InspectorSession();
  session.connect();
  try {
    // With a connected in-process session, post() runs the command and its callback synchronously.
    post(session, "Profiler.enable");
    // V8's profiler learns code addresses from code-creation events plus a re-log of existing functions at
    // start, and that re-log misses on-stack-replacement code: a loop optimized before start() then runs in
    // code the profiler cannot name, and its frame silently vanishes from every stack (its time goes to the
    // caller). Switching coverage to precise mode and back deoptimizes everything, so all optimized code is
    // created again while we watch. Costs a few ms before the profile begins and a brief re-warm of the JIT.
    // Coverage mode is isolate-wide, so never touch it when someone is collecting coverage.
    if (options.deoptimize !== false && !coverageInUse()) {
      try {
        post(session, "Profiler.startPreciseCoverage", { callCount: false, detailed: false });
        post(session, "Profiler.stopPreciseCoverage");
      } catch {
        // best effort: without the deoptimization, some optimized frames may go unnamed
      }
    }
    post(session, "Profiler.setSamplingInterval", { interval: Math.round(interval) });
    // Read the clocks last, so the deoptimization above is not counted as the session's CPU time.
    startTime = Date.now();
    cpuStart = process.cpuUsage();
    post(session, "Profiler.start");
  } catch (err) {
    session.disconnect();
    tracker?.stop();
    throw err;
  }
  let running = true;

  return {
    get isRunning() {
      return running;
    },
    stop(meta = {}) {
      if (!running) throw new Error("tsprofile: the sampler was already stopped");
      running = false;
      const waits = tracker?.stop();
      let profile: CpuProfile;
      try {
        profile = (post(session, "Profiler.stop") as { profile: CpuProfile }).profile;
      } finally {
        session.disconnect();
      }
      const cpu = process.cpuUsage(cpuStart);
      const mapper = createSourceMapper();
      const converted = convertProfile(profile, {
        startTime,
        cpuTime: cpu.user + cpu.system,
        interval,
        program: meta.program ?? process.argv.slice(1).join(" "),
        callers,
        mapper,
        runtime: `node ${process.versions.node}`,
      });
      if (waits) {
        const base = profile.startTime;
        resolveWaits(converted, waits, { toSession: (t) => t - base, positions: "generated", mapper });
      }
      return converted;
    },
  };
}

/** The deoptimization of startNodeSampler (see there), for the rotating sampler, through a short-lived session. */
function deoptimizeAll(): void {
  if (coverageInUse()) return;
  const session = new InspectorSession();
  try {
    session.connect();
    post(session, "Profiler.enable");
    post(session, "Profiler.startPreciseCoverage", { callCount: false, detailed: false });
    post(session, "Profiler.stopPreciseCoverage");
  } catch {
    // best effort: without the deoptimization, some optimized frames may go unnamed
  } finally {
    session.disconnect();
  }
}

function coverageInUse(): boolean {
  return !!process.env.NODE_V8_COVERAGE || process.execArgv.some((a) => a.includes("coverage"));
}

function post(session: InspectorSession, method: string, params?: object): unknown {
  let done = false;
  let error: Error | null = null;
  let result: unknown;
  session.post(method, params ?? {}, (err: Error | null, res?: unknown) => {
    done = true;
    error = err;
    result = res;
  });
  if (!done) throw new Error(`tsprofile: inspector ${method} did not complete synchronously`);
  if (error) throw new Error(`tsprofile: inspector ${method} failed: ${(error as Error).message}`);
  return result;
}
