// The Profiler API, shaped like pyinstrument's: start() / stop() around the code of interest, then print() or
// output...(). Sampling itself is the runtime's sampler (runtimes/index.ts); this class only keeps state.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { prepareContextTracking } from "../runtimes/awaits/contexts.ts";
import { browserCommand, launch as launchOpener } from "./browser.ts";
import { startSampler } from "../runtimes/index.ts";
import type { Sampler } from "../runtimes/index.ts";
import { defaultReportOptions } from "./processing/options.ts";
import type { Processor, ReportOptions, TreeRenderer } from "./processing/options.ts";
import type { FrameNode } from "./processing/frame-node.ts";
import { displayable, sessionDisplay } from "./display.ts";
import { escapeAttribute, JUPYTER_DISPLAY } from "./jupyter.ts";
import type { DisplayBundle } from "./jupyter.ts";
import { renderSession } from "./report.ts";
import { rootFrame } from "./tree.ts";
import { combineSessions } from "../session/session.ts";
import { MIN_INTERVAL } from "../session/types.ts";
import type { AsyncMode, Session } from "../session/types.ts";

export interface ProfilerOptions {
  /** Seconds between samples (pyinstrument's unit); default 0.001. At least 0.0001. */
  interval?: number;
  /** How time spent awaiting is reported, as pyinstrument's async_mode: "enabled" (default) charges it to the
   * awaiting stack as [await]; "strict" also profiles only the async context that called start(), showing the
   * time other contexts run as [out-of-context]; "disabled" records no waits. */
  asyncMode?: AsyncMode;
  /** Processors run after the core's on every tree report and rootFrame() (before any given per call). */
  processors?: Processor[];
}

/** Where print() writes: process.stdout by default. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** An interval option (seconds) checked: a RangeError in one line if it is not a number >= MIN_INTERVAL. */
export function checkInterval(interval: unknown): number {
  if (typeof interval !== "number" || !Number.isFinite(interval) || interval < MIN_INTERVAL) {
    throw new RangeError(
      `tsprofile: interval must be a number of seconds, at least ${MIN_INTERVAL} (got ${String(interval)})`,
    );
  }
  return interval;
}

export class Profiler {
  /** Seconds between samples. */
  readonly interval: number;
  readonly asyncMode: AsyncMode;
  readonly processors: readonly Processor[];
  #sampler: Sampler | null = null;
  #lastSession: Session | null = null;

  constructor(options: ProfilerOptions = {}) {
    this.interval = checkInterval(options.interval ?? 0.001);
    const asyncMode = options.asyncMode ?? "enabled";
    if (!["enabled", "strict", "disabled"].includes(asyncMode)) {
      throw new RangeError(`tsprofile: asyncMode is "enabled", "strict" or "disabled" (got ${String(asyncMode)})`);
    }
    this.asyncMode = asyncMode;
    const processors = options.processors ?? [];
    if (!Array.isArray(processors) || processors.some((p) => typeof p !== "function")) {
      throw new TypeError("tsprofile: processors is an array of functions");
    }
    this.processors = [...processors];
    // Node 20/22: context tracking must be active before the promises of the code to profile exist.
    if (asyncMode === "strict") prepareContextTracking();
  }

  get isRunning(): boolean {
    return this.#sampler !== null && this.#sampler.isRunning;
  }

  /** The session of the last stop() (sessions of successive start/stop pairs combined), or null. */
  get lastSession(): Session | null {
    return this.#lastSession;
  }

  /** Starts sampling; returns the profiler, so `using profiler = new Profiler().start()` profiles a block. */
  start(): this {
    if (this.isRunning) throw new Error("tsprofile: the profiler is already running");
    this.#sampler = startSampler({ interval: Math.round(this.interval * 1e6), asyncMode: this.asyncMode });
    return this;
  }

  /**
   * Runs fn under the profiler and returns its result with the session; for a function that returns a promise,
   * a promise of them, settled once fn's promise is. If fn throws or rejects, the profiler stops (the session is
   * lastSession) and the error passes through.
   */
  profile<T>(fn: () => Promise<T>): Promise<Profiled<T>>;
  profile<T>(fn: () => T): Profiled<T>;
  profile<T>(fn: () => T | Promise<T>): Profiled<T> | Promise<Profiled<T>> {
    if (typeof fn !== "function") throw new TypeError("tsprofile: profile() takes a function");
    this.start();
    let result: T | Promise<T>;
    try {
      result = fn();
    } catch (err) {
      this.stop();
      throw err;
    }
    if (!isThenable(result)) return { result, session: this.stop() };
    return Promise.resolve(result).then(
      (value) => ({ result: value, session: this.stop() }),
      (err) => {
        this.stop();
        throw err;
      },
    );
  }

  /** End of a `using` block: stops and prints the report (print()'s defaults: stdout). */
  [Symbol.dispose](): void {
    if (!this.isRunning) return;
    this.stop();
    this.print();
  }

  /** End of an `await using` block: as Symbol.dispose. */
  // deno-lint-ignore require-await -- AsyncDisposable: returns a promise, and a throw from dispose rejects it
  async [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]();
  }

  /** Stops sampling and returns the session. Restarting later and stopping again combines the sessions, as
   * pyinstrument does. */
  stop(): Session {
    const sampler = this.#sampler;
    if (sampler === null || !sampler.isRunning) throw new Error("tsprofile: the profiler is not running");
    this.#sampler = null;
    const session = sampler.stop();
    const combined = this.#lastSession ? combineSessions(this.#lastSession, session) : session;
    // Displayable in a notebook as this profiler's HTML report (src/jupyter.ts).
    this.#lastSession = displayable(combined, this.#reportDefaults());
    return this.#lastSession;
  }

  /** Stops sampling if running (discarding it) and forgets the last session. */
  reset(): void {
    const sampler = this.#sampler;
    this.#sampler = null;
    if (sampler?.isRunning) sampler.stop();
    this.#lastSession = null;
  }

  /** The last session as text; like pyinstrument's output_text, without colour or unicode unless asked for. */
  outputText(options: Partial<ReportOptions> = {}): string {
    return this.output("text", { unicode: false, color: false, ...options });
  }

  /** The report options this profiler's own settings give: its async mode and processors. */
  #reportDefaults(options: Partial<ReportOptions> = {}): Partial<ReportOptions> {
    return {
      asyncMode: this.asyncMode,
      ...options,
      processors: [...this.processors, ...(options.processors ?? [])],
    };
  }

  #session(): Session {
    const session = this.#lastSession;
    if (session === null) throw new Error("tsprofile: nothing to report: call start() and stop() first");
    return session;
  }

  /**
   * The last session rendered by the given renderer: a format's name, or a function of the processed plain tree
   * (see rootFrame) returning the report's text.
   */
  output(renderer: string | TreeRenderer, options: Partial<ReportOptions> = {}): string {
    return renderSession(this.#session(), { ...this.#reportDefaults(options), renderer });
  }

  /**
   * The last session's call tree as plain objects, times in seconds (pyinstrument's root_frame()): processed as
   * output() would with the same options, this profiler's processors and options.processors run on it. Null
   * when the session has no samples.
   */
  rootFrame(options: Partial<ReportOptions> = {}): FrameNode | null {
    return rootFrame(this.#session(), this.#reportDefaults(options));
  }

  /** A notebook's display of the profiler (Deno's Jupyter kernel): its last session's HTML report. */
  [JUPYTER_DISPLAY](): DisplayBundle {
    const session = this.#lastSession;
    if (session === null) {
      const text = "tsprofile Profiler: no session yet (call start() and stop())";
      return { "text/html": `<pre>${escapeAttribute(text)}</pre>`, "text/plain": text };
    }
    return sessionDisplay(session, this.#reportDefaults());
  }

  /** The last session as a self-contained HTML page (call tree and timeline; no network needed to view it). */
  outputHtml(options: Partial<ReportOptions> = {}): string {
    return this.output("html", options);
  }

  /** Writes the HTML report to path. */
  writeHtml(path: string, options: Partial<ReportOptions> = {}): void {
    writeFileSync(path, this.outputHtml(options));
  }

  /**
   * Writes the HTML report to a temporary file and opens it with the platform's opener (open on macOS, start on
   * Windows, xdg-open elsewhere), detached. launch: false writes the file and says what it would run.
   */
  openInBrowser(options: Partial<ReportOptions> & { launch?: boolean } = {}): BrowserLaunch {
    const { launch = true, ...rest } = options;
    const path = join(tmpdir(), `tsprofile-${Date.now()}-${process.pid}.html`);
    this.writeHtml(path, rest);
    const opener = browserCommand(process.platform, path);
    if (launch) launchOpener(opener);
    return { path, ...opener };
  }

  /** Writes the text report to stdout (or options.stream), colour and unicode detected from it unless given. */
  print(options: Partial<ReportOptions> & { stream?: OutputStream } = {}): void {
    const { stream = process.stdout as OutputStream, ...rest } = options;
    const defaults = defaultReportOptions(stream);
    const report = { asyncMode: this.asyncMode, unicode: defaults.unicode, color: defaults.color, ...rest };
    stream.write(this.output("text", report));
  }
}

/** What profile(fn) returns: fn's result and the session recorded while it ran. */
export interface Profiled<T> {
  result: T;
  session: Session;
}

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  if (v === null || (typeof v !== "object" && typeof v !== "function")) return false;
  return typeof (v as { then?: unknown }).then === "function";
}

/** Runs fn under a new Profiler (see Profiler.profile). */
export function profile<T>(fn: () => Promise<T>, options?: ProfilerOptions): Promise<Profiled<T>>;
export function profile<T>(fn: () => T, options?: ProfilerOptions): Profiled<T>;
export function profile<T>(
  fn: () => T | Promise<T>,
  options: ProfilerOptions = {},
): Profiled<T> | Promise<Profiled<T>> {
  return new Profiler(options).profile(fn as () => T);
}

export { browserCommand } from "./browser.ts";

export interface BrowserLaunch {
  /** The HTML file written. */
  path: string;
  command: string;
  args: string[];
}
