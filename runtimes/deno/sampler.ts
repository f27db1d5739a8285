// The Deno sampler: V8's CPU profiler through Deno's node:inspector, converted at stop by the shared
// runtimes/shared/cpuprofile.ts with a Deno-aware source mapper (positions are in Deno's emit, not the .ts).
// Must not import runtime-only modules statically: every runtime imports this file (node:inspector exists on all).
import { Session as InspectorSession } from "node:inspector";
import type { Sampler, SamplerOptions } from "../shared/sampler.ts";
import { captureCallers, convertProfile, type CpuProfile } from "../shared/cpuprofile.ts";
import { createDenoSourceMapper } from "./sourcemaps.ts";
import { startSamplingThread } from "./sampling-thread.ts";
import { MIN_INTERVAL_US } from "../../session/types.ts";
import { resolveWaits, waitTrackerFor } from "../awaits/tracker.ts";

export const PERMISSION_MESSAGE = "tsprofile: Deno needs --allow-sys (or -A) to sample";

interface DenoGlobal {
  version: { deno: string };
  internal?: symbol;
  [key: symbol]: unknown;
}

export function startDenoSampler(options: SamplerOptions): Sampler {
  const interval = options.interval;
  if (typeof interval !== "number" || !Number.isFinite(interval) || interval < MIN_INTERVAL_US) {
    throw new RangeError(
      `tsprofile: sampling interval must be at least ${MIN_INTERVAL_US} microseconds (got ${interval})`,
    );
  }
  const callers = options.startStack === false ? [] : captureCallers();
  const session = new InspectorSession();
  try {
    session.connect();
  } catch (err) {
    // Deno 2.9: NotCapable 'Requires sys access to "inspector"'. Its CLI rejects --allow-sys=inspector
    // ("unknown sys descriptor"), so plain --allow-sys is the narrowest grant.
    if ((err as Error)?.name === "NotCapable" || /sys access/i.test(String((err as Error)?.message))) {
      throw new Error(PERMISSION_MESSAGE);
    }
    throw err;
  }
  // Deno's post() dispatches synchronously but delivers the reply on the next tick, so start() does not wait:
  // the commands take effect in order as they are posted. A failure would show at stop (no profile).
  let startError: Error | null = null;
  const send = (method: string, params?: object): void =>
    session.post(method, params ?? {}, (err: Error | null) => {
      if (err && !startError) startError = err;
    });
  let startTime = 0;
  let cpuStart = process.cpuUsage();
  let perfStart = 0;
  let skip = 0;
  // Before the sampler, so that installing it (loading the modules it wraps) is not in the session.
  const tracker = waitTrackerFor(options, () => performance.now());
  try {
    send("Profiler.enable");
    // As on Node (runtimes/node/sampler.ts): V8 loses the frames of code optimized (OSR) before the profiler
    // started; precise coverage on/off deoptimizes everything so it is recompiled while the profiler watches.
    if (options.deoptimize !== false) {
      send("Profiler.startPreciseCoverage", { callCount: false, detailed: false });
      send("Profiler.stopPreciseCoverage");
    }
    send("Profiler.setSamplingInterval", { interval: Math.round(interval) });
    // Its timer slack and priority (sampling-thread.ts); libc is opened before `start` runs (milliseconds).
    startSamplingThread(() => {
      // V8 stamps the profile's start as Profiler.start begins, then re-logs the heap's code (30-40 ms here) before
      // its first sample: that is tsprofile's start-up, not the program's, so the session begins after it (the
      // profile's time `skip`, within a fraction of a millisecond; Deno's V8 clock is not exposed to JavaScript).
      const before = performance.now();
      send("Profiler.start");
      perfStart = performance.now();
      skip = (perfStart - before) * 1000;
      startTime = Date.now();
      cpuStart = process.cpuUsage();
    });
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
      let profile: CpuProfile | undefined;
      let error: Error | null = null;
      let done = false;
      try {
        session.post("Profiler.stop", {}, (err: Error | null, res?: unknown) => {
          done = true;
          error = err;
          profile = (res as { profile?: CpuProfile } | undefined)?.profile;
        });
        if (!done) drainNextTicks();
      } finally {
        session.disconnect();
      }
      if (!done) throw new Error("tsprofile: the inspector did not answer Profiler.stop synchronously");
      if (error || !profile) {
        const why = (error as Error | null)?.message ?? (startError as Error | null)?.message ?? "no profile";
        throw new Error(`tsprofile: inspector Profiler.stop failed: ${why}`);
      }
      const cpu = process.cpuUsage(cpuStart);
      const converted = convertProfile(profile, {
        startTime,
        cpuTime: cpu.user + cpu.system,
        interval,
        program: meta.program ?? process.argv.slice(1).join(" "),
        callers,
        // Deno's stack traces (and so the call sites captured at start) are already in .ts positions.
        callersMapped: true,
        mapper: createDenoSourceMapper(),
        runtime: `deno ${denoGlobal().version.deno}`,
        skip,
      });
      // Deno's call sites are already in .ts positions (as for the start stack).
      const toSession = (t: number) => (t - perfStart) * 1000;
      if (waits) resolveWaits(converted, waits, { toSession, positions: "source", locate: "js-only" });
      return converted;
    },
  };
}

function denoGlobal(): DenoGlobal {
  return (globalThis as unknown as { Deno: DenoGlobal }).Deno;
}

/**
 * Deno's node:inspector Session receives the reply synchronously but hands it to callbacks from
 * process.nextTick, which never runs inside an 'exit' handler. Deno's core can run the tick queue now; the
 * cost is that other queued nextTick callbacks (and microtasks) run here too, early. At exit that is harmless;
 * a mid-run stop() through the API runs them a little before their time.
 */
function drainNextTicks(): void {
  const deno = denoGlobal();
  const internal = deno.internal ? (deno[deno.internal] as { core?: Record<string, unknown> } | undefined) : undefined;
  const core = internal?.core;
  const run = (core?.runNextTicks ?? core?.processTicksAndRejections) as (() => void) | undefined;
  if (typeof run === "function") run.call(core);
}
