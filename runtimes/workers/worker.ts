// The worker's side of worker-thread profiling: started by the preload inside a worker (Node: inherited through
// execArgv; Bun: the Worker's `preload` option; Deno: the wrapper module, see main.ts), it samples the worker with
// the main thread's sampler code and writes the worker's session to threadFile() when the worker ends, for the
// main thread to collect (main.ts, collectThreads).
import { renameSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { getEnvironmentData, isMainThread, threadId } from "node:worker_threads";
import { encodeSession } from "../../session/session.ts";
import type { Session } from "../../session/types.ts";
import { detectRuntime, named, type Sampler, type SamplerOptions, startSampler } from "../index.ts";
import { startNodeSampler } from "../node/sampler.ts";
import { channelName, CONFIG_KEY, ENV_KEY, type StopMessage, threadFile, type WorkerConfig } from "./protocol.ts";

const say = (line: string): void => void process.stderr.write(`tsprofile: ${line}\n`);

interface WorkerScope {
  close?: (...args: unknown[]) => void;
  postMessage(message: unknown): void;
  addEventListener(type: string, fn: (e: MessageEvent) => void): void;
}

/** The worker's entry module as the report names it: relative to the working directory when inside it. */
function entryName(entry: string | undefined): string {
  if (!entry) return "";
  const path = entry.startsWith("file:") ? decodeURIComponent(new URL(entry).pathname) : entry;
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

/**
 * The settings when this is a worker of a profiled program, else null: from Deno's wrapper module, or from the
 * environment data Node and Bun pass to workers.
 */
export function workerSettings(): { config: WorkerConfig; entry: string | undefined } | null {
  const fromWrapper = (globalThis as Record<symbol, unknown>)[Symbol.for(CONFIG_KEY)] as
    | { settings: WorkerConfig; entry: string }
    | undefined;
  if (fromWrapper) return { config: fromWrapper.settings, entry: fromWrapper.entry };
  if (isMainThread) return null;
  try {
    const raw = getEnvironmentData(ENV_KEY);
    if (typeof raw === "string") return { config: JSON.parse(raw), entry: process.argv[1] };
  } catch {
    // not ours: a worker of a program that is not profiled
  }
  return null;
}

/** Starts sampling this worker; its session is written once, however the worker ends (short of a crash). */
export function profileThisWorker(config: WorkerConfig, entry: string | undefined): void {
  const runtime = detectRuntime();
  const id = config.id ?? threadId;
  let sampler: Sampler;
  const options: SamplerOptions = { interval: config.interval, startStack: false, asyncMode: config.asyncMode };
  try {
    // Node: the inspector sampler, as without the native addon. The addon's profiler would outlive the isolate of
    // a worker terminated mid-run (no JavaScript runs to stop it), and the process dies of SIGSEGV.
    sampler = runtime === "node" ? named(startNodeSampler(options), "inspector") : startSampler(options);
  } catch (err) {
    say(`worker ${id}: could not start the sampler (${(err as Error).message}); the worker runs unprofiled`);
    return;
  }
  const name = `worker ${id}`;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    try {
      const session: Session = sampler.stop({ program: entryName(entry) || name });
      session.meta.thread = { id, name };
      // The samplers' CPU time is the process's (process.cpuUsage), every thread's: not this worker's own.
      session.meta.cpuTime = -1;
      const path = threadFile(config.sessionPath, id);
      writeFileSync(`${path}.tmp`, encodeSession(session));
      renameSync(`${path}.tmp`, path);
    } catch (err) {
      // The worker's own outcome is not ours to change: its profile is lost, the main thread's report is not.
      say(`${name}: could not write its profile (${(err as { code?: string }).code ?? (err as Error).message})`);
    }
  };
  // Node and Bun: the worker's end, process.exit() in it, or an uncaught exception.
  process.on("exit", finish);
  const scope = globalThis as unknown as WorkerScope;
  if (runtime === "deno") {
    // A Deno Web Worker ends by self.close() or its terminate(); neither emits 'exit'.
    const close = scope.close;
    if (typeof close === "function") {
      scope.close = function (this: unknown, ...args: unknown[]) {
        finish();
        return close.apply(this, args);
      };
    }
    // An uncaught error or rejection ends a Deno worker without either (unless the worker's own handler
    // prevents it, after ours has run: then the rest of the worker runs unprofiled, as on the main thread).
    for (const type of ["error", "unhandledrejection"]) {
      scope.addEventListener(type, (e) => {
        if (!e.defaultPrevented) finish();
      });
    }
    // terminate() asks first (main.ts). Added before the worker's code runs, so this listener is the first and
    // the worker's own never see the request.
    scope.addEventListener("message", (e) => {
      if ((e.data as StopMessage | null)?.tsprofileStop === undefined) return;
      e.stopImmediatePropagation();
      finish();
      scope.postMessage({ tsprofileStopped: id } satisfies StopMessage);
    });
    scope.postMessage({ tsprofileReady: id } satisfies StopMessage);
    return;
  }
  // Node and Bun: terminate() asks on a channel of the run's own, unref'd so it never keeps the worker alive.
  const channel = new BroadcastChannel(channelName(config.sessionPath));
  channel.onmessage = (e) => {
    if ((e.data as StopMessage | null)?.tsprofileStop !== id) return;
    finish();
    channel.postMessage({ tsprofileStopped: id } satisfies StopMessage);
  };
  (channel as { unref?: () => void }).unref?.();
  channel.postMessage({ tsprofileReady: id } satisfies StopMessage);
}
