// The only TypeScript that touches the core's ABI (core-rs/src/ffi.rs). Everything else uses CoreSession or
// processSession. The module is loaded synchronously once and cached; it has no imports.
//
// ABI: tsp_alloc/tsp_free(ptr, bytes) for input buffers; tsp_new() -> handle; tsp_add_stacks,
// tsp_add_samples (its cpu pointer 0 when the chunk has no CPU column), tsp_add_waits, tsp_process return 0 or 1
// (then tsp_error_ptr/len hold a UTF-8 message); tsp_result_ptr/len(handle, field) address the result's typed
// arrays, copied out before the next call (field 15, cpuTime, is empty when CPU time is unknown);
// tsp_diff(base, next, ...) aligns two sessions' last results, read as fields 32.. of `next` (DIFF_FIELDS);
// tsp_entries (tsp_process's arguments; timeline, filterThreshold and flatTime play no part) gives fields 64..
import { readFileSync } from "node:fs";
import type {
  AsyncMode,
  CoreDiffOptions,
  CoreProcessOptions,
  DiffTree,
  ProcessedTree,
  Session,
  SessionEntries,
} from "../session/types.ts";

interface CoreExports {
  memory: WebAssembly.Memory;
  tsp_alloc(bytes: number): number;
  tsp_free(ptr: number, bytes: number): void;
  tsp_error_ptr(): number;
  tsp_error_len(): number;
  tsp_new(): number;
  tsp_drop(handle: number): void;
  tsp_add_stacks(handle: number, parent: number, frame: number, n: number): number;
  tsp_add_samples(handle: number, stack: number, time: number, state: number, cpu: number, n: number): number;
  tsp_add_waits(handle: number, start: number, end: number, stack: number, n: number): number;
  tsp_process(
    handle: number,
    duration: number,
    gapCap: number,
    idleSampled: number,
    interval: number,
    asyncMode: number,
    timeline: number,
    showAll: number,
    filterThreshold: number,
    flatTotal: number,
    start: number,
    startLen: number,
    flags: number,
    flagsLen: number,
    library: number,
    libraryLen: number,
  ): number;
  tsp_entries: CoreExports["tsp_process"];
  tsp_diff(
    base: number,
    next: number,
    showAll: number,
    filterThreshold: number,
    flatTotal: number,
    normalize: number,
    flags: number,
    flagsLen: number,
    library: number,
    libraryLen: number,
  ): number;
  tsp_result_ptr(handle: number, field: number): number;
  tsp_result_len(handle: number, field: number): number;
}

export interface CoreSession {
  /** Appends stacks; ids continue from earlier calls. */
  addStacks(parent: Int32Array, frame: Uint32Array): void;
  /**
   * Appends samples in time order, continuing earlier calls, with their CPU column (SampleTable.cpu) when the
   * sampler recorded one. CPU time is known when every call with samples brought it (core-rs/SPEC.md, CPU time).
   */
  addSamples(stack: Int32Array, time: Float64Array, state: Uint8Array, cpu?: Float64Array): void;
  /**
   * Appends waits (core-rs/SPEC.md, await attribution) in order of start, continuing earlier calls. A stack id
   * may name a stack added later; it must exist when the session is processed.
   */
  addWaits(start: Float64Array, end: Float64Array, stack: Int32Array): void;
  process(options: CoreProcessOptions): ProcessedTree;
  /** The entries in time order (core-rs/SPEC.md, entries); timeline, filterThreshold and flatTime play no part. */
  entries(options: CoreProcessOptions): SessionEntries;
  /**
   * This session's last processed tree (NEW) aligned with `base`'s (core-rs/SPEC.md, diff): both processed in
   * aggregated mode with filterThreshold 0, over one frame table (the frameFlags given here).
   */
  diff(base: CoreSession, options: CoreDiffOptions & Pick<CoreProcessOptions, "frameFlags" | "frameLibrary">): DiffTree;
  /** Frees the session's memory in the module; the session is unusable afterwards. */
  dispose(): void;
}

let core: CoreExports | null = null;
/** A CoreSession's live handle, for a call that takes two sessions (diff). */
const HANDLE = Symbol("handle");

function wasmBytes(): Uint8Array<ArrayBuffer> {
  // Source tree: wasm/core.wasm next to this file. Bundle: dist/core.wasm next to the bundle (bundle.mjs
  // copies it), which is the same URL; the others cover a bundle run from elsewhere in the package.
  const candidates = ["./core.wasm", "../wasm/core.wasm", "./wasm/core.wasm"];
  let firstError: unknown;
  for (const rel of candidates) {
    try {
      return readFileSync(new URL(rel, import.meta.url)) as Uint8Array<ArrayBuffer>; // a file read is never shared memory
    } catch (e) {
      firstError ??= e;
    }
  }
  throw new Error(
    `tsprofile core: cannot read core.wasm next to ${import.meta.url} (${
      String((firstError as Error)?.message ?? firstError)
    })`,
  );
}

function load(): CoreExports {
  if (core === null) {
    const module = new WebAssembly.Module(wasmBytes());
    core = new WebAssembly.Instance(module, {}).exports as unknown as CoreExports;
  }
  return core;
}

const decoder = new TextDecoder();

function fail(c: CoreExports): never {
  const bytes = new Uint8Array(c.memory.buffer, c.tsp_error_ptr() >>> 0, c.tsp_error_len() >>> 0);
  throw new Error(`tsprofile core: ${decoder.decode(bytes)}`);
}

type Typed = Int32Array | Uint32Array | Float64Array | Uint8Array;
type TypedCtor = { new (buffer: ArrayBufferLike, offset: number, length: number): Typed; BYTES_PER_ELEMENT: number };

/** Copies `src` into fresh module memory as `Ctor` elements (converting plain arrays); returns [ptr, bytes]. */
function put(c: CoreExports, Ctor: TypedCtor, src: ArrayLike<number>): [number, number] {
  const bytes = src.length * Ctor.BYTES_PER_ELEMENT;
  const ptr = c.tsp_alloc(bytes) >>> 0; // wasm i32 pointers are unsigned: memory may pass 2 GiB
  if (ptr === 0) throw new Error("tsprofile core: out of memory");
  // A view made after the allocation: growing memory detaches older views.
  new Ctor(c.memory.buffer, ptr, src.length).set(src as ArrayLike<number> & Typed);
  return [ptr, bytes];
}

function withBuffers<T>(c: CoreExports, bufs: Array<[TypedCtor, ArrayLike<number>]>, f: (ptrs: number[]) => T): T {
  const held: Array<[number, number]> = [];
  try {
    for (const [Ctor, src] of bufs) held.push(put(c, Ctor, src));
    return f(held.map(([p]) => p));
  } finally {
    for (const [p, n] of held) c.tsp_free(p, n);
  }
}

/** tsp_process (or tsp_entries, which takes the same) on session `h` with options `o`: its return code. */
function callWithOptions(c: CoreExports, call: CoreExports["tsp_process"], h: number, o: CoreProcessOptions): number {
  const asyncMode = o.asyncMode ?? "enabled";
  if (!Object.hasOwn(ASYNC_MODES, asyncMode)) throw new Error(`tsprofile core: asyncMode is ${String(asyncMode)}`);
  return withBuffers(
    c,
    [[Float64Array, o.startStack], [Uint8Array, o.frameFlags], [Uint32Array, o.frameLibrary]],
    ([s, fl, lib]) =>
      call(
        h,
        Number(o.duration),
        Number(o.gapCap),
        o.idleSampled ? (o.runningGapToPrevious ? 2 : 1) : 0,
        o.interval === undefined ? 0 : Number(o.interval),
        ASYNC_MODES[asyncMode],
        o.timeline ? 1 : 0,
        o.showAll ? 1 : 0,
        Number(o.filterThreshold),
        o.flatTime === "total" ? 1 : 0,
        s,
        o.startStack.length,
        fl,
        o.frameFlags.length,
        lib,
        o.frameLibrary.length,
      ),
  );
}

function checkLengths(what: string, ...lengths: number[]): void {
  if (lengths.some((n) => n !== lengths[0])) {
    throw new Error(`tsprofile core: ${what} columns differ in length (${lengths.join(", ")})`);
  }
}

/** asyncMode as tsp_process takes it. */
const ASYNC_MODES: Record<AsyncMode, number> = { disabled: 0, enabled: 1, strict: 2 };

// ProcessedTree fields in ffi.rs order (tsp_result_ptr's field index).
const FIELDS: Array<[keyof ProcessedTree, TypedCtor]> = [
  ["frame", Uint32Array],
  ["parent", Int32Array],
  ["depth", Uint32Array],
  ["time", Float64Array],
  ["selfTime", Float64Array],
  ["awaitTime", Float64Array],
  ["group", Int32Array],
  ["flags", Uint8Array],
  ["groupRoot", Uint32Array],
  ["groupHidden", Uint32Array],
  ["groupLibOffsets", Uint32Array],
  ["groupLibs", Uint32Array],
  ["flatFrame", Uint32Array],
  ["flatSelf", Float64Array],
  ["flatTotal", Float64Array],
];
/** ProcessedTree.cpuTime's field index: empty when CPU time is unknown (the root always exists otherwise). */
const CPU_FIELD = 15;
/** DiffTree fields in ffi.rs order, from field index 32. */
const DIFF_FIELDS: Array<[keyof DiffTree, TypedCtor]> = [
  ...FIELDS,
  ["baseTime", Float64Array],
  ["baseSelfTime", Float64Array],
  ["baseAwaitTime", Float64Array],
  ["side", Uint8Array],
  ["flatBaseSelf", Float64Array],
  ["flatBaseTotal", Float64Array],
] as Array<[keyof DiffTree, TypedCtor]>;
const DIFF_FIELD_BASE = 32;
/** SessionEntries fields in ffi.rs order, from field index 64. */
const ENTRY_FIELDS: Array<[keyof SessionEntries, TypedCtor]> = [
  ["pathParent", Uint32Array],
  ["pathFrame", Uint32Array],
  ["entryPath", Uint32Array],
  ["entryWeight", Float64Array],
];
const ENTRY_FIELD_BASE = 64;

/** Copies result fields out of module memory (views die when memory grows). */
function readFields(
  c: CoreExports,
  h: number,
  fields: Array<[string, TypedCtor]>,
  from: number,
): Record<string, Typed> {
  const out: Record<string, Typed> = {};
  fields.forEach(([name, Ctor], i) => {
    const len = c.tsp_result_len(h, from + i) >>> 0;
    out[name] = len === 0
      ? new Ctor(new ArrayBuffer(0), 0, 0)
      : new Ctor(c.memory.buffer, c.tsp_result_ptr(h, from + i) >>> 0, len).slice();
  });
  return out;
}

/**
 * Runs a call into the module. Validation makes traps unreachable except for running out of memory
 * (4 GiB); a trapped instance may be left inconsistent, so it is dropped and the next session gets a new one.
 */
function guarded<T>(c: CoreExports, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) {
      if (core === c) core = null;
      throw new Error(`tsprofile core: out of memory (${err.message}); try a larger --interval or without --timeline`);
    }
    throw err;
  }
}

export function createCoreSession(): CoreSession {
  const c = load();
  let handle = c.tsp_new();
  const live = (): number => {
    if (handle === 0) throw new Error("tsprofile core: session used after dispose()");
    if (core !== c) throw new Error("tsprofile core: session lost after the core ran out of memory");
    return handle;
  };
  const session: CoreSession = {
    addStacks(parent, frame) {
      const h = live();
      checkLengths("stack table", parent.length, frame.length);
      const n = parent.length;
      const rc = withBuffers(c, [[Int32Array, parent], [Uint32Array, frame]], ([p, f]) => c.tsp_add_stacks(h, p, f, n));
      if (rc !== 0) fail(c);
    },
    addSamples(stack, time, state, cpu) {
      const h = live();
      checkLengths("sample table", stack.length, time.length, state.length, ...(cpu ? [cpu.length] : []));
      const n = stack.length;
      const bufs: Array<[TypedCtor, ArrayLike<number>]> = [[Int32Array, stack], [Float64Array, time], [
        Uint8Array,
        state,
      ]];
      if (cpu) bufs.push([Float64Array, cpu]);
      const rc = withBuffers(c, bufs, ([s, t, st, cp]) => c.tsp_add_samples(h, s, t, st, cp ?? 0, n));
      if (rc !== 0) fail(c);
    },
    addWaits(start, end, stack) {
      const h = live();
      checkLengths("wait table", start.length, end.length, stack.length);
      const n = start.length;
      const rc = withBuffers(
        c,
        [[Float64Array, start], [Float64Array, end], [Int32Array, stack]],
        ([a, b, s]) => c.tsp_add_waits(h, a, b, s, n),
      );
      if (rc !== 0) fail(c);
    },
    process(o) {
      const h = live();
      if (o.flatTime !== "self" && o.flatTime !== "total") {
        throw new Error(`tsprofile core: flatTime is ${String(o.flatTime)}`);
      }
      const rc = callWithOptions(c, c.tsp_process, h, o);
      if (rc !== 0) fail(c);
      const out = readFields(c, h, FIELDS, 0);
      const cpuLen = c.tsp_result_len(h, CPU_FIELD) >>> 0;
      if (cpuLen > 0) {
        out.cpuTime = new Float64Array(c.memory.buffer, c.tsp_result_ptr(h, CPU_FIELD) >>> 0, cpuLen).slice();
      }
      return out as unknown as ProcessedTree;
    },
    entries(o) {
      const h = live();
      const rc = callWithOptions(c, c.tsp_entries, h, o);
      if (rc !== 0) fail(c);
      return readFields(c, h, ENTRY_FIELDS, ENTRY_FIELD_BASE) as unknown as SessionEntries;
    },
    diff(base, o) {
      const h = live();
      const b = (base as CoreSession & { [HANDLE]: () => number })[HANDLE]();
      const rc = withBuffers(
        c,
        [[Uint8Array, o.frameFlags], [Uint32Array, o.frameLibrary]],
        ([fl, lib]) =>
          c.tsp_diff(
            b,
            h,
            o.showAll ? 1 : 0,
            Number(o.filterThreshold),
            o.flatTime === "total" ? 1 : 0,
            o.normalize ? 1 : 0,
            fl,
            o.frameFlags.length,
            lib,
            o.frameLibrary.length,
          ),
      );
      if (rc !== 0) fail(c);
      return readFields(c, h, DIFF_FIELDS, DIFF_FIELD_BASE) as unknown as DiffTree;
    },
    dispose() {
      if (handle !== 0 && core === c) c.tsp_drop(handle);
      handle = 0;
    },
  };
  Object.defineProperty(session, HANDLE, { value: live });
  // Every call that enters the module goes through guarded().
  for (const key of ["addStacks", "addSamples", "addWaits", "process", "entries", "diff"] as const) {
    const call = session[key] as (...args: unknown[]) => unknown;
    (session as unknown as Record<string, unknown>)[key] = (...args: unknown[]) => guarded(c, () => call(...args));
  }
  return session;
}

/** The module's linear memory (for benchmarks measuring what the core retains). */
export function wasmMemory(): WebAssembly.Memory {
  return load().memory;
}

type SessionProcessOptions = Omit<
  CoreProcessOptions,
  "duration" | "gapCap" | "idleSampled" | "runningGapToPrevious" | "startStack"
>;

/** A core session holding the whole of `session`, and the options that process it. */
function loaded(session: Session, options: SessionProcessOptions): [CoreSession, CoreProcessOptions] {
  const core = createCoreSession();
  try {
    core.addStacks(session.stacks.parent, session.stacks.frame);
    core.addSamples(session.samples.stack, session.samples.time, session.samples.state, session.samples.cpu);
    if (session.waits) core.addWaits(session.waits.start, session.waits.end, session.waits.stack);
  } catch (err) {
    core.dispose();
    throw err;
  }
  return [core, {
    ...options,
    asyncMode: options.asyncMode ?? "enabled",
    duration: session.meta.duration,
    gapCap: session.meta.gapCap,
    // Older sessions (and hand-made ones in tests) may lack it: false, today's gap rule.
    idleSampled: session.meta.idleSampled === true,
    runningGapToPrevious: session.meta.runningGap === "previous",
    interval: options.interval ?? session.meta.interval,
    startStack: session.meta.startStack,
  }];
}

/**
 * Processes a whole Session in one go: duration, gapCap, idleSampled, startStack and (unless options.interval is
 * given) interval come from its meta, the waits and the CPU column (when the session has them) from session.waits and
 * session.samples.cpu; options.asyncMode defaults to "enabled".
 */
export function processSession(session: Session, options: SessionProcessOptions): ProcessedTree {
  const [core, o] = loaded(session, options);
  try {
    return core.process(o);
  } finally {
    core.dispose();
  }
}

/** A whole Session's entries in time order (core-rs/SPEC.md, entries), its meta taken as processSession does. */
export function sessionEntries(
  session: Session,
  options: Pick<SessionProcessOptions, "showAll" | "asyncMode" | "frameFlags" | "frameLibrary" | "interval">,
): SessionEntries {
  const whole = { timeline: true, filterThreshold: 0, flatTime: "self" as const, ...options };
  const [core, o] = loaded(session, whole);
  try {
    return core.entries(o);
  } finally {
    core.dispose();
  }
}

/**
 * Two sessions over one frame table, each processed as processSession does (aggregated, every node kept), then
 * aligned (core-rs/SPEC.md, diff). options.showAll, filterThreshold and flatTime apply to the diff.
 */
export function diffSessionsInCore(
  base: Session,
  next: Session,
  options: Omit<SessionProcessOptions, "timeline"> & { normalize: boolean },
): DiffTree {
  const whole = { ...options, timeline: false, filterThreshold: 0 };
  const [b, ob] = loaded(base, whole);
  try {
    const [n, on] = loaded(next, whole);
    try {
      b.process(ob);
      n.process(on);
      return n.diff(b, options);
    } finally {
      n.dispose();
    }
  } finally {
    b.dispose();
  }
}
