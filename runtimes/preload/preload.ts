// Runs in the CLI's child process before the user's program: starts the sampler and writes the session once,
// whichever way the program ends. It must not change the program's output, exit code or signal behaviour.
// Server mode (asked for on the command line): SIGUSR2 starts and stops profiling, --duration stops it after a
// while; each stop mid-run writes `<sessionPath>.<n>` (complete when it appears) for the CLI to render.
// --stream-to: the session goes to that file as it is recorded (session/stream.ts), so a killed run leaves a profile.
import { renameSync, writeFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
import { encodeSession } from "../../session/session.ts";
import { encodeStream, StreamFile, type StreamSink } from "../../session/stream.ts";
import type { Session } from "../../session/types.ts";
import { detectRuntime, type Sampler, startSampler } from "../index.ts";
import { dieBySignal, signalExitCode } from "../shared/die-by-signal.ts";
import { RESTORE_ENV } from "../launch/launch.ts";
import { collectThreads, profileWorkers } from "../workers/main.ts";
import { profileThisWorker, workerSettings } from "../workers/worker.ts";

interface ChildConfig {
  interval: number;
  sessionPath: string;
  program: string;
  /** Await attribution (absent from older CLIs: enabled). */
  asyncMode?: "enabled" | "strict" | "disabled";
  /** --stream-to: the appendable session file. */
  streamPath?: string;
  /** SIGUSR2 toggles profiling (which starts off). */
  toggleSignal?: boolean;
  /** --duration: each profiling period stops after this many seconds. */
  duration?: number;
}

/** How often a stream is drained to its file: what a kill -9 can lose. */
const STREAM_DRAIN_MS = 1000;
const TOGGLE_SIGNAL = "SIGUSR2";

/** Puts back the variables the launch set for the runtime alone (runtimes/launch/launch.ts, RESTORE_ENV). */
function restoreEnv(): void {
  const raw = process.env[RESTORE_ENV];
  delete process.env[RESTORE_ENV];
  if (raw === undefined) return;
  try {
    for (const [name, value] of Object.entries(JSON.parse(raw) as Record<string, string | null>)) {
      if (value === null) delete process.env[name];
      else process.env[name] = value;
    }
  } catch {
    // Not ours to fail on: the program runs with the runtime's settings left in its environment.
  }
}

function readConfig(): ChildConfig | null {
  restoreEnv();
  const raw = process.env.TSPROFILE_CHILD;
  // Deleted at once so the program's own child processes (which may inherit --import via execArgv) are not
  // profiled into the same file.
  delete process.env.TSPROFILE_CHILD;
  if (raw === undefined || !isMainThread) return null;
  try {
    const c = JSON.parse(raw);
    const typed = typeof c.interval === "number" && typeof c.sessionPath === "string" && typeof c.program === "string";
    if (typed && c.sessionPath) return c;
  } catch {
    // not JSON, or not an object: reported as malformed just below
  }
  process.stderr.write("tsprofile: ignoring a malformed TSPROFILE_CHILD; the program runs unprofiled\n");
  return null;
}

const say = (line: string): void => void process.stderr.write(`tsprofile: ${line}\n`);

/** Written under a temporary name and renamed, so the CLI never reads half a file. */
function writeWhole(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/** One profiling period: the sampler, and the stream it feeds when --stream-to is on. */
interface Period {
  sampler: Sampler;
  /** The stream file, written by our drain timer, or by the sampler's own writer thread (Sampler.streamTo). */
  stream: StreamSink | null;
  timer: ReturnType<typeof setInterval> | null;
  stopAfter: ReturnType<typeof setTimeout> | null;
}

function install(config: ChildConfig): void {
  let period: Period | null = null;
  let reports = 0; // sessions written mid-run
  let exiting = false;

  const begin = (): void => {
    if (period) return;
    let sampler: Sampler;
    try {
      sampler = startSampler({
        interval: config.interval,
        startStack: false,
        // The first start precedes the program's code; a SIGUSR2 start comes mid-run, after the JIT has optimized
        // loops the profiler could not name without a deoptimization (runtimes/node/sampler.ts).
        deoptimize: config.toggleSignal === true,
        asyncMode: config.asyncMode === "disabled" ? "disabled" : "enabled",
        stream: config.streamPath !== undefined,
      });
    } catch (err) {
      say(`could not start the sampler (${(err as Error).message}); the program runs unprofiled`);
      return;
    }
    const p: Period = { sampler, stream: null, timer: null, stopAfter: null };
    period = p;
    if (config.streamPath !== undefined) startStream(p, config.streamPath);
    if (config.duration !== undefined) {
      p.stopAfter = setTimeout(() => end(false), config.duration * 1000);
      (p.stopAfter as { unref?: () => void }).unref?.();
    }
  };

  const startStream = (p: Period, path: string): void => {
    const { sampler } = p;
    if (!sampler.drain || !sampler.meta) {
      const why = detectRuntime() === "deno"
        ? "Deno cannot stream samples (its inspector loses samples when restarted)"
        : `Node ${process.versions.node} cannot stream samples without the native addon ` +
          "(the inspector loses samples when restarted)";
      say(`--stream-to: ${why}: the file is written when profiling stops`);
      return;
    }
    // The sampler's own writer when it has one (Node with the native addon): it streams even while the program
    // never yields, and converts off the program's thread (runtimes/node/stream-worker.ts). Elsewhere the drain
    // below is a timer on the program's thread: a program that never yields streams nothing until it does. Bun's
    // traces (bun:jsc) and V8's handles on Node >= 24.12 without the addon can only be drained from the program's
    // own thread, and neither runtime lets another thread interrupt it to do so; Deno cannot stream at all.
    if (sampler.streamTo) {
      try {
        p.stream = sampler.streamTo(path, sampler.meta({ program: config.program }));
        return;
      } catch (err) {
        const why = (err as { code?: string }).code ?? (err as Error).message;
        say(`--stream-to: cannot write ${path} (${why}); the session is kept in memory`);
        return;
      }
    }
    let file: StreamFile;
    try {
      p.stream = file = new StreamFile(path);
      file.start(sampler.meta({ program: config.program }));
    } catch (err) {
      const why = (err as { code?: string }).code ?? (err as Error).message;
      say(`--stream-to: cannot write ${path} (${why}); the session is kept in memory`);
      p.stream?.close();
      p.stream = null;
      return;
    }
    const drain = sampler.drain.bind(sampler);
    p.timer = setInterval(() => {
      try {
        file.chunk(drain());
      } catch (err) {
        // The drained samples are lost, and without a file there is nowhere for the next ones: stop streaming.
        say(`--stream-to: stopped streaming (${(err as { code?: string }).code ?? (err as Error).message})`);
        clearInterval(p.timer!);
        p.timer = null;
        p.stream!.close();
        p.stream = null;
      }
    }, STREAM_DRAIN_MS);
    (p.timer as { unref?: () => void }).unref?.();
  };

  /** Stops the current period and writes its session: the final one at exit, else a numbered one. */
  const end = (atExit: boolean): void => {
    const p = period;
    if (!p) return;
    period = null;
    if (p.timer) clearInterval(p.timer);
    if (p.stopAfter) clearTimeout(p.stopAfter);
    let session: Session;
    try {
      session = p.sampler.stop({ program: config.program });
    } catch (err) {
      say(`could not stop the sampler (${(err as Error).message})`);
      p.stream?.close();
      return;
    }
    try {
      // With a stream, the stream file is the session (the CLI renders it when the program ends).
      if (p.stream) p.stream.end(session);
      else if (config.streamPath !== undefined) writeWhole(config.streamPath, encodeStream(session));
      else {
        if (atExit && workers) {
          const threads = collectThreads(config.sessionPath);
          if (threads.length > 0) session.threads = threads;
        }
        writeWhole(atExit ? config.sessionPath : `${config.sessionPath}.${++reports}`, encodeSession(session));
      }
    } catch (err) {
      // The program's exit status is not ours to change; the CLI reports the missing session.
      say(`could not write the session (${(err as { code?: string }).code ?? (err as Error).message})`);
    }
  };
  const finish = (): void => {
    if (exiting) return;
    exiting = true;
    end(true);
  };

  // Worker threads are profiled for a plain run only: a stream or a profiling period would need their sessions cut
  // in step with the main thread's (runtimes/workers).
  const workers = !config.toggleSignal && config.duration === undefined && config.streamPath === undefined;
  if (workers) {
    try {
      profileWorkers({
        interval: config.interval,
        asyncMode: config.asyncMode === "disabled" ? "disabled" : "enabled",
        sessionPath: config.sessionPath,
        preload: import.meta.url,
      });
    } catch (err) {
      say(`worker threads are not profiled (${(err as Error).message})`);
    }
  }
  if (!config.toggleSignal) begin();
  else {
    // Only when asked for: listening to SIGUSR2 takes away its default (ending the process).
    process.on(TOGGLE_SIGNAL, () => {
      if (exiting) return;
      if (period) end(false);
      else begin();
    });
  }

  // 'exit' covers a normal end, process.exit(n) and an uncaught exception (Node prints it, then exits 1).
  process.on("exit", finish);
  if (typeof (globalThis as { Deno?: unknown }).Deno !== "undefined") onDenoEnd(finish);

  // A signal with no listener kills the process without 'exit'. Ours stands in for the default only while the
  // program has none of its own: then save, step aside and re-raise, so the status stays "killed by <sig>".
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(sig) > 1) return; // the program handles this signal itself
      finish();
      process.removeListener(sig, onSignal);
      // Should the signal never land, the program must not run on: it ends as a shell reports a death by it.
      dieBySignal(sig, () => process.exit(signalExitCode(sig)));
    };
    process.on(sig, onSignal);
  }
}

/**
 * Deno emits process 'exit' for a normal end and process.exit(n), but not for Deno.exit(n) (only the 'unload'
 * event) nor for an uncaught exception or unhandled rejection: those dispatch 'error' / 'unhandledrejection'
 * on globalThis and then end the process without any further event. Listening does not change the outcome
 * (we never preventDefault). Not fatal, so ignored: an event already prevented, or one the program takes through
 * process.on('uncaughtException' / 'unhandledRejection') (Deno decides that after our listener has run).
 * Limitation: a globalThis listener of the program's that prevents the event after ours ran leaves the rest of
 * the run unprofiled.
 */
function onDenoEnd(finish: () => void): void {
  const g = globalThis as unknown as { addEventListener(type: string, fn: (e: Event) => void): void };
  g.addEventListener("unload", () => finish());
  const nodeEvent: Record<string, string> = { error: "uncaughtException", unhandledrejection: "unhandledRejection" };
  for (const type of Object.keys(nodeEvent)) {
    g.addEventListener(type, (e) => {
      if (!e.defaultPrevented && process.listenerCount(nodeEvent[type]) === 0) finish();
    });
  }
}

// In a worker of a profiled program (runtimes/workers): sample the worker, for the main thread to collect.
const inWorker = workerSettings();
if (inWorker) profileThisWorker(inWorker.config, inWorker.entry);
else {
  const config = readConfig();
  if (config) install(config);
}
