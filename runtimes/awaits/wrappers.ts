// The wrappers of the runtime's asynchronous functions that a wait tracker (runtimes/awaits/tracker.ts) installs
// while it runs and restores at its stop: each operation the program starts through one is reported as a wait.
//
// Wrapped: setTimeout (global, node:timers, timers/promises), node:fs callback functions and node:fs/promises,
// fetch, http/https request/get (ends at the response body's end or an error), net/tls connect (ends at
// 'connect'), dns.lookup, events.once, a fetch Response's body, stream/promises pipeline/finished, child_process
// exec/execFile, workers (a worker's start or a message posted to it waits for its next message), and on Deno/Bun a
// few of their own (Deno.readFile..., Bun.sleep). On Node with module.registerHooks, the builtins that are costly to
// load are wrapped when the program loads them (costlyBuiltins).
//
// Why wrappers and not async_hooks: on Node 20/22 any init hook turns on promise hooks (measured: 300k awaits
// 28 -> 66 ms); on Node 24 createHook({trackPromises: false}) is cheap per hook, but the stack capture is the
// cost (runtimes/awaits/wait-stacks.ts) and init is the wrong place for it: measured on bench/async.ts's waits case
// (20k timers, 5k fs/promises reads), init fires 35k times for them (a readFile is three FSREQPROMISE, a
// FILEHANDLE and a FILEHANDLECLOSEREQ) and hook plus capture, under Node's internals, cost ~7.7 us each,
// against ~4 us for a capture in a wrapper. Deno fires init only for Timeout/TickObject/TCPWRAP and Bun not
// usefully, so wrappers are the one route that works alike everywhere.
//
// Rules the wrappers keep: arguments, `this`, return values (the same Timeout object, the same request), thrown
// errors and properties (name, length, util.promisify.custom) pass through; the tracker's own code never
// throws into the program (every step is guarded); nested wrapped calls made by the runtime itself record
// nothing. The one visible difference: a wrapped promise (fs/promises, fetch) is a derived promise that settles
// one microtask after the runtime's (the original is observed without being marked handled differently).
import { createRequire } from "node:module";

export type Runtime = "node" | "deno" | "bun";
/** detectRuntime (runtimes/shared/runtime.ts) again: awaits/ cannot import shared/, which imports it. */
export function runtimeName(): Runtime {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  return g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";
}

/** Every function type is assignable to this: what the wrappers take and give (they call it by Reflect.apply only). */
export type AnyFunction = (...args: never[]) => unknown;

/** A builtin module's exports, read and patched by key. */
type Exports = Record<PropertyKey, unknown>;

const requireHere = createRequire(import.meta.url);
/** Node: whether the builtin module `id` (as process.moduleLoadList names it) is loaded; true where Node cannot say. */
function builtinLoaded(id: string): boolean {
  const loaded = (process as { moduleLoadList?: unknown }).moduleLoadList;
  return !Array.isArray(loaded) || loaded.includes(`NativeModule ${id}`);
}

function tryRequire(id: string): Exports | undefined {
  try {
    return requireHere(id);
  } catch {
    return undefined;
  }
}

/** What the wrappers report to: the recorder of the tracker that installed them. None of it throws. */
export interface WaitRecorder {
  /** True while a wrapped function runs: what the runtime itself calls from there records nothing. */
  inside: boolean;
  /** Starts a wait requested by the caller of `wrapper`; returns its id, or -1. */
  begin(wrapper: AnyFunction): number;
  /** A callback of wait `id` has run its own code (context switches, runtimes/awaits/contexts.ts). */
  released(id: number): void;
  /** Wait `id` has completed. */
  finish(id: number): void;
  /** A wait that did not happen (a cleared timer, a call that threw). */
  drop(id: number): void;
}

/** Only one tracker at a time wraps the functions; a second concurrent tracker records nothing. */
let active: WaitRecorder | null = null;

/** Wraps the runtime's functions for `rec`; null, wrapping nothing, while another recorder's wrappers are in. */
export function installWrappers(rec: WaitRecorder, runtime: Runtime): Wrapping | null {
  if (active !== null) return null;
  active = rec;
  const w = new Wrapping(rec);
  try {
    install(w, runtime);
  } catch {
    // Whatever was wrapped before the failure stays wrapped (restored at uninstall): fewer waits, never a throw.
  }
  return w;
}

interface Patch {
  obj: object;
  key: PropertyKey;
  desc: PropertyDescriptor;
  wrapper: unknown;
}

/** Copies name, length and every other own property (util.promisify.custom, fs.read's promisify args). */
function copyProps(from: AnyFunction, to: AnyFunction): void {
  for (const key of Reflect.ownKeys(from)) {
    if (key === "prototype" || key === "arguments" || key === "caller") continue;
    try {
      const d = Object.getOwnPropertyDescriptor(from, key);
      if (d) Object.defineProperty(to, key, d);
    } catch {
      // A property that cannot be copied is left out: the rest are still copied.
    }
  }
}

/** Emitters whose own emit is the prototype's, put back by watchEmit (a worker is watched once per wait). */
const putBack = new WeakSet<object>();

/**
 * Calls `done` at the first of `events` emitted by `emitter` (or, for `handOver`, at the first of them emitted by
 * the emitter that event carries); false when `emitter` cannot be watched. Listeners would change behaviour (an
 * 'error' listener swallows errors, a 'response' one stops Node from dumping an unread response): this watches
 * emit on the instance instead, and steps aside at the end.
 */
function watchEmit(emitter: unknown, events: string[], handOver: string | undefined, done: () => void): boolean {
  if (emitter == null) return false;
  try {
    // Any other value: a primitive has no own emit, and assigning one throws (caught below).
    const target = emitter as { emit?: unknown };
    const emit = target.emit;
    // An own emit is the program's, unless it is the one put back here after an earlier watch (a worker's).
    if (typeof emit !== "function" || (Object.hasOwn(target, "emit") && !putBack.has(target))) return false;
    const wrapped = function (this: unknown, event: unknown, carried?: unknown) {
      if (typeof event === "string" && events.includes(event)) {
        try {
          // The prototype's emit as an own property: same behaviour, and unlike delete it keeps the object's
          // fast shape.
          if (target.emit === wrapped) {
            target.emit = emit;
            putBack.add(target);
          }
        } catch {
          // An emitter refusing the write keeps our wrapper: the wait has ended all the same.
        }
        if (event !== handOver || !watchEmit(carried, events, undefined, done)) done();
      }
      return Reflect.apply(emit, this, arguments);
    };
    target.emit = wrapped;
    return true;
  } catch {
    return false;
  }
}

export class Wrapping {
  readonly patches: Patch[] = [];
  /** One wrapper per original function (net.connect === net.createConnection, setTimeout in two places). */
  private readonly wrappers = new Map<AnyFunction, AnyFunction>();
  constructor(readonly rec: WaitRecorder) {}

  patch(obj: unknown, key: PropertyKey, make: (orig: AnyFunction) => AnyFunction): void {
    try {
      if (obj == null) return;
      const desc = Object.getOwnPropertyDescriptor(obj, key);
      if (!desc || !desc.configurable) return;
      const value: unknown = "value" in desc ? desc.value : desc.get?.call(obj);
      if (typeof value !== "function") return;
      const orig = value as AnyFunction;
      let wrapper = this.wrappers.get(orig);
      if (!wrapper) {
        wrapper = make(orig);
        copyProps(orig, wrapper);
        this.wrappers.set(orig, wrapper);
      }
      if ("value" in desc && !desc.writable) return;
      const enumerable = desc.enumerable;
      Object.defineProperty(obj, key, { value: wrapper, writable: true, configurable: true, enumerable });
      this.patches.push({ obj, key, desc, wrapper });
    } catch {
      // A property that cannot be wrapped (an exotic object, a throwing getter) stays the runtime's: no waits from it.
    }
  }

  restore(): void {
    for (const p of this.patches.reverse()) {
      try {
        // Replaced again by the program since: theirs stays (our wrapper, inside it, records nothing now).
        if ((p.obj as Exports)[p.key] === p.wrapper) Object.defineProperty(p.obj, p.key, p.desc);
      } catch {
        // Made non-configurable (or frozen) by the program since: our wrapper stays, recording nothing once inactive.
      }
    }
    this.patches.length = 0;
  }

  /** Run at uninstall (the load hook of wrapWhenLoaded). */
  readonly cleanups: (() => void)[] = [];

  /** Restores what install() wrapped and lets another recorder's wrappers in. */
  uninstall(runtime: Runtime): void {
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch {
        // a hook Node would not take back: it wraps nothing once this recorder is inactive
      }
    }
    this.restore();
    syncESM(runtime);
    if (active === this.rec) active = null;
  }

  /** A function whose last argument is a callback; the wait ends when it is called. */
  callback = (orig: AnyFunction): AnyFunction => {
    const rec = this.rec;
    return function wrapper(this: unknown) {
      const n = arguments.length;
      const cb = n > 0 ? arguments[n - 1] : undefined;
      if (active !== rec || rec.inside || typeof cb !== "function") return Reflect.apply(orig, this, arguments);
      const id = rec.begin(wrapper);
      const args = Array.prototype.slice.call(arguments);
      args[n - 1] = function (this: unknown) {
        rec.finish(id);
        rec.released(id);
        return Reflect.apply(cb, this, arguments);
      };
      rec.inside = true;
      try {
        return Reflect.apply(orig, this, args);
      } catch (err) {
        rec.drop(id);
        throw err;
      } finally {
        rec.inside = false;
      }
    };
  };

  /** A function returning a promise; the wait ends when it settles. */
  promise = (orig: AnyFunction): AnyFunction => {
    const rec = this.rec;
    return function wrapper(this: unknown) {
      if (active !== rec || rec.inside) return Reflect.apply(orig, this, arguments);
      const id = rec.begin(wrapper);
      let p: unknown;
      rec.inside = true;
      try {
        p = Reflect.apply(orig, this, arguments);
      } catch (err) {
        rec.drop(id);
        throw err;
      } finally {
        rec.inside = false;
      }
      if (p === null || (typeof p !== "object" && typeof p !== "function") || !(p instanceof Promise)) {
        rec.drop(id);
        return p;
      }
      // A derived promise, so the original's rejection is not marked handled on the program's behalf: an
      // unhandled rejection stays unhandled (on ours, with the same reason).
      return p.then(
        (v: unknown) => {
          rec.finish(id);
          return v;
        },
        (e: unknown) => {
          rec.finish(id);
          throw e;
        },
      );
    };
  };

  /**
   * A function returning an emitter (http request, socket); the wait ends at the first of `events`, or, where
   * that event is `handOver`, at the first of `events` on the emitter it carries (an http response: its body's end).
   */
  emitter = (events: string[], handOver?: string) => (orig: AnyFunction): AnyFunction => {
    const rec = this.rec;
    return function wrapper(this: unknown) {
      if (active !== rec || rec.inside) return Reflect.apply(orig, this, arguments);
      const id = rec.begin(wrapper);
      let out: unknown;
      rec.inside = true;
      try {
        out = Reflect.apply(orig, this, arguments);
      } catch (err) {
        rec.drop(id);
        throw err;
      } finally {
        rec.inside = false;
      }
      if (!watchEmit(out, events, handOver, () => rec.finish(id))) rec.drop(id);
      return out;
    };
  };

  /**
   * A worker as a task: from its start, and from a message posted to it, the code that started or posted waits for
   * its next message (or error, or its end). One wait per worker at a time: messages posted while one is pending
   * wait for the same reply. `watch` calls its callback at the first such event.
   */
  worker(watch: (worker: object, done: () => void) => boolean): {
    construct: (ctor: AnyFunction) => AnyFunction;
    post: (orig: AnyFunction) => AnyFunction;
    end: (orig: AnyFunction) => AnyFunction;
    unref: (orig: AnyFunction) => AnyFunction;
  } {
    const rec = this.rec;
    const pending = new WeakMap<object, number>(); // worker -> its pending wait
    const wait = (worker: unknown, wrapper: AnyFunction): void => {
      if (worker === null || typeof worker !== "object" || pending.has(worker)) return;
      // Node's own (the module loader's hooks thread) answer by other means than events.
      if ((worker as { constructor?: { name?: unknown } }).constructor?.name === "InternalWorker") return;
      const id = rec.begin(wrapper);
      if (id < 0) return;
      pending.set(worker, id);
      const done = () => {
        if (pending.get(worker) !== id) return;
        pending.delete(worker);
        rec.finish(id);
        rec.released(id);
      };
      if (!watch(worker, done)) {
        pending.delete(worker);
        rec.drop(id);
      }
    };
    const settle = (orig: AnyFunction, how: (id: number) => void): AnyFunction =>
      function (this: unknown) {
        const id = this !== null && typeof this === "object" ? pending.get(this) : undefined;
        if (id !== undefined) {
          pending.delete(this as object);
          how(id);
        }
        return Reflect.apply(orig, this, arguments);
      };
    return {
      // A Proxy keeps `new`, instanceof, statics and subclasses (`extends Worker`) as they are.
      construct: (ctor) =>
        new Proxy(ctor, {
          construct(target, args, newTarget) {
            if (active !== rec || rec.inside) return Reflect.construct(target as never, args, newTarget);
            let worker: object;
            rec.inside = true; // Bun's node:worker_threads Worker makes a Web Worker: one wait, not two
            try {
              worker = Reflect.construct(target as never, args, newTarget);
            } finally {
              rec.inside = false;
            }
            wait(worker, this.construct as AnyFunction);
            return worker;
          },
        }),
      post: (orig) =>
        function wrapper(this: unknown) {
          const out = Reflect.apply(orig, this, arguments);
          if (active === rec && !rec.inside) wait(this, wrapper);
          return out;
        },
      // terminate(): no reply will come, the wait ends.
      end: (orig) => settle(orig, (id) => rec.finish(id)),
      // unref(): the program does not wait for this worker (a logger's, say): its pending wait was none.
      unref: (orig) => settle(orig, (id) => rec.drop(id)),
    };
  }

  /** setTimeout: the same Timeout (or id) comes back; the wait ends when the callback runs. */
  timer = (orig: AnyFunction): AnyFunction => {
    const rec = this.rec;
    const timers = this.timers;
    return function wrapper(this: unknown, cb: unknown) {
      if (active !== rec || rec.inside || typeof cb !== "function") return Reflect.apply(orig, this, arguments);
      const id = rec.begin(wrapper);
      const args = Array.prototype.slice.call(arguments);
      args[0] = function (this: unknown) {
        rec.finish(id);
        rec.released(id);
        timers.fired(id);
        return Reflect.apply(cb, this, arguments);
      };
      let handle: unknown;
      rec.inside = true;
      try {
        handle = Reflect.apply(orig, this, args);
      } catch (err) {
        rec.drop(id);
        throw err;
      } finally {
        rec.inside = false;
      }
      timers.add(handle, id);
      return handle;
    };
  };

  readonly timers = new PendingTimers();

  /** clearTimeout: a cleared timer was not waited for. */
  clear = (orig: AnyFunction): AnyFunction => {
    const rec = this.rec;
    const timers = this.timers;
    return function (this: unknown, handle: unknown) {
      if (active === rec && handle != null) {
        try {
          const id = timers.take(handle);
          if (id >= 0) rec.drop(id);
        } catch {
          // Converting the handle threw (the program's toPrimitive): the wait stays, the clear still happens.
        }
      }
      return Reflect.apply(orig, this, arguments);
    };
  };
}

/**
 * Timers started and not yet run, by handle (for clearTimeout) and by wait id (for stop's unref check). Object
 * handles go in a WeakMap and ids index an array: a Map holding Node's Timeout objects cost ~1 us a timer in GC
 * (bench/async.ts's waits), the WeakMap and array a tenth of that.
 */
class PendingTimers {
  private readonly byObject = new WeakMap<object, number>();
  private readonly byNumber = new Map<unknown, number>();
  /** Wait id -> handle while pending, 0 otherwise (dense: every wait id gets a slot). */
  readonly handles: unknown[] = [];

  add(handle: unknown, id: number): void {
    if (id < 0) return;
    if (typeof handle === "object" && handle !== null) this.byObject.set(handle, id);
    else this.byNumber.set(handle, id);
    while (this.handles.length < id) this.handles.push(0);
    this.handles[id] = handle;
  }

  fired(id: number): void {
    if (id >= 0 && id < this.handles.length) this.handles[id] = 0;
  }

  /** The pending wait of a handle being cleared (forgotten), or -1. */
  take(handle: unknown): number {
    let id = typeof handle === "object" && handle !== null ? this.byObject.get(handle) : this.byNumber.get(handle);
    if (id === undefined && (typeof handle === "number" || typeof handle === "string")) {
      // Node and Bun timers cleared by their number: find it among the pending objects (converting one calls
      // its Symbol.toPrimitive, which Node makes register the timer: only when the program clears by number).
      for (let i = 0; i < this.handles.length; i++) {
        const h = this.handles[i];
        if (typeof h === "object" && h !== null && Symbol.toPrimitive in h && String(+h) === String(handle)) {
          id = i;
          break;
        }
      }
    }
    if (id === undefined || id >= this.handles.length || this.handles[id] === 0) return -1;
    this.handles[id] = 0;
    return id;
  }
}

const FS_CALLBACK = [
  "access",
  "appendFile",
  "chmod",
  "chown",
  "close",
  "copyFile",
  "cp",
  "fchmod",
  "fchown",
  "fdatasync",
  "fstat",
  "fsync",
  "ftruncate",
  "futimes",
  "lchown",
  "link",
  "lstat",
  "lutimes",
  "mkdir",
  "mkdtemp",
  "open",
  "opendir",
  "read",
  "readdir",
  "readFile",
  "readlink",
  "readv",
  "realpath",
  "rename",
  "rm",
  "rmdir",
  "stat",
  "statfs",
  "symlink",
  "truncate",
  "unlink",
  "utimes",
  "write",
  "writeFile",
  "writev",
];
const FS_PROMISES = [
  "access",
  "appendFile",
  "chmod",
  "chown",
  "copyFile",
  "cp",
  "lchown",
  "link",
  "lstat",
  "lutimes",
  "mkdir",
  "mkdtemp",
  "open",
  "opendir",
  "readdir",
  "readFile",
  "readlink",
  "realpath",
  "rename",
  "rm",
  "rmdir",
  "stat",
  "statfs",
  "symlink",
  "truncate",
  "unlink",
  "utimes",
  "writeFile",
];
const DENO_PROMISES = [
  "readFile",
  "readTextFile",
  "writeFile",
  "writeTextFile",
  "stat",
  "lstat",
  "open",
  "remove",
  "mkdir",
  "rename",
  "copyFile",
  "realPath",
  "readLink",
  "connect",
  "connectTls",
  "resolveDns",
];

/** Node's worker_threads Worker (its events are emitted) and the Web Worker (Deno, Bun: its events are dispatched). */
function wrapWorkers(w: Wrapping, g: { Worker?: unknown }): void {
  const threads = tryRequire("node:worker_threads");
  const nodeWorker = threads?.Worker;
  const nodeProto = typeof nodeWorker === "function" ? (nodeWorker as { prototype?: object }).prototype : undefined;
  if (nodeProto) {
    const node = w.worker((worker, done) =>
      watchEmit(worker, ["message", "messageerror", "error", "exit"], undefined, done)
    );
    w.patch(nodeProto, "postMessage", node.post);
    w.patch(nodeProto, "terminate", node.end);
    w.patch(nodeProto, "unref", node.unref);
    w.patch(threads, "Worker", node.construct);
  }
  const web = g.Worker;
  const webProto = typeof web === "function" && web !== nodeWorker
    ? (web as { prototype?: object }).prototype
    : undefined;
  if (webProto) {
    const events = ["message", "messageerror", "error"];
    const dispatched = w.worker((worker, done) => {
      const target = worker as EventTarget;
      if (typeof target.addEventListener !== "function") return false;
      // Listening changes nothing of a Web Worker's behaviour (its messages arrive either way; an error listener
      // that does not preventDefault leaves the error as it was).
      const once = () => {
        for (const type of events) target.removeEventListener(type, once);
        done();
      };
      for (const type of events) target.addEventListener(type, once);
      return true;
    });
    w.patch(webProto, "postMessage", dispatched.post);
    w.patch(webProto, "terminate", dispatched.end);
    w.patch(webProto, "unref", dispatched.unref);
    w.patch(g, "Worker", dispatched.construct);
  }
}

/**
 * The builtins that cost a program's start-up to load (Node 24: ~11 ms for these; https brings tls and crypto),
 * each with what wraps it.
 */
function costlyBuiltins(w: Wrapping): Map<string, (m: Exports | undefined) => void> {
  // A request's wait ends with its response's body ('end'), or an error or close on either.
  const response = w.emitter(["response", "end", "error", "close", "abort", "aborted"], "response");
  const connected = w.emitter(["connect", "secureConnect", "error", "close"]);
  const request = (m: Exports | undefined) => {
    w.patch(m, "request", response);
    w.patch(m, "get", response);
  };
  // A command run to its end (exec, execFile: the wait ends at the callback, with its output); promisify(exec)
  // goes through exec[util.promisify.custom], which calls the unwrapped exec: that promise is the wait there.
  // spawn and fork are left alone: their children often outlive the awaits (servers, workers), and a wait pending
  // for the whole run would take every idle moment.
  const custom = Symbol.for("nodejs.util.promisify.custom");
  const command = (orig: AnyFunction): AnyFunction => {
    const wrapper = w.callback(orig);
    const promisified = (orig as { [custom]?: unknown })[custom];
    if (typeof promisified === "function") {
      Object.defineProperty(wrapper, custom, { value: w.promise(promisified as AnyFunction) }); // copyProps keeps it
    }
    return wrapper;
  };
  return new Map<string, (m: Exports | undefined) => void>([
    ["node:http", request],
    ["node:https", request],
    ["node:net", (net) => {
      w.patch(net, "connect", connected);
      w.patch(net, "createConnection", connected);
    }],
    ["node:tls", (tls) => w.patch(tls, "connect", connected)],
    ["node:dns", (dns) => {
      w.patch(dns, "lookup", w.callback);
      w.patch(dns?.promises, "lookup", w.promise);
    }],
    // A stream to its end.
    ["node:stream/promises", (streams) => {
      w.patch(streams, "pipeline", w.promise);
      w.patch(streams, "finished", w.promise);
    }],
    ["node:child_process", (childProcess) => {
      w.patch(childProcess, "exec", command);
      w.patch(childProcess, "execFile", command);
    }],
  ]);
}

/**
 * Node with module.registerHooks (>= 22.15): each of `lazy` is wrapped now if loaded already, else as the program
 * (require or import) first loads it, so a program that never uses http does not pay for loading it. False
 * (nothing done) where Node cannot say.
 */
function wrapWhenLoaded(w: Wrapping, lazy: Map<string, (m: Exports | undefined) => void>): boolean {
  type Next = (url: string, context: unknown) => unknown;
  const registerHooks = (tryRequire("node:module") as {
    registerHooks?: (hooks: { load: (url: string, context: unknown, next: Next) => unknown }) => {
      deregister?: () => void;
    };
  } | undefined)?.registerHooks;
  if (typeof registerHooks !== "function" || !Array.isArray((process as { moduleLoadList?: unknown }).moduleLoadList)) {
    return false;
  }
  for (const [id, wrap] of lazy) {
    if (!builtinLoaded(id.slice("node:".length))) continue;
    lazy.delete(id);
    wrap(tryRequire(id));
  }
  if (lazy.size === 0) return true;
  try {
    const hooks = registerHooks({
      load(url, context, next) {
        const result = next(url, context);
        const wrap = lazy.get(url);
        if (wrap && active === w.rec) {
          lazy.delete(url); // first, so the require below (which comes through here again) does nothing
          wrap(tryRequire(url));
          syncESM("node");
        }
        return result;
      },
    });
    w.cleanups.push(() => hooks.deregister?.());
    return true;
  } catch {
    return false;
  }
}

/** Node: ES module named imports of builtins (import { readFile } from "node:fs") follow the CJS exports. */
function syncESM(runtime: Runtime): void {
  if (runtime !== "node") return;
  try {
    (tryRequire("node:module") as { syncBuiltinESMExports?: () => void })?.syncBuiltinESMExports?.();
  } catch {
    // Named imports then keep the runtime's functions: those calls record no waits.
  }
}

function install(w: Wrapping, runtime: Runtime): void {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  // timers/promises first: Node's setTimeout[util.promisify.custom] is a getter that reads this export, so the
  // promisified setTimeout is tracked too.
  const timersPromises = tryRequire("node:timers/promises");
  w.patch(timersPromises, "setTimeout", w.promise);
  const timers = tryRequire("node:timers");
  w.patch(g, "setTimeout", w.timer);
  w.patch(timers, "setTimeout", w.timer);
  w.patch(g, "clearTimeout", w.clear);
  w.patch(timers, "clearTimeout", w.clear);
  // A fetch Response's body. On Node, not before the program first calls fetch (or now, when undici is loaded
  // already): Response is a global that loads undici on first use, and on Node 24 even reading its descriptor does
  // (24-34 ms and 15 modules here, which were tsprofile's start-up inside the profile). A Response the program
  // builds itself without fetch is not wrapped there: its body is no wait on anything outside the program.
  let responseWrapped = false;
  const wrapResponse = (): void => {
    if (responseWrapped) return;
    responseWrapped = true;
    const response = (g as { Response?: { prototype?: object } }).Response?.prototype;
    for (const k of ["arrayBuffer", "blob", "bytes", "formData", "json", "text"]) w.patch(response, k, w.promise);
  };
  if (runtime !== "node" || builtinLoaded("internal/deps/undici/undici")) wrapResponse();
  w.patch(g, "fetch", (orig) => {
    const wrapped = w.promise(orig);
    if (responseWrapped) return wrapped;
    return function fetch(this: unknown) {
      wrapResponse();
      return Reflect.apply(wrapped, this, arguments);
    };
  });

  const fs = tryRequire("node:fs");
  for (const k of FS_CALLBACK) w.patch(fs, k, w.callback);
  const fsp = tryRequire("node:fs/promises");
  for (const k of FS_PROMISES) w.patch(fsp, k, w.promise);
  if (fs?.promises && fs.promises !== fsp) { for (const k of FS_PROMISES) w.patch(fs.promises, k, w.promise); }

  // Awaiting an event (a worker's reply, a socket's data, a child's exit). Not events.on nor a stream's or a
  // readline's async iteration: each of their next() calls would be a wait with a stack captured, most of them
  // answered at once from a buffer (readline over 300k lines: 97 ms -> 2.3 s).
  w.patch(tryRequire("node:events"), "once", w.promise);

  const lazy = costlyBuiltins(w);
  if (runtime !== "node" || !wrapWhenLoaded(w, lazy)) { for (const [id, wrap] of lazy) wrap(tryRequire(id)); }

  wrapWorkers(w, g as { Worker?: unknown });

  if (runtime === "deno") { for (const k of DENO_PROMISES) w.patch(g.Deno, k, w.promise); }
  if (runtime === "bun") w.patch(g.Bun, "sleep", w.promise);
  syncESM(runtime);
}
