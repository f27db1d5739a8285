// Per-request profiles for web servers, what every framework adapter shares: which requests are
// profiled, and one profile per request, of that request only, however many run at once.
//
// One sampler serves every profiled request open at a time (a start costs 30-120 ms and a stop 25-90 ms of the
// server's time: not one per request). Each request runs in an async context of its own (runtimes/awaits/contexts.ts, as
// in strict async mode): the sampler records every wait's context and every context switch, and a request's
// profile is the slice of the session from its start to its end, the samples of other contexts shown as
// [out-of-context] under the request's own pending await, only its own waits charged, and only the frames it uses
// kept. Samplers hand over their session at stop(), so a finished request waits for the next stop: a report asked
// for (?profile) as soon as no profiled request is open, else a quarter second; a saved report up to 2 s after the
// sampler started. A stop while requests are open starts a new sampler for them, which takes over their pending
// waits; their profiles are the parts combined.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { ContextLog, newContext, runInContext, separateContexts } from "../../runtimes/awaits/contexts.ts";
import { type Sampler, startSampler } from "../../runtimes/index.ts";
import { checkInterval } from "../profiler.ts";
import { renderSession } from "../report.ts";
import { combineSessions } from "../../session/session.ts";
import type { Session } from "../../session/types.ts";
import { reportFileName, warn, warnOnce } from "./per-test.ts";

export interface RequestProfilerOptions<Req> {
  /** Off unless true: a disabled middleware passes every request through untouched. Default false. */
  enabled?: boolean;
  /** Decides per request whether it may be profiled (and its report seen); gets the framework's own request
   * object (Express req, Koa ctx, Fastify request, Hono context, fetch Request). Default: every request. */
  show?: (request: Req) => boolean | Promise<boolean>;
  /** The query parameter that asks for a request's report instead of its response. Default "profile". */
  param?: string;
  /** Profile-directory mode: every request (that show() allows) is profiled and its HTML report saved in this
   * folder; responses are unchanged. */
  dir?: string;
  /** Seconds between samples; default 0.001, at least 0.0001. */
  interval?: number;
}

/** What happens to a request: its report replaces the response, or is saved to the folder. */
export type RequestMode = "report" | "save";

const MAX_GROUP_MS = 2000;
const REPORT_WAIT_MS = 250;
// Taken before any wait tracker wraps them: the engine's own timers are no request's waits.
const { setTimeout: realSetTimeout, clearTimeout } = globalThis;

export class RequestProfiler<Req> {
  readonly enabled: boolean;
  readonly param: string;
  readonly dir: string | null;
  readonly #show: (request: Req) => boolean | Promise<boolean>;
  readonly #interval: number;
  #group: Group | null = null;
  readonly #sayOnce = warnOnce();

  constructor(options: RequestProfilerOptions<Req> = {}) {
    const interval = checkInterval(options.interval ?? 0.001);
    if (options.show !== undefined && typeof options.show !== "function") {
      throw new TypeError("tsprofile: show must be a function");
    }
    this.enabled = options.enabled === true;
    this.param = options.param ?? "profile";
    this.dir = options.dir ? resolve(options.dir) : null;
    this.#show = options.show ?? (() => true);
    this.#interval = interval;
    // Context tracking starts with the first profiled request (runInContext), not here: on Node 20/22 an active
    // AsyncLocalStorage hooks every promise, ~3% of an idle server's throughput. A request's promises are all made
    // inside its run(), so they are tracked all the same.
  }

  /** Whether the request is profiled and how, from its URL (absolute, or path and query) and show(); null: pass
   * it through. Synchronous unless show() returns a promise. A show() that throws counts as "no". */
  check(url: string, request: Req): RequestMode | null | Promise<RequestMode | null> {
    if (!this.enabled) return null;
    const mode: RequestMode | null = this.wantsReport(url) ? "report" : this.dir ? "save" : null;
    if (mode === null) return null;
    const refused = (err: unknown) => {
      this.#sayOnce("show() failed; the request is not profiled", err);
      return null;
    };
    try {
      const allowed = this.#show(request);
      if (allowed && typeof (allowed as Promise<boolean>).then === "function") {
        return (allowed as Promise<boolean>).then((ok) => (ok === true ? mode : null), refused);
      }
      return allowed === true ? mode : null;
    } catch (err) {
      return refused(err);
    }
  }

  /** Whether the URL's query has the report parameter (?profile, ?profile=1, &profile), not turned off
   * (?profile=0, ?profile=false). */
  wantsReport(url: string): boolean {
    const q = url.indexOf("?");
    if (q < 0 || url.indexOf(this.param, q) < 0) return false; // most URLs, without building URLSearchParams
    const value = new URLSearchParams(url.slice(q + 1).split("#")[0]).get(this.param);
    return value !== null && !/^(0|false|no|off)$/i.test(value.trim());
  }

  /** Starts profiling a request; `title` names its report ("GET /path"). Run the request's code in run(). */
  begin(title: string, mode: RequestMode): ProfiledRequest {
    const request = new ProfiledRequest(this, title, mode, newContext());
    try {
      this.#group ??= new Group(this.#interval, () => (this.#group = null));
      this.#group.begin(request);
    } catch (err) {
      this.#sayOnce("could not start profiling a request", err);
    }
    return request;
  }

  /** Called by ProfiledRequest.finish. */
  finishing(request: ProfiledRequest): void {
    if (!this.#group || !this.#group.has(request)) {
      request.settle(null);
      return;
    }
    this.#group.finish(request);
  }

  /** Saves a report in the folder (profile-directory mode); never throws. */
  save(title: string, html: string): void {
    try {
      mkdirSync(this.dir!, { recursive: true });
      writeFileSync(uniquePath(this.dir!, title), html);
    } catch (err) {
      this.#sayOnce(`could not save the profile of ${title}`, err);
    }
  }
}

/** An adapter handed to its framework uncalled (`app.use(koaProfiler)`): the framework calls it as the middleware
 * itself. One line, once per adapter; the caller passes the request on unprofiled. */
export function sayUncalled(usage: string): void {
  if (uncalledSaid.has(usage)) return;
  uncalledSaid.add(usage);
  process.stderr.write(`tsprofile: ${usage}\n`);
}
const uncalledSaid = new Set<string>();

/** <dir>/<time> <title>.html, e.g. "1764040000000 GET _users_7.html", "-2" if taken. */
function uniquePath(dir: string, title: string): string {
  const base = reportFileName(`${Date.now()} ${title}`);
  let path = join(dir, `${base}.html`);
  for (let n = 2; taken.has(path); n++) path = join(dir, `${base}-${n}.html`);
  taken.add(path);
  if (taken.size > 10_000) taken.clear();
  return path;
}
const taken = new Set<string>();

/** One request being profiled. */
export class ProfiledRequest {
  /** Session times (tracker clock until resolved) of its start and end in the current sampler's session. */
  from = NaN;
  to = NaN;
  /** Its profile from samplers stopped while it was open. */
  readonly parts: Session[] = [];
  #settled: Promise<Session | null>;
  #resolve!: (s: Session | null) => void;
  #finished = false;

  constructor(
    readonly owner: RequestProfiler<never>, // whatever its request type: only finishing() and save() are used
    readonly title: string,
    readonly mode: RequestMode,
    readonly context: number,
  ) {
    this.#settled = new Promise((r) => (this.#resolve = r));
  }

  /** Runs the request's code (the framework's next(), the handler) in the request's context. */
  run<T>(fn: () => T): T {
    return runInContext(this.context, fn);
  }

  /** The request's code is done: its session (null if it could not be profiled), once the sampler hands it over.
   * In save mode the report is also written to the folder. */
  finish(): Promise<Session | null> {
    if (!this.#finished) {
      this.#finished = true;
      this.owner.finishing(this);
    }
    return this.#settled;
  }

  /** finish(), rendered as the HTML report; null when it could not be made (said on stderr): answer the request
   * as if it had not been profiled. */
  async report(): Promise<string | null> {
    const session = await this.finish();
    if (!session) return null;
    try {
      return renderSession(session, { renderer: "html" });
    } catch (err) {
      warn(`could not render the profile of ${this.title}`, err);
      return null;
    }
  }

  settle(session: Session | null): void {
    if (session && this.mode === "save") {
      try {
        this.owner.save(this.title, renderSession(session, { renderer: "html" }));
      } catch (err) {
        warn(`could not save the profile of ${this.title}`, err);
      }
    }
    this.#resolve(session);
  }
}

/** The requests of one sampler run, from the first profiled request to a stop. */
class Group {
  #sampler: Sampler;
  #log = new ContextLog();
  #startedAt = performance.now();
  readonly #open = new Set<ProfiledRequest>();
  readonly #done: ProfiledRequest[] = [];
  #flushAt = Infinity;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly interval: number,
    readonly ended: () => void,
  ) {
    this.#sampler = this.#start();
  }

  #start(): Sampler {
    const previous = this.#log;
    this.#log = new ContextLog();
    this.#log.previous = previous;
    this.#startedAt = performance.now();
    return startSampler({
      interval: Math.round(this.interval * 1e6),
      asyncMode: "enabled",
      contexts: this.#log,
      startStack: false,
      deoptimize: !previous.recorder,
    });
  }

  has(request: ProfiledRequest): boolean {
    return this.#open.has(request);
  }

  begin(request: ProfiledRequest): void {
    request.from = this.#log.note(request.context);
    this.#open.add(request);
  }

  finish(request: ProfiledRequest): void {
    request.to = this.#log.note(0);
    this.#open.delete(request);
    this.#done.push(request);
    // A stop and a start cost 50-200 ms of the server's time, so the sampler stops only when a finished request
    // has waited long enough: a report asked for as soon as no profiled request is open, else REPORT_WAIT_MS
    // after; a saved one MAX_GROUP_MS after the sampler started (requests one after another share it).
    const wait = request.mode === "report"
      ? (this.#open.size === 0 ? 0 : REPORT_WAIT_MS)
      : Math.max(0, MAX_GROUP_MS - (performance.now() - this.#startedAt));
    const at = performance.now() + wait;
    if (at >= this.#flushAt) return;
    this.#flushAt = at;
    if (this.#timer !== null) clearTimeout(this.#timer);
    // At least a few ms: requests that end together (a burst) share one stop.
    // Outside any request's context: the next sampler is no request's.
    this.#timer = realSetTimeout(() => runInContext(0, () => this.#flush()), Math.max(5, wait));
  }

  /** Stops the sampler, hands every finished request its profile, and starts a new sampler for those still open. */
  #flush(): void {
    this.#flushAt = Infinity;
    this.#timer = null;
    const done = this.#done.splice(0);
    const open = [...this.#open];
    let session: Session | null = null;
    try {
      session = this.#sampler.stop({ program: "web requests" });
    } catch (err) {
      warn("could not stop the sampler of web requests", err);
    }
    const log = this.#log;
    for (const request of [...done, ...open]) {
      let part: Session | null = null;
      try {
        if (session) part = requestPart(session, log, request);
      } catch (err) {
        warn(`could not cut the profile of ${request.title}`, err);
      }
      if (part) request.parts.push(part);
    }
    for (const request of done) {
      let whole: Session | null = null;
      try {
        whole = request.parts.length ? request.parts.reduce((a, b) => combineSessions(a, b)) : null;
      } catch (err) {
        warn(`could not combine the profile of ${request.title}`, err);
      }
      if (whole) whole.meta.program = request.title;
      request.settle(whole);
    }
    if (open.length === 0) {
      this.ended();
      return;
    }
    try {
      this.#sampler = this.#start();
      const from = this.#log.note(0);
      for (const request of open) request.from = from;
    } catch (err) {
      warn("could not restart the sampler of web requests", err);
      for (const request of open) {
        this.#open.delete(request);
        request.settle(null);
      }
      this.ended();
    }
  }
}

/**
 * The request's part of a session: the samples from its start to its end (times from 0), its own waits, the
 * other contexts' samples marked out of context (runtimes/awaits/contexts.ts).
 */
export function requestPart(session: Session, log: ContextLog, request: ProfiledRequest): Session {
  const r = log.resolved;
  const toSession = (t: number, fallback: number) => (r && Number.isFinite(t) ? Math.round(r.toSession(t)) : fallback);
  const duration = session.meta.duration;
  const from = Math.min(duration, Math.max(0, toSession(request.from, 0)));
  const to = Math.max(from, Math.min(duration, toSession(request.to, duration)));
  const { time } = session.samples;
  let a = 0;
  while (a < time.length && time[a] < from) a++;
  let b = a;
  while (b < time.length && time[b] < to) b++;
  const rebase = (xs: Float64Array) => xs.slice(a, b).map((t) => t - from);
  const cpu = session.samples.cpu?.slice(a, b);
  if (cpu && cpu.length) cpu.forEach((c, i) => (cpu[i] = c - cpu[0]));
  const part: Session = {
    version: 1,
    meta: {
      ...session.meta,
      startTime: session.meta.startTime + from / 1000,
      duration: to - from,
      cpuTime: -1,
      program: request.title,
      startStack: [],
    },
    frames: session.frames,
    stacks: session.stacks,
    samples: {
      stack: session.samples.stack.slice(a, b),
      time: rebase(session.samples.time),
      state: session.samples.state.slice(a, b),
      ...(cpu ? { cpu } : {}),
    },
  };
  if (!r || !session.waits) return compact(part);
  // The waits within its span, cut to it, its own marked (separateContexts keeps only those); the switches.
  const w = session.waits;
  const within: number[] = [];
  for (let i = 0; i < w.start.length; i++) if (w.start[i] < to && w.end[i] > from) within.push(i);
  part.waits = {
    start: Float64Array.from(within, (i) => Math.max(0, w.start[i] - from)),
    end: Float64Array.from(within, (i) => Math.min(to, w.end[i]) - from),
    stack: Int32Array.from(within, (i) => w.stack[i]),
  };
  const ours = Uint8Array.from(within, (i) => (r.waitContext[i] === request.context ? 1 : 0));
  const sw = { time: [] as number[], ours: [] as number[] };
  let first = 0; // the context running at `from`
  for (let i = 0; i < r.switches.time.length; i++) {
    const t = r.switches.time[i];
    if (t <= from) first = r.switches.id[i];
    else if (t < to) {
      sw.time.push(t - from);
      sw.ours.push(r.switches.id[i] === request.context ? 1 : 0);
    }
  }
  sw.time.unshift(0);
  sw.ours.unshift(first === request.context ? 1 : 0);
  return compact(separateContexts(part, ours, sw));
}

/** The session with only the frames and stacks its samples and waits use: a request's report holds nothing of
 * the other requests' code. */
function compact(session: Session): Session {
  const { parent, frame } = session.stacks;
  const stackMap = new Int32Array(parent.length).fill(-2);
  const frameMap = new Map<number, number>();
  const frames: Session["frames"] = [];
  const newParent: number[] = [];
  const newFrame: number[] = [];
  const mapStack = (s: number): number => {
    if (s < 0) return -1;
    if (stackMap[s] !== -2) return stackMap[s];
    const p = mapStack(parent[s]);
    let f = frameMap.get(frame[s]);
    if (f === undefined) {
      f = frames.length;
      frames.push(session.frames[frame[s]]);
      frameMap.set(frame[s], f);
    }
    stackMap[s] = newParent.length;
    newParent.push(p);
    newFrame.push(f);
    return stackMap[s];
  };
  const stack = session.samples.stack.map(mapStack);
  const waits = session.waits && { ...session.waits, stack: session.waits.stack.map(mapStack) };
  return {
    ...session,
    frames,
    stacks: { parent: Int32Array.from(newParent), frame: Uint32Array.from(newFrame) },
    samples: { ...session.samples, stack },
    ...(waits ? { waits } : {}),
  };
}
