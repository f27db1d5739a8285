// V8's .cpuprofile (Profiler.Profile in the DevTools protocol) -> the normalised Session. Shared by the samplers
// of the runtimes whose engine is V8 (Node, Deno); each passes its own source mapper and runtime name.
import {
  createSourceMapper,
  originalName,
  type Position,
  type SourceMapper,
  urlToFile,
} from "../../session/source/sourcemaps.ts";
import { FrameInterner, StackInterner, TRUNCATED_FRAME } from "../../session/frames.ts";
import { SampleState } from "../../session/types.ts";
import { callerNames, findStartStack } from "./start-stack.ts";
import type { FrameInfo, FrameKind, SampleStateValue, Session } from "../../session/types.ts";
import { isTsprofileFile, isTsprofileWork } from "../../session/root.ts";

/** The shape of a .cpuprofile (Profiler.Profile in the DevTools protocol). */
export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}
export interface CallFrame {
  functionName: string;
  scriptId: string | number;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** A caller frame captured at start(): generated position, 1-based. */
export interface RawCallSite {
  name: string;
  file: string;
  line: number;
  col: number;
}

/**
 * The longest gap credited to the sample before it. V8 takes real (idle) samples while the thread waits, so a
 * long silence after a JS sample means the sampling thread was starved (a loaded machine, a long GC pause,
 * a blocking native call), not that JS stopped. Starvation of tens of milliseconds is common on a 2-core VM,
 * so the cap is generous: 20 intervals, and never below 20 ms.
 */
export function gapCapFor(interval: number): number {
  return Math.max(20 * interval, 20_000);
}

// ---- start stack ----

/** The caller's stack at start(), root -> leaf, without tsprofile's own frames and async continuations. */
export function captureCallers(): RawCallSite[] {
  const saveLimit = Error.stackTraceLimit;
  const savePrepare = Error.prepareStackTrace;
  let sites: NodeJS.CallSite[] = [];
  try {
    Error.stackTraceLimit = 256; // the CPU profiler keeps about as many
    Error.prepareStackTrace = (_err, callSites) => callSites;
    sites = (new Error().stack as unknown as NodeJS.CallSite[]) ?? [];
  } catch {
    sites = [];
  } finally {
    Error.stackTraceLimit = saveLimit;
    Error.prepareStackTrace = savePrepare;
  }
  const out: RawCallSite[] = [];
  if (!Array.isArray(sites)) return out;
  for (const site of sites as CallSiteMore[]) {
    try {
      if (site.isAsync?.()) break; // what follows are awaiting callers, not frames on the real stack
      const file = urlToFile(site.getFileName() ?? site.getScriptNameOrSourceURL?.() ?? "");
      if (isTsprofileFile(file)) continue;
      const [line, col] = [site.getLineNumber() ?? 0, site.getColumnNumber() ?? 0];
      out.push({ name: site.getFunctionName() ?? "", file, line, col });
    } catch {
      // A call site that cannot describe itself is left out; the rest still find the start stack.
    }
  }
  return out.reverse();
}

/** V8's call sites have these too; not every runtime's (or @types/node's) do. */
type CallSiteMore = NodeJS.CallSite & { isAsync?(): boolean; getScriptNameOrSourceURL?(): string | null };

/** The captured callers of start(), source-mapped unless the runtime already did, found in the stack table. */
function mapStartStack(
  callers: RawCallSite[],
  frames: FrameInfo[],
  parent: Int32Array,
  frameOf: Uint32Array,
  mapper: SourceMapper,
  mapped = false,
): number[] {
  const want = callers.map((c) => {
    const pos = !mapped && c.file && c.line > 0 ? mapper.map(c.file, c.line, c.col) : c;
    return { names: callerNames(c.name), file: pos.file, line: pos.line };
  });
  return findStartStack(want, frames, parent, frameOf);
}

// ---- profile conversion ----

/**
 * V8's limit on the frames of one sampled stack (TickSample::kMaxFramesCount). A deeper stack keeps its innermost
 * frames and hangs them directly under (root).
 */
export const V8_STACK_CAP = 255;
/**
 * A path at least this deep below (root) was cut short and gets the [truncated] root (session/frames.ts). Frames
 * V8 counts but does not show make a cut stack show fewer than the cap: measured on a 400-deep recursion, 253 to
 * 258 (a C++ builtin or an API callback at the leaf hides a frame or two, inlined functions add some), so a few
 * short of the cap count as cut; a whole stack this close to the cap is all but certain to be cut the next time.
 * Builtins between every two calls (a recursion through Array.prototype.map) hide a third of the frames: such a
 * stack is cut with far fewer shown and cannot be told from a whole one.
 */
export const TRUNCATED_DEPTH = V8_STACK_CAP - 5;

/** special[] of a node that is a frame. */
const NOT_SPECIAL = 255;
/** need[] bits: the node's stack as it is; its stack under [truncated]. */
const NEED_WHOLE = 1;
const NEED_CUT = 2;

const SPECIAL_STATE = new Map<string, SampleStateValue>([
  ["(idle)", SampleState.idle],
  ["(garbage collector)", SampleState.gc],
  ["(program)", SampleState.native],
  ["(root)", SampleState.native],
]);

export interface ConvertOptions {
  startTime: number;
  cpuTime: number;
  interval: number;
  program: string;
  callers?: RawCallSite[];
  /** The callers' positions are already the original ones (Deno source-maps call sites itself). */
  callersMapped?: boolean;
  /** Maps generated positions to original ones; default: session/source/sourcemaps.ts (Node's view of the files). */
  mapper?: SourceMapper;
  /** meta.runtime, e.g. "deno 2.9.6"; default: this Node's "node <version>". */
  runtime?: string;
  /**
   * The profile is JSC's (Bun's): it has no depth cap, so no depth means a stack was cut (V8_STACK_CAP). (JSC cuts
   * a few samples while its stack buffer grows, runtimes/bun/sampler.ts; its .cpuprofile does not say which.)
   */
  wholeStacks?: boolean;
  /**
   * Session time 0 lies this far (us) after the profile's start: V8 stamps a profile's start before it re-logs the
   * heap's code (tens of milliseconds on Deno), and samples only after. Samples before it are dropped.
   */
  skip?: number;
}

/** Converts a .cpuprofile into a Session. Exported for tests and for reading profiles from other tools. */
export function convertProfile(profile: CpuProfile, opts: ConvertOptions): Session {
  const mapper = opts.mapper ?? createSourceMapper();
  const frameTable = new FrameInterner();
  const frames = frameTable.frames;
  const rawFrameIds = new Map<string, number>();
  // V8 makes one node per call site; equal (parent, frame) pairs become one stack.
  const stacks = new StackInterner();

  const internFrame = (cf: CallFrame): number => {
    const rawKey = `${cf.url}\u0000${cf.functionName}\u0000${cf.lineNumber}\u0000${cf.columnNumber}`;
    let id = rawFrameIds.get(rawKey);
    if (id !== undefined) return id;
    // Interned after mapping: two generated positions of one original function are one frame.
    id = frameTable.frame(convertFrame(cf, mapper));
    rawFrameIds.set(rawKey, id);
    return id;
  };

  // Node ids are small integers: per-node results live in arrays indexed by id (the sample loop is hot).
  const profileNodes = profile.nodes ?? [];
  let maxId = 0;
  for (const n of profileNodes) if (Number.isInteger(n.id) && n.id > maxId) maxId = n.id;
  const byId: (CpuProfile["nodes"][number] | undefined)[] = new Array(maxId + 1);
  const isChild = new Uint8Array(maxId + 1);
  for (const n of profileNodes) {
    if (!Number.isInteger(n.id) || n.id < 0) continue;
    byId[n.id] = n;
    for (const c of n.children ?? []) if (c >= 0 && c <= maxId) isChild[c] = 1;
  }
  // Pass 1, pre-order from the roots (parents before children; iterative: no recursion for deep trees): each
  // node's parent, depth below (root) and state, if it is one of the special nodes.
  const order: number[] = [];
  const parentOf = new Int32Array(maxId + 1).fill(-1);
  const depth = new Int32Array(maxId + 1);
  const special = new Uint8Array(maxId + 1).fill(NOT_SPECIAL);
  const visited = new Uint8Array(maxId + 1);
  const work: [number, number][] = [];
  for (const n of profileNodes) if (n.id >= 0 && !isChild[n.id]) work.push([n.id, -1]);
  while (work.length > 0) {
    const [id, parent] = work.pop()!;
    const n = byId[id];
    if (!n || visited[id]) continue;
    visited[id] = 1;
    order.push(id);
    parentOf[id] = parent;
    const cf = n.callFrame;
    // (root), (idle), (program), (garbage collector) are states, not frames: they keep their parent's stack.
    const state = cf.url === "" ? SPECIAL_STATE.get(cf.functionName) : undefined;
    if (state !== undefined) special[id] = state;
    depth[id] = (parent < 0 ? 0 : depth[parent]) + (state !== undefined && cf.functionName === "(root)" ? 0 : 1);
    for (const c of n.children ?? []) work.push([c, id]);
  }

  // Pass 2, children before parents: which nodes need their stack as it is (a whole stack's sample, or a leaf
  // short of the cut, lies at or under them) and which their stack under [truncated] (a cut stack's sample does).
  const cutDepth = opts.wholeStacks ? Infinity : TRUNCATED_DEPTH;
  const sampled = new Uint8Array(maxId + 1);
  for (const id of profile.samples ?? []) if (id >= 0 && id <= maxId) sampled[id] = 1;
  const need = new Uint8Array(maxId + 1);
  for (let k = order.length - 1; k >= 0; k--) {
    const id = order[k];
    if (sampled[id]) need[id] |= depth[id] >= cutDepth ? NEED_CUT : NEED_WHOLE;
    else if (!byId[id]!.children?.length && depth[id] < cutDepth) need[id] |= NEED_WHOLE;
    if (parentOf[id] >= 0) need[parentOf[id]] |= need[id];
  }

  // Pass 3, parents first: the stacks. The profiler's own work (start, stop and what they call, e.g.
  // node:inspector) is not the program's: a sample inside it keeps the stack of tsprofile's caller (see the
  // trailing cut below). The program's own code called back from inside tsprofile (a timer callback through the
  // wait tracker's wrapper, profile(fn)'s fn) is the program's again: its frames continue the caller's stack,
  // without tsprofile's in between.
  const wholeStack = new Int32Array(maxId + 1).fill(-1);
  const wholeOwn = new Uint8Array(maxId + 1);
  const cutStack = new Int32Array(maxId + 1).fill(-1);
  const cutOwn = new Uint8Array(maxId + 1);
  let truncatedFrame = -1;
  let truncatedRoot = -1;
  // One step down from a parent's stack to node `id`'s, written into one of the two variants.
  const down = (
    id: number,
    frame: number,
    parentStack: number,
    parentOwn: number,
    out: Int32Array,
    outOwn: Uint8Array,
  ) => {
    let stack = parentStack;
    let own = parentOwn;
    if (frame >= 0) {
      if (isTsprofileFile(frames[frame].file)) own = 1;
      else if (!own || (frames[frame].kind === "js" && !isTsprofileWork(frames[frame].file))) {
        own = 0;
        stack = stacks.stack(parentStack, frame);
      }
    }
    out[id] = stack;
    outOwn[id] = own;
  };
  for (const id of order) {
    if (need[id] === 0) continue;
    const frame = special[id] === NOT_SPECIAL ? internFrame(byId[id]!.callFrame) : -1;
    const p = parentOf[id];
    if (need[id] & NEED_WHOLE) {
      down(id, frame, p < 0 ? -1 : wholeStack[p], p < 0 ? 0 : wholeOwn[p], wholeStack, wholeOwn);
    }
    if (need[id] & NEED_CUT) {
      // What V8 kept of a cut stack hangs under the one [truncated] root instead of directly under (root).
      if (p < 0 && truncatedRoot < 0) {
        truncatedFrame = frameTable.frame(TRUNCATED_FRAME);
        truncatedRoot = stacks.stack(-1, truncatedFrame);
      }
      const parentStack = p < 0 ? truncatedRoot : cutStack[p];
      if (frame >= 0 && frame === truncatedFrame && parentStack === truncatedRoot) {
        // A profile tsprofile wrote (its .cpuprofile, loaded again) has the root already: not a second one.
        cutStack[id] = truncatedRoot;
        cutOwn[id] = 0;
      } else down(id, frame, parentStack, p < 0 ? 0 : cutOwn[p], cutStack, cutOwn);
    }
  }

  const ids = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const count = ids.length;
  const sampleStack = new Int32Array(count);
  const sampleTime = new Float64Array(count);
  const sampleState = new Uint8Array(count);
  const sampleOwn = new Uint8Array(count);
  let raw = 0;
  let last = 0;
  for (let i = 0; i < count; i++) {
    raw += deltas[i] ?? 0;
    // V8 occasionally emits a negative delta (samples recorded slightly out of order): times never decrease.
    last = Math.max(last, Math.round(raw));
    sampleTime[i] = last;
    const id = ids[i];
    if (!(id >= 0 && id <= maxId && visited[id] === 1)) {
      sampleStack[i] = -1;
      sampleState[i] = SampleState.native;
      continue;
    }
    const cut = depth[id] >= cutDepth;
    const own = cut ? cutOwn[id] : wholeOwn[id];
    sampleStack[i] = cut ? cutStack[id] : wholeStack[id];
    sampleState[i] = own || special[id] === NOT_SPECIAL ? SampleState.js : (special[id] as SampleStateValue);
    sampleOwn[i] = own;
  }
  // The samples taken while stop() itself ran end the session: they are cut, not charged to the program.
  let kept = count;
  while (kept > 0 && sampleOwn[kept - 1] === 1) kept--;
  const skip = Math.max(0, Math.round(opts.skip ?? 0));
  const end = kept < count ? sampleTime[kept] : Math.max(Math.round(profile.endTime - profile.startTime), last);
  const duration = Math.max(0, end - skip);
  let first = 0;
  while (first < kept && sampleTime[first] < skip) first++;
  for (let i = first; i < kept; i++) sampleTime[i] -= skip;
  const stackTable = stacks.tables();

  return {
    version: 1,
    meta: {
      startTime: opts.startTime,
      duration,
      cpuTime: opts.cpuTime,
      interval: opts.interval,
      gapCap: gapCapFor(opts.interval),
      idleSampled: true, // V8 takes (idle) samples: a gap between running samples is the sampler's (SPEC.md §1)
      program: opts.program,
      cwd: process.cwd(),
      runtime: opts.runtime ?? `node ${process.versions.node}`,
      startStack: opts.callers
        ? mapStartStack(opts.callers, frames, stackTable.parent, stackTable.frame, mapper, opts.callersMapped)
        : [],
    },
    frames,
    stacks: stackTable,
    samples: {
      stack: sampleStack.slice(first, kept),
      time: sampleTime.slice(first, kept),
      state: sampleState.slice(first, kept),
    },
  };
}

function convertFrame(cf: CallFrame, mapper: SourceMapper): FrameInfo {
  const url = cf.url ?? "";
  // node:* is Node's own library; ext:* (ext:core/, ext:deno_*/, ext:runtime/) is Deno's.
  const kind: FrameKind = url === "" ? "native" : url.startsWith("node:") || url.startsWith("ext:") ? "runtime" : "js";
  const file = urlToFile(url);
  const line = cf.lineNumber >= 0 ? cf.lineNumber + 1 : 0;
  const col = cf.columnNumber >= 0 ? cf.columnNumber + 1 : 0;
  const name = cf.functionName ?? "";
  // A module's top-level code: V8 names it "" at 0:0 (CommonJS wrapper) or at -1:-1 (ES module). Both become
  // <module> at 1:1 of the file (itself, not a mapped source), so the two module systems look the same.
  if (name === "" && kind === "js" && line <= 1 && col <= 1) return { name: "<module>", file, line: 1, col: 1, kind };
  const pos: Position = kind === "js" && line > 0 ? mapper.map(file, line, col) : { file, line, col };
  return { name: originalName(name, pos.name), file: pos.file, line: pos.line, col: pos.col, kind };
}
