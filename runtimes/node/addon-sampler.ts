// The Node sampler on tsprofile's native addon (runtimes/node/addon: V8's CpuProfiler driven directly). It gives
// the same normalised Session as the inspector sampler (each rotated piece goes through the same
// convertProfile, then runtimes/shared/chunker.ts), plus what the inspector cannot:
//  - drain() on every Node version: the addon rotates overlapping profiles in well under a millisecond, once a
//    second on its own (a native thread asks the JS thread through a V8 interrupt or the event loop), so no
//    timer of ours runs on the program's thread; the pieces are converted only when drained or stopped;
//  - streamTo(): the stream file written by a worker thread of ours (runtimes/node/stream-worker.ts), so a
//    program that never yields still streams, and the conversion never pauses the program;
//  - each sample's VM state: a sample taken inside a native callback (V8's EXTERNAL state, e.g. a sync fs
//    call's C++) becomes state native, [native] under the JS function that called it, where the inspector
//    charges it to that function's own time. GC samples are [gc] on both samplers: V8 takes no stack while it
//    collects (tick-sample.cc), so GC cannot be charged to the allocating code from here;
//  - samples.cpu: the JS thread's CPU time at each sample (see SampleTable.cpu).
//
// Loading: one binary per Node ABI (scripts/build-addon.mjs, run at install; or the package's prebuilt one, see
// addon/prebuilt.mjs). Not built at all (no compiler at install, which said so then): the inspector is used
// quietly. Built, but not for this Node or failing to load: loadAddon() says why in `warning`, and
// runtimes/index.ts prints it once. TSPROFILE_NO_ADDON=1 forces the inspector; TSPROFILE_ADDON_PATH names the
// binary to load instead of the one for this ABI (tests, debugging).
import { existsSync, readdirSync } from "node:fs";
import { Session as InspectorSession } from "node:inspector";
import { createRequire } from "node:module";
import { join } from "node:path";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { createSourceMapper } from "../../session/source/sourcemaps.ts";
import { MIN_INTERVAL_US } from "../../session/types.ts";
import type { Session, SessionChunk, SessionMeta } from "../../session/types.ts";
import { StreamFile, type StreamSink } from "../../session/stream.ts";
import { captureCallers, gapCapFor } from "../shared/cpuprofile.ts";
import { TSPROFILE_ROOT } from "../../session/root.ts";
import { RawConverter, type RawPiece } from "./raw-piece.ts";
import { extractPrebuilt } from "./addon/prebuilt.mjs";
import type { StreamWorkerData, StreamWorkerReply } from "./stream-worker.ts";
import { resolveWaits, waitTrackerFor } from "../awaits/tracker.ts";
import type { NodeSampler, NodeSamplerOptions } from "./sampler.ts";

/** The Worker class as loaded, before the wait tracker wraps it: tsprofile's own worker is no wait of the program. */
const OwnWorker = Worker;

interface NativeSampler {
  start(): { startTime: number; cpuTime: number; id: number };
  /** The pieces rotated out since the last drain, one per rotation, in order. */
  drain(): RawPiece[];
  /** keep: the last piece stays for take() (the stream writer) and nothing is returned. */
  stop(keep?: boolean): RawPiece[] | undefined;
  rotateEvery(ms: number): void;
}
export interface AddonBinding {
  Sampler: {
    new (intervalUs: number, cpuIntervalUs: number, rotateMs?: number): NativeSampler;
    /** The pieces of sampler `id` not taken yet, waiting up to timeoutMs for one (any thread); null: no sampler. */
    take(id: number, timeoutMs: number): { closed: boolean; piece: RawPiece | null } | null;
  };
  moduleVersion: number;
}

/**
 * How often the addon rotates V8's profile on its own thread's clock (sampler.cc): keeps V8's profile small and,
 * streaming, is what a kill can lose. Nothing of tsprofile's JavaScript runs on the program's thread for it.
 */
const ROTATE_MS = 1000;
/**
 * Streaming, half that: a kill then loses at most the last half second plus the writer's delay, so a run killed
 * after 3 s keeps more than 2 s even when the writer is a rotation late (test/stream.test.ts).
 */
const STREAM_ROTATE_MS = 500;
/**
 * How long stop() waits for the stream writer to hand back the end of the stream without a sign of life from it:
 * before its first heartbeat (a worker starting on a loaded machine), and after.
 */
const STREAM_START_MS = 20_000;
const STREAM_SILENCE_MS = 5_000;

export type AddonLoad = { binding: AddonBinding; path: string; warning?: undefined } | {
  binding: null;
  warning: string | null;
};

const ADDON_ROOT = join(TSPROFILE_ROOT, "runtimes", "node", "addon");
export const ADDON_DIR = join(ADDON_ROOT, "bin");
const abi = (): string => process.versions.modules;
/** The binary scripts/build-addon.mjs builds (or takes from the prebuilt ones) for the running Node. */
export const addonPath = (): string =>
  join(ADDON_DIR, `tsprofile_sampler-${process.platform}-${process.arch}-${abi()}.node`);

let loaded: AddonLoad | undefined;

/** The addon for this Node, or why not (warning null: not expected here, say nothing). Cached. */
export function loadAddon(): AddonLoad {
  if (loaded) return loaded;
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (process.env.TSPROFILE_NO_ADDON === "1" || g.Deno !== undefined || g.Bun !== undefined || !TSPROFILE_ROOT) {
    return (loaded = { binding: null, warning: null });
  }
  const explicit = process.env.TSPROFILE_ADDON_PATH;
  // Where the install script did not run (scripts disabled, `bun add`), the package's prebuilt binary for this
  // Node is written out now, once.
  const path = explicit || (existsSync(addonPath()) ? addonPath() : extractPrebuilt(ADDON_ROOT, abi(), addonPath()));
  const build = `node ${join(TSPROFILE_ROOT, "scripts", "build-addon.mjs")}`;
  if (!path || !existsSync(path)) {
    let others: string[] = [];
    try {
      others = readdirSync(ADDON_DIR).filter((f) => f.endsWith(".node"));
    } catch {
      // no addon folder: counts as none built
    }
    // Nothing built at all: the install said why; the inspector is the normal path then.
    if (!explicit && others.length === 0) return (loaded = { binding: null, warning: null });
    const why = explicit
      ? `${path} does not exist`
      : `it is not built for Node ${process.version} (ABI ${abi()}; run ${build})`;
    return (loaded = { binding: null, warning: `native sampler unavailable: ${why}` });
  }
  try {
    const binding = createRequire(import.meta.url)(path) as AddonBinding;
    if (typeof binding?.Sampler !== "function") throw new Error("not tsprofile's sampler addon");
    if (String(binding.moduleVersion) !== abi()) {
      throw new Error(`built for ABI ${binding.moduleVersion}, this Node is ABI ${abi()}`);
    }
    return (loaded = { binding, path });
  } catch (err) {
    const msg = String((err as Error)?.message ?? err).split("\n")[0];
    // A prebuilt binary needs what its build machine's C library had (glibc 2.34): build one here instead.
    const fix = explicit ? "" : `; build one for this system: ${build}`;
    return (loaded = { binding: null, warning: `native sampler failed to load (${msg})${fix}` });
  }
}

const monotonicUs = (): number => Number(process.hrtime.bigint()) / 1000;

/** The stream writer's module: next to this file in the source tree (TypeScript), or in dist/ once bundled. */
function streamWorkerModule(): { url: URL; execArgv: string[] } {
  const here = import.meta.url;
  if (!/\.ts$/.test(here)) return { url: new URL("./stream-worker.js", here), execArgv: [] };
  // From source: our TypeScript loader, and nothing else of the program's command line (its --import preloads,
  // tsprofile's own preload among them, must not run again in our thread).
  const loader = new URL("../loader/register.mjs", here);
  return { url: new URL("./stream-worker.ts", here), execArgv: ["--import", loader.href] };
}

export type AddonSampler = NodeSampler & {
  drain(): SessionChunk;
  meta(m?: { program?: string }): SessionMeta;
  /**
   * Streams the session to `path` from a worker thread of tsprofile's own (runtimes/node/stream-worker.ts): the
   * start record is written now (an error throws, nothing started), then a chunk after each rotation, whether or
   * not the program ever yields. stop() then waits for the writer and returns the rest; the sink writes it.
   */
  streamTo(path: string, startMeta: SessionMeta): StreamSink;
};

/**
 * A sampler on the addon. `cpuInterval` (us) is how often the JS thread's CPU clock is read for samples.cpu;
 * 0 records none. Default: the sampling interval, at least 1 ms (bench/addon.ts measures the cost).
 */
export function startAddonSampler(
  binding: AddonBinding,
  options: NodeSamplerOptions & { cpuInterval?: number; addonPath?: string },
): AddonSampler {
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
  const native = new binding.Sampler(Math.round(interval), cpuInterval, ROTATE_MS);
  // Before the sampler, so that installing it (loading the modules it wraps) is not in the session.
  const tracker = waitTrackerFor(options, monotonicUs);
  const startTime = Date.now();
  const cpuStart = process.cpuUsage();
  const hrBefore = monotonicUs();
  let started: ReturnType<typeof native.start>;
  try {
    started = native.start();
  } catch (err) {
    tracker?.stop();
    throw err;
  }
  const hrAfter = monotonicUs();
  // The addon's clock (CLOCK_MONOTONIC) is hrtime's on Linux: its start time then lies within the call, however
  // long V8's code re-log made it. Elsewhere (macOS: hrtime is mach time) take the difference, to within the call.
  const sameClock = started.startTime >= hrBefore - 1000 && started.startTime <= hrAfter + 1000;
  const hrOffset = sameClock ? 0 : (hrBefore + hrAfter) / 2 - started.startTime;
  const base = started.startTime; // session time 0, on the addon's clock
  const cpuBase = started.cpuTime;
  // A sampler still running when the process exits is stopped here: the addon's own cleanup runs during the
  // environment's teardown, too late for V8's profiler (Node 20 aborts, 24 crashes). What it returns is kept for
  // a stop() from a later 'exit' listener (the CLI's preload); streaming, the writer takes it at once.
  let nativeStopped = false;
  let stoppedAtExit: RawPiece[] | null = null;
  const onExit = (): void => {
    if (!running || nativeStopped) return;
    nativeStopped = true;
    try {
      const last = native.stop(stream !== null);
      if (last) stoppedAtExit = last;
    } catch {
      // the process is exiting anyway: a failed stop loses the profile, not the exit
    }
  };
  process.on("exit", onExit);
  let running = true;

  const runtime = `node ${process.versions.node}`;
  let programLine = process.argv.slice(1).join(" ");
  const mapper = createSourceMapper();
  const converter = new RawConverter({
    base,
    cpuBase,
    startTime,
    interval,
    program: programLine,
    runtime,
    callers,
    mapper,
  });

  /** Streaming: the writer thread, the file, and what stop() waits on. */
  let stream: {
    file: StreamFile;
    worker: Worker;
    port: MessagePort;
    control: Int32Array;
    failed: string | null;
    ended: boolean;
  } | null = null;

  const meta = (m: { program?: string } = {}): SessionMeta => {
    if (m.program !== undefined) programLine = converter.opts.program = m.program;
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

  const streamTo = (path: string, startMeta: SessionMeta): StreamSink => {
    if (!running) throw new Error("tsprofile: the sampler was already stopped");
    if (stream) throw new Error("tsprofile: the sampler is already streaming");
    if (startMeta.program) programLine = converter.opts.program = startMeta.program;
    const file = new StreamFile(path);
    try {
      file.start(startMeta);
      const { url, execArgv } = streamWorkerModule();
      const control = new Int32Array(new SharedArrayBuffer(8));
      const { port1, port2 } = new MessageChannel();
      const loader = (globalThis as Record<symbol, { cjs?: Set<string> } | undefined>)[Symbol.for("tsprofile.loader")];
      const workerData: StreamWorkerData = {
        addonPath: options.addonPath ??
          (loaded?.binding ? loaded.path : process.env.TSPROFILE_ADDON_PATH || addonPath()),
        id: started.id,
        path,
        fd: file.descriptor,
        converter: { base, cpuBase, startTime, interval, program: programLine, runtime },
        loaderCjs: loader?.cjs ? [...loader.cjs] : null,
        control: control.buffer as SharedArrayBuffer,
        port: port2,
      };
      // execArgv: only what the worker needs (see streamWorkerModule). Its env is a copy of the process's without
      // NODE_OPTIONS, which a worker reads again: its --import preloads (OpenTelemetry, dotenv) would run in our
      // thread. The program's own environment is not touched.
      const env: Record<string, string | undefined> = { ...process.env };
      delete env.NODE_OPTIONS;
      const worker = new OwnWorker(url, {
        execArgv,
        env,
        workerData,
        transferList: [port2],
        stdout: true,
        stderr: true,
      });
      const s = { file, worker, port: port1, control, failed: null as string | null, ended: false };
      // Never an uncaught 'error' in the program's process, never what keeps it alive.
      worker.on("error", (err) => void (s.failed ??= String(err?.message ?? err).split("\n")[0]));
      worker.on("exit", () => void (Atomics.load(control, 0) === 0 && (s.failed ??= "it exited")));
      worker.unref();
      port1.unref();
      stream = s;
      native.rotateEvery(STREAM_ROTATE_MS);
    } catch (err) {
      file.close();
      throw err;
    }
    const s = stream!;
    return {
      end(rest: Session): void {
        if (s.ended) return;
        s.ended = true;
        if (s.failed) {
          s.file.close();
          throw new Error(`the stream writer failed (${s.failed}); ${path} keeps what it wrote`);
        }
        s.file.end(rest);
      },
      close(): void {
        s.file.close();
      },
    };
  };

  /** Streaming: waits for the writer's hand-back and turns it into the rest of the session. */
  const finishStream = (s: NonNullable<typeof stream>, m: { program?: string }): Session => {
    // Blocking is safe: the writer needs nothing from this thread, and is given up when it stops beating.
    let beats = Atomics.load(s.control, 1);
    let lastBeat = performance.now();
    let silent = false;
    while (Atomics.load(s.control, 0) === 0 && !s.failed) {
      Atomics.wait(s.control, 0, 0, 200);
      const now = performance.now();
      const b = Atomics.load(s.control, 1);
      if (b !== beats) [beats, lastBeat] = [b, now];
      else if (now - lastBeat > (beats === 0 ? STREAM_START_MS : STREAM_SILENCE_MS)) {
        silent = true;
        break;
      }
    }
    const reply = receiveMessageOnPort(s.port)?.message as StreamWorkerReply | undefined;
    s.port.close();
    const whole = meta(m);
    if (!reply && beats === 0) {
      // The writer never ran (its module failed to load): every piece is still here, and the file holds only its
      // start record. The stream is written now instead, whole.
      process.stderr.write(
        `tsprofile: --stream-to: the stream writer did not start (${s.failed ?? "no sign of it"}); ` +
          "the file was written when profiling stopped\n",
      );
      s.failed = null;
      const left = binding.Sampler.take(started.id, 0);
      const duration = left?.piece ? converter.add(left.piece) : 0;
      const cpu = process.cpuUsage(cpuStart);
      return converter.rest({ ...whole, duration, cpuTime: cpu.user + cpu.system });
    }
    if (!reply || !reply.ok || reply.writeError) {
      s.failed ??= reply
        ? (reply.ok ? reply.writeError! : reply.error)
        : silent
        ? `no sign of it for ${((performance.now() - lastBeat) / 1000).toFixed(0)} s`
        : "no answer";
      return converter.rest(whole); // nothing: the writer took the samples
    }
    s.file.continueFrom(reply.base);
    const cpu = process.cpuUsage(cpuStart);
    return {
      version: 1,
      meta: {
        ...whole,
        duration: Math.max(reply.end, reply.lastTime),
        cpuTime: cpu.user + cpu.system,
        startStack: reply.startStack,
      },
      frames: reply.frames,
      stacks: reply.stacks,
      samples: reply.samples,
    };
  };

  return {
    get isRunning() {
      return running;
    },
    meta,
    streamTo,
    drain(): SessionChunk {
      if (!running) throw new Error("tsprofile: the sampler was already stopped");
      if (stream) throw new Error("tsprofile: the sampler streams to a file: its writer drains it");
      if (!nativeStopped) { for (const piece of native.drain()) converter.add(piece); }
      return converter.take();
    },
    stop(m = {}): Session {
      if (!running) throw new Error("tsprofile: the sampler was already stopped");
      process.removeListener("exit", onExit);
      const waits = tracker?.stop();
      let rest: Session;
      if (stream) {
        if (!nativeStopped) native.stop(true);
        nativeStopped = true;
        running = false;
        rest = finishStream(stream, m);
      } else {
        const last = (nativeStopped ? stoppedAtExit : native.stop()) ?? [];
        nativeStopped = true;
        running = false;
        let duration = 0;
        for (const piece of last) duration = Math.max(duration, converter.add(piece));
        const cpu = process.cpuUsage(cpuStart);
        rest = converter.rest({ ...meta(m), duration, cpuTime: cpu.user + cpu.system });
      }
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
