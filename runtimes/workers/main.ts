// The main thread's side of worker-thread profiling (see worker.ts for the worker's): hands the settings to every
// worker the program starts, makes terminate() ask the worker for its profile before it goes, and collects the
// workers' sessions into the main session (Session.threads) when the program ends.
// How the preload reaches a worker: Node inherits --import through execArgv and passes environment data; Bun and
// Deno run no preload in workers, so their Web Worker constructor is wrapped: Bun gets the preload through the
// Worker's `preload` option, Deno through a small module written for each worker that imports the preload, then
// the worker's own module. Not covered: node:worker_threads Workers on Bun and Deno (their constructors are not
// reachable from the preload; they run unprofiled), and workers still running when the process exits.
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setEnvironmentData, Worker as NodeWorker } from "node:worker_threads";
import { decodeSession } from "../../session/session.ts";
import type { Session } from "../../session/types.ts";
import { detectRuntime } from "../index.ts";
import {
  channelName,
  CONFIG_KEY,
  ENV_KEY,
  type StopMessage,
  takeThreadFiles,
  threadFile,
  type WorkerConfig,
} from "./protocol.ts";

/** How long terminate() waits for a worker's profile: a worker busy in a loop never answers. */
const STOP_WAIT_MS = 1000;
const say = (line: string): void => void process.stderr.write(`tsprofile: ${line}\n`);

type WebWorkerClass = new (spec: string | URL, options?: Record<string, unknown>) => WebWorker;
interface WebWorker extends EventTarget {
  terminate(): void;
  postMessage(message: unknown): void;
  threadId?: number;
}
interface Stoppable {
  terminate(...args: unknown[]): unknown;
}

/** Every worker the program starts from now on is profiled (main thread only). */
export function profileWorkers(config: WorkerConfig): void {
  const runtime = detectRuntime();
  try {
    setEnvironmentData(ENV_KEY, JSON.stringify(config));
  } catch {
    // no environment data on this runtime: its workers get the settings from the wrappers below
  }
  const web = (globalThis as { Worker?: WebWorkerClass }).Worker;
  // Deno: TSPROFILE_DENO_WORKERS=0 leaves its workers unprofiled, should a program hang with them. Twice in full
  // test-suite runs one did, when the wrapper module loaded the preload and the worker's module with `await
  // import()`, which Deno is known to hang on when the graph holds a top-level await (not reproduced in 30 runs
  // under load). The wrapper imports them statically now (wrapDenoWorker).
  if (runtime === "deno") {
    if (web && process.env.TSPROFILE_DENO_WORKERS !== "0") wrapDenoWorker(web, config);
  } else {
    const ask = channelStop(config.sessionPath);
    askBeforeTerminate(NodeWorker.prototype as unknown as Stoppable, (w) => (w as NodeWorker).threadId, ask, config);
    if (runtime === "bun" && web) wrapBunWorker(web, config, ask);
  }
}

/** The workers' sessions written so far, in the order of their ids; unreadable ones are left out with a line. */
export function collectThreads(sessionPath: string): Session[] {
  const threads: Session[] = [];
  for (const bytes of takeThreadFiles(sessionPath)) {
    try {
      threads.push(decodeSession(bytes, "worker profile"));
    } catch (err) {
      say(`${(err as Error).message}: that worker is left out of the report`);
    }
  }
  return threads;
}

type AskStop = (id: number, worker: object) => Promise<void>;

/** How often a wait for a worker's answer looks for its profile: a worker already on its way out writes it then
 * instead of answering (jest-worker's end() terminates a worker 500 ms after asking it to exit). */
const FILE_POLL_MS = 20;

/**
 * Node and Bun: the stop request goes on the run's BroadcastChannel; the worker answers once it has written. A
 * worker says when it is ready to answer: one terminated before that (its preload not run yet) has nothing to give
 * and is terminated at once, not after a wait. The wait also ends when the worker's profile is written, or the
 * worker exits, without an answer.
 */
function channelStop(sessionPath: string): AskStop {
  const ready = new Set<number>();
  const waiting = new Map<number, () => void>();
  const channel = new BroadcastChannel(channelName(sessionPath));
  channel.onmessage = (e) => {
    const data = e.data as StopMessage | null;
    if (data?.tsprofileReady !== undefined) ready.add(data.tsprofileReady);
    if (data?.tsprofileStopped !== undefined) waiting.get(data.tsprofileStopped)?.();
  };
  // The wait's timer keeps the process alive while an answer is due; the channel never does.
  (channel as { unref?: () => void }).unref?.();
  return (id, worker) =>
    new Promise<void>((resolve) => {
      if (!ready.has(id)) return resolve();
      const written = () => existsSync(threadFile(sessionPath, id));
      const timer = setTimeout(() => {
        if (!written()) {
          say(`worker ${id} did not answer within ${STOP_WAIT_MS} ms of terminate(): its profile is lost`);
        }
        finish();
      }, STOP_WAIT_MS);
      const poll = setInterval(() => written() && finish(), FILE_POLL_MS);
      const finish = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        waiting.delete(id);
        ready.delete(id);
        resolve();
      };
      waiting.set(id, finish);
      // Its end: Node's Worker emits 'exit', Bun's Web Worker dispatches 'close'.
      const w = worker as {
        once?: (e: string, f: () => void) => void;
        addEventListener?: (e: string, f: () => void) => void;
      };
      if (typeof w.once === "function") w.once("exit", finish);
      else w.addEventListener?.("close", finish);
      channel.postMessage({ tsprofileStop: id } satisfies StopMessage);
    });
}

const STOPPING = Symbol("tsprofile.stopping");

/**
 * terminate() first asks the worker for its profile (it answers once its session is written), then terminates
 * it. Meanwhile the worker's events are held back, as terminate() promises none after it. Node's terminate()
 * still returns its promise of the exit code; a Web Worker's returns nothing, as before.
 */
function askBeforeTerminate(
  proto: Stoppable,
  idOf: (worker: unknown) => number | undefined,
  ask: AskStop,
  config: WorkerConfig,
): void {
  const terminate = proto.terminate;
  proto.terminate = function (this: Stoppable & { [STOPPING]?: boolean; emit?: unknown }, ...args: unknown[]) {
    const id = idOf(this);
    // Gone already (Node sets threadId -1), or its profile is written: nothing to ask.
    if (this[STOPPING] || id === undefined || id < 0 || existsSync(threadFile(config.sessionPath, id))) {
      return terminate.apply(this, args);
    }
    this[STOPPING] = true;
    if (typeof this.emit === "function") {
      const emit = this.emit as (event: string, ...rest: unknown[]) => boolean;
      this.emit = function (this: unknown, event: string, ...rest: unknown[]) {
        return event === "exit" ? emit.call(this, event, ...rest) : false;
      };
    }
    const stopped = ask(id, this).then(() => terminate.apply(this, args));
    return typeof this.emit === "function" ? stopped : undefined;
  };
}

/** Bun: the preload goes in through the Worker's own `preload` option, before any of the worker's code. */
function wrapBunWorker(Web: WebWorkerClass, config: WorkerConfig, ask: AskStop): void {
  class ProfiledWorker extends (Web as unknown as new (...args: unknown[]) => WebWorker) {
    constructor(spec: string | URL, options: Record<string, unknown> = {}) {
      const own = Array.isArray(options.preload) ? options.preload : options.preload ? [options.preload] : [];
      super(spec, { ...options, preload: [fileURLToPath(config.preload), ...own] });
      holdEventsWhileStopping(this);
    }
  }
  askBeforeTerminate(ProfiledWorker.prototype as unknown as Stoppable, (w) => (w as WebWorker).threadId, ask, config);
  (globalThis as { Worker?: unknown }).Worker = ProfiledWorker;
}

/** A Web Worker's events after terminate(): listened to first, in the constructor, so none reaches the program. */
function holdEventsWhileStopping(worker: WebWorker & { [STOPPING]?: boolean }): void {
  for (const type of ["message", "messageerror", "error"]) {
    worker.addEventListener(type, (e) => {
      if (worker[STOPPING]) e.stopImmediatePropagation();
    });
  }
}

/**
 * Deno: each module Worker starts from a module written beside the session that leaves the settings where the
 * preload finds them, imports the preload, then the worker's own module. The stop request and its answer go on
 * the worker's own message port (Deno's BroadcastChannel would keep the worker alive).
 */
function wrapDenoWorker(Web: WebWorkerClass, config: WorkerConfig): void {
  let next = 0;
  class ProfiledWorker extends (Web as unknown as new (...args: unknown[]) => WebWorker) {
    constructor(spec: string | URL, options: Record<string, unknown> = {}) {
      let wrapper: string | null = null;
      const id = ++next;
      if (options.type === "module") {
        try {
          // Absolute URLs only: Deno resolves a relative one against --location (else refuses it), so it is
          // left to Deno, unprofiled, rather than resolved otherwise than the program expects.
          const url = new URL(String(spec)).href;
          const settings = { ...config, id };
          wrapper = `${config.sessionPath}.worker-${id}.mjs`;
          // Static imports, evaluated in order: the settings, the preload, the worker's module. Not `await
          // import()`: Deno has hung on dynamic imports whose graph holds a top-level await (denoland/deno#34466,
          // #24069, #19903), and a worker's module may well have one.
          const settingsModule = `globalThis[Symbol.for(${JSON.stringify(CONFIG_KEY)})] = ${
            JSON.stringify({ settings, entry: url })
          };`;
          writeFileSync(
            wrapper,
            `import ${JSON.stringify(`data:text/javascript,${encodeURIComponent(settingsModule)}`)};\n` +
              `import ${JSON.stringify(config.preload)};\n` +
              `import ${JSON.stringify(url)};\n`,
          );
        } catch {
          wrapper = null; // not a URL we can wrap, or nowhere to write: the worker runs unprofiled, as given
        }
      }
      super(wrapper !== null ? pathToFileURL(wrapper).href : spec, options);
      // The answer's listener goes first: holding the worker's events back must not hold back the answer.
      if (wrapper !== null) stopOnTerminate(this, id, config.sessionPath);
      holdEventsWhileStopping(this);
    }
  }
  (globalThis as { Worker?: unknown }).Worker = ProfiledWorker;
}

/**
 * Deno: terminate() posts the stop request to the worker and terminates it once answered (or after a wait). A
 * worker whose preload has not said it is ready (its module failed to load, or it has not started) has nothing to
 * give, and goes at once, as without tsprofile.
 */
function stopOnTerminate(worker: WebWorker & { [STOPPING]?: boolean }, id: number, sessionPath: string): void {
  const terminate = worker.terminate.bind(worker);
  let answered: (() => void) | null = null;
  let ready = false;
  worker.addEventListener("message", (e) => {
    const data = (e as MessageEvent).data as StopMessage | null;
    if (data?.tsprofileReady !== undefined) {
      e.stopImmediatePropagation();
      ready = true;
    }
    if (data?.tsprofileStopped === undefined) return;
    e.stopImmediatePropagation();
    answered?.();
  });
  worker.terminate = () => {
    if (worker[STOPPING]) return;
    // Not ready: nothing to give. Closed itself: its profile is written.
    if (!ready || existsSync(threadFile(sessionPath, id))) return terminate();
    worker[STOPPING] = true;
    const written = () => existsSync(threadFile(sessionPath, id));
    const timer = setTimeout(() => {
      if (!written()) say(`worker ${id} did not answer within ${STOP_WAIT_MS} ms of terminate(): its profile is lost`);
      answered?.();
    }, STOP_WAIT_MS);
    const poll = setInterval(() => written() && answered?.(), FILE_POLL_MS); // it closed itself meanwhile
    answered = () => {
      answered = null;
      clearTimeout(timer);
      clearInterval(poll);
      terminate();
    };
    worker.postMessage({ tsprofileStop: id } satisfies StopMessage);
  };
}
