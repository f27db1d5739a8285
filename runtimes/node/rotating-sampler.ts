// The streaming Node sampler (Node >= 24.12): v8.startCpuProfile() handles, rotated at each drain. A new
// handle starts before the old one stops, so the profiler never pauses (measured on Node 24.21: the rotation
// takes 0.01-0.04 ms, against 11-40 ms and lost samples for an inspector stop/start cycle); each stopped
// handle's profile is converted at once (runtimes/shared/cpuprofile.ts) and handed on as a chunk
// (runtimes/shared/chunker.ts).
//
// On 24.21 startCpuProfile ignores its options: the interval comes from V8's process-wide
// --cpu-profiler-sampling-interval flag, read when the isolate's profiler is created, so it is set before the
// first handle starts (in the CLI's child, the process is ours to set up). Node 26 takes { sampleInterval }.
import v8 from "node:v8";
import { createSourceMapper } from "../../session/source/sourcemaps.ts";
import type { Session, SessionChunk, SessionMeta } from "../../session/types.ts";
import { captureCallers, convertProfile, type CpuProfile, gapCapFor } from "../shared/cpuprofile.ts";
import { SessionChunker } from "../shared/chunker.ts";
import type { Sampler, SamplerOptions } from "../shared/sampler.ts";
import { resolveWaits, waitTrackerFor } from "../awaits/tracker.ts";

interface CpuProfileHandle {
  stop(): string;
}
type StartCpuProfile = (options?: { sampleInterval?: number; maxBufferSize?: number }) => CpuProfileHandle;

/** v8.startCpuProfile where it exists (Node >= 24.12), else null. */
export function v8StartCpuProfile(): StartCpuProfile | null {
  const f = (v8 as unknown as { startCpuProfile?: StartCpuProfile }).startCpuProfile;
  return typeof f === "function" ? f.bind(v8) : null;
}

const monotonicUs = (): number => Number(process.hrtime.bigint()) / 1000;

/**
 * Profile times are V8 ticks in microseconds, which on Node 24.21 read as process.hrtime minus a multiple of
 * 2^33 us. The offset to hrtime (for the wait tracker's clock) is that multiple when one is near, else measured.
 */
function hrtimeOffset(profileStart: number, hrBefore: number): number {
  const measured = hrBefore - profileStart;
  const wrap = Math.round(measured / 2 ** 33) * 2 ** 33;
  return Math.abs(measured - wrap) < 50_000 ? wrap : measured;
}

export function startRotatingSampler(options: SamplerOptions): Sampler {
  const start = v8StartCpuProfile();
  if (!start) throw new Error("tsprofile: v8.startCpuProfile is not available (Node >= 24.12 streams)");
  const interval = options.interval;
  const callers = options.startStack === false ? [] : captureCallers();
  try {
    v8.setFlagsFromString(`--cpu-profiler-sampling-interval=${Math.round(interval)}`);
  } catch {
    // the interval flag is a hint: V8 keeps its default interval then
  }
  // Before the sampler, so that installing it (loading the modules it wraps) is not in the session.
  const tracker = waitTrackerFor(options, monotonicUs);
  const startTime = Date.now();
  const cpuStart = process.cpuUsage();
  const hrBefore = monotonicUs();
  let handle: CpuProfileHandle | null;
  try {
    handle = start({ sampleInterval: Math.round(interval) });
  } catch (err) {
    tracker?.stop();
    throw err;
  }
  const mapper = createSourceMapper();
  const chunker = new SessionChunker();
  const runtime = `node ${process.versions.node}`;
  let base = NaN; // the first profile's startTime: session time 0
  let hrBase = hrBefore;
  let programLine = process.argv.slice(1).join(" ");

  const meta = (m: { program?: string } = {}): SessionMeta => {
    if (m.program !== undefined) programLine = m.program;
    return {
      startTime,
      duration: Math.max(0, Math.round(monotonicUs() - hrBase)),
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

  /** Stops the current handle (after starting the next, unless last) and adds its profile; returns its end. */
  const rotate = (last: boolean): { duration: number } => {
    const next = last ? null : start({ sampleInterval: Math.round(interval) });
    const profile = JSON.parse(handle!.stop()) as CpuProfile;
    handle = next;
    if (Number.isNaN(base)) {
      base = profile.startTime;
      hrBase = base + hrtimeOffset(base, hrBefore);
    }
    const piece = convertProfile(profile, {
      startTime,
      cpuTime: -1,
      interval,
      program: programLine,
      callers: chunker.startStack.length === 0 ? callers : [],
      mapper,
      runtime,
    });
    const offset = Math.round(profile.startTime - base);
    chunker.add(piece, offset);
    return { duration: offset + piece.meta.duration };
  };

  return {
    get isRunning() {
      return handle !== null;
    },
    meta,
    drain(): SessionChunk {
      if (!handle) throw new Error("tsprofile: the sampler was already stopped");
      rotate(false);
      return chunker.take();
    },
    stop(m = {}): Session {
      if (!handle) throw new Error("tsprofile: the sampler was already stopped");
      const waits = tracker?.stop();
      const { duration } = rotate(true);
      const cpu = process.cpuUsage(cpuStart);
      const rest = chunker.rest({ ...meta(m), duration, cpuTime: cpu.user + cpu.system });
      if (waits) resolveWaits(rest, waits, { toSession: (t) => t - hrBase, positions: "generated", mapper });
      return rest;
    },
  };
}
