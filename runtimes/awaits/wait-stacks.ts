// The logical stack of each wait (runtimes/awaits/tracker.ts): captured when the program starts the operation,
// with its async callers, and interned into a table of distinct stacks (leaf -> root RawSites).
//
// The capture is the cost of await tracking: V8's Error.captureStackTrace costs ~1.5 us in a loop but 3-6 us in
// a real program (cold caches, optimized frames to summarize), whatever the depth limit; no cheaper way to learn
// the calling context exists in JavaScript, and no wait can be skipped (the core's wake-up rule and async-stack
// stitching use every wait's end). So the rest is kept small, per runtime (StackMode below):
// - Node: CallSites read at capture. A captured but unread V8 stack keeps its frames' receivers and functions
//   (promises, async function states) alive; held until stop, that cost more in GC than reading it at once. A site
//   is identified by its script and source position (getFileName, getPosition: ~50 ns each), name and line read
//   once per distinct site; stacks are a trie walked with one map lookup a frame, so a repeated stack allocates
//   nothing.
// - Deno: its CallSites' getFileName/getLineNumber are source-mapped (~2 us a call in a real program), so stacks
//   are held and read at stop, or every BATCH waits.
// - Bun: JSC formats the stack text at capture anyway; it is interned by text and parsed once per distinct text.
//
// The program's own Error.prepareStackTrace and stackTraceLimit are restored before anything else runs.

import { recordedShifts, urlToFile } from "../../session/source/sourcemaps.ts";
import { isTsprofileFile } from "../../session/root.ts";

/** One call site of a captured stack, as the runtime reports it (current position, 1-based). */
export interface RawSite {
  name: string;
  file: string;
  line: number;
  col: number;
  async: boolean;
}

/** Deep enough for the program's frames above framework internals; deeper stacks lose their outermost frames. */
export const STACK_LIMIT = 64;

interface CallSiteLike {
  getFileName(): string | null | undefined;
  getScriptNameOrSourceURL?(): string | null | undefined;
  getFunctionName(): string | null;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  getPosition?(): number;
  isAsync?(): boolean;
}

const returnSites = (_e: unknown, sites: unknown) => sites;
const JSC = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
/** Script name -> file path, or "" for tsprofile's own files (fileURLToPath costs microseconds: once per script). */
const fileCache = new Map<string, string>();
export function fileOf(raw: string): string {
  let file = fileCache.get(raw);
  if (file === undefined) {
    file = urlToFile(raw);
    if (isTsprofileFile(file)) file = "";
    fileCache.set(raw, file);
  }
  return file;
}

/** How a runtime's stacks are cheapest to read (see the header): "sites" Node, "deferred" Deno, "text" Bun. */
export type StackMode = "sites" | "deferred" | "text";

/** Deferred captures hold their frames' receivers and functions alive until read: read them every this many. */
const BATCH = 32768;

export class WaitStacks {
  /** Interned stacks, leaf -> root; a stack id indexes this. */
  readonly stacks: RawSite[][] = [];
  /** Trie of call sites, leaf first: node 0 is the empty stack; each other node is one site below its parent. */
  private readonly parent: number[] = [-1];
  private readonly siteOf: RawSite[] = [{ name: "", file: "", line: 0, col: 0, async: false }];
  private readonly stackOfNode: number[] = [-1];
  /** Per node, position -> edge; an edge is a site's script and the node it leads to. */
  private readonly children: (Map<number, number> | undefined)[] = [undefined];
  private readonly edgeScript: string[] = [];
  private readonly edgeTo: number[] = [];
  /** Edges whose position another script took first at the same node: "node\0pos\0script" -> edge. */
  private readonly collided = new Map<string, number>();
  private readonly ownScripts = new Map<string, boolean>();
  /** Whether CallSites have getPosition (V8 has; Deno's and JSC's do not). */
  private positions: boolean | undefined;
  private readonly byText = new Map<string, number>();
  /** "deferred": the captured holders (those from heldStack.length on not read yet), and each read one's stack id. */
  private readonly held: unknown[] = [];
  private readonly heldStack: number[] = [];

  constructor(readonly mode: StackMode) {}

  /**
   * The logical stack (async callers included) of the code that called `skip`: a reference for resolve(), which
   * is the stack id itself except in "deferred" mode. Never throws.
   */
  capture(skip: (...args: never[]) => unknown): number {
    const E = Error as ErrorConstructor & { stackTraceLimit: number };
    const mode = this.mode;
    let limit: number | undefined;
    let prepare: unknown;
    let got: unknown;
    try {
      limit = E.stackTraceLimit;
      prepare = E.prepareStackTrace;
      E.stackTraceLimit = STACK_LIMIT;
      // "text": JSC formats at capture, through a program's prepareStackTrace if it set one: keep that out.
      if (mode !== "deferred") E.prepareStackTrace = (mode === "sites" ? returnSites : undefined) as never;
      const holder: { stack?: unknown } = {};
      // JSC leaves the trace empty when `skip` is not the direct caller: there our own frames are dropped by file.
      E.captureStackTrace(holder, JSC ? undefined : skip);
      got = mode === "deferred" ? holder : holder.stack;
    } catch {
      got = undefined;
    } finally {
      try {
        E.stackTraceLimit = limit as number;
        if (mode !== "deferred") E.prepareStackTrace = prepare as never;
      } catch {
        // An Error property the program made unwritable (or a throwing setter): left as it is, no throw.
      }
    }
    if (got === undefined) return -1;
    if (mode === "deferred") {
      this.held.push(got);
      if (this.held.length - this.heldStack.length >= BATCH) this.readHeld();
      return -2 - (this.held.length - 1);
    }
    return this.internAny(got);
  }

  /** A stack another WaitStacks resolved: its id here. */
  adopt(sites: RawSite[]): number {
    this.stacks.push(sites);
    return this.stacks.length - 1;
  }

  /** A reference from capture() -> a stack id, or -1. Reads what "deferred" still holds. */
  resolve(ref: number): number {
    if (ref >= -1) return ref;
    const i = -2 - ref;
    if (i >= this.heldStack.length) this.readHeld();
    return this.heldStack[i] ?? -1;
  }

  /** Reads the held captures (V8 formats on first access of .stack) and lets them go. */
  private readHeld(): void {
    const E = Error as ErrorConstructor;
    const prepare = E.prepareStackTrace;
    try {
      E.prepareStackTrace = returnSites as never;
      for (let i = this.heldStack.length; i < this.held.length; i++) {
        let id = -1;
        try {
          id = this.internAny((this.held[i] as { stack?: unknown }).stack);
        } catch {
          // Reading this stack threw: it stays unknown (-1).
        }
        this.heldStack.push(id);
        this.held[i] = 0;
      }
    } finally {
      E.prepareStackTrace = prepare;
    }
  }

  private internAny(got: unknown): number {
    try {
      if (Array.isArray(got)) return this.intern(got as CallSiteLike[]);
      // A runtime that formatted the stack itself (JSC, or a prepareStackTrace it did not honour): the text.
      if (typeof got === "string") return this.internText(got);
    } catch {
      // A stack that cannot be read (a call site or the parse threw): unknown (-1), the wait is still recorded.
    }
    return -1;
  }

  private internText(text: string): number {
    let id = this.byText.get(text);
    if (id === undefined) {
      id = this.stacks.length;
      // JSC's positions are in the code that ran: instrumented files' columns as written (Bun's only: Deno's text
      // stacks are source-mapped already).
      const sites = parseStackString(text);
      if (this.mode === "text") {
        for (const s of sites) s.col = recordedShifts(s.file)?.unshift(s.line, s.col) ?? s.col;
      }
      this.stacks.push(sites);
      this.byText.set(text, id);
    }
    return id;
  }

  private intern(sites: CallSiteLike[]): number {
    const deno = this.mode === "deferred";
    if (this.positions === undefined && sites.length > 0) this.positions = typeof sites[0].getPosition === "function";
    const positions = this.positions;
    let node = 0;
    for (let i = 0; i < sites.length; i++) {
      const s = sites[i];
      // Deno source-maps getFileName (~2 us); its script name is the same file as a URL, for ~0.3 us.
      const script = deno
        ? s.getScriptNameOrSourceURL?.() ?? s.getFileName()
        : s.getFileName() ?? s.getScriptNameOrSourceURL?.();
      if (!script) continue; // native (new Promise, Promise.all): not in the sampler's stacks either
      // A call site is its script and position; line/col where the position is not offered (2^22 columns:
      // minified one-line bundles stay distinct). An async frame sits at its await, a sync one at its call: never
      // the same position, so isAsync need not be part of the key.
      const pos = positions ? s.getPosition!() : (s.getLineNumber() ?? 0) * 4194304 + (s.getColumnNumber() ?? 0);
      // The trie's edges are keyed by position alone and checked against their script (one lookup a frame).
      const kids = this.children[node];
      const e = kids?.get(pos);
      node = e !== undefined && this.edgeScript[e] === script ? this.edgeTo[e] : this.slowEdge(node, script, pos, s);
    }
    let id = this.stackOfNode[node];
    if (id === -1) {
      const stack: RawSite[] = [];
      for (let n = node; n > 0; n = this.parent[n]) stack.push(this.siteOf[n]);
      stack.reverse(); // trie walked leaf first, so the walk up gives root -> leaf
      id = this.stacks.length;
      this.stacks.push(stack);
      this.stackOfNode[node] = id;
    }
    return id;
  }

  /** The node after `node` through the site (script, pos): found among colliding positions, or a new edge. */
  private slowEdge(node: number, script: string, pos: number, s: CallSiteLike): number {
    const ckey = `${node}\u0000${pos}\u0000${script}`;
    const known = this.collided.get(ckey);
    if (known !== undefined) return this.edgeTo[known];
    let own = this.ownScripts.get(script);
    if (own === undefined) this.ownScripts.set(script, own = !fileOf(script));
    let to = node; // tsprofile's own frames are left out: the edge leads back to the same node
    if (!own) {
      let name = s.getFunctionName() ?? "";
      if (name === "<anonymous>" || name === "module code") name = "";
      const [line, col] = [s.getLineNumber() ?? 0, s.getColumnNumber() ?? 0];
      const site: RawSite = { name, file: fileOf(script), line, col, async: s.isAsync?.() === true };
      to = this.parent.length;
      this.parent.push(node);
      this.siteOf.push(site);
      this.children.push(undefined);
      this.stackOfNode.push(-1);
    }
    const e = this.edgeTo.length;
    this.edgeTo.push(to);
    this.edgeScript.push(script);
    let kids = this.children[node];
    if (kids === undefined) this.children[node] = kids = new Map();
    if (kids.has(pos)) this.collided.set(ckey, e);
    else kids.set(pos, e);
    return to;
  }
}

const FRAME_LINE = /^\s*at (?:(async) )?(?:(.*?) \((.*?)(?::(\d+))?(?::(\d+))?\)|(.*?)(?::(\d+))?(?::(\d+))?)\s*$/;

/** A JSC stack string ("    at async name (file:line:col)") -> RawSites, leaf -> root. */
export function parseStackString(stack: string): RawSite[] {
  const out: RawSite[] = [];
  for (const line of stack.split("\n")) {
    const m = FRAME_LINE.exec(line);
    if (!m) continue;
    const named = m[3] !== undefined;
    // "at unknown": a frame with no location (a Proxy's construct on JSC), nothing to show.
    if (!named && m[7] === undefined) continue;
    const file = urlToFile((named ? m[3] : m[6]) ?? "");
    const lineNo = Number((named ? m[4] : m[7]) ?? 0);
    const col = Number((named ? m[5] : m[8]) ?? 0);
    if (!file || file === "native" || file === "<anonymous>" || isTsprofileFile(file)) continue;
    let name = named ? m[2] : "";
    if (name === "<anonymous>" || name === "module code") name = "";
    out.push({ name, file, line: lineNo, col, async: m[1] === "async" });
  }
  return out;
}
