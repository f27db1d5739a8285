// Maps a position inside a function (what JavaScriptCore's sampler reports: the current line and column of each
// frame) to where that function starts, in V8's convention (what Node and Deno report), so one program gives
// one tree on every runtime. V8 places a function at its parameter list: the '(' for function declarations,
// expressions and methods (class constructors included), the first token of an arrow function. For TypeScript,
// Node reports that point in the JavaScript our loader made and tsprofile maps it back through the loader's
// source map to the nearest mapped token at or before it (the function's name or keyword): this does the same
// with the same transpile, so the answers are identical. JavaScript with a source map of its own (a library's
// build) is answered as Node maps V8's position: through that map, into the file it names. Runtime-agnostic;
// never throws.
import { isAbsolute } from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { TraceMap } from "@jridgewell/trace-mapping";
import { transpile, TS_FILE } from "./transpile.mjs";
import { formatOf } from "./ts-format.mjs";
import { createSourceMapper, readRegularFile, type SourceMapper } from "./sourcemaps.ts";

// acorn and trace-mapping are required on first use, not imported: the samplers load this module in the
// profiled program, and Deno resolves a static bare import against the program's config, which need not list them.
const requireHere = createRequire(import.meta.url);
let acornModule: typeof import("acorn") | undefined;
let traceMapping: typeof import("@jridgewell/trace-mapping") | undefined;
const acorn = () => (acornModule ??= requireHere("acorn") as typeof import("acorn"));
const tm =
  () => (traceMapping ??= requireHere("@jridgewell/trace-mapping") as typeof import("@jridgewell/trace-mapping"));

/** 1-based. */
export interface FunctionStart {
  line: number;
  col: number;
  /** The file the function is in, when that is not the file asked about (where a JavaScript file's map points). */
  file?: string;
  /** The original name its map gives it (Position.name). */
  name?: string;
}

export interface FunctionLocator {
  /**
   * The start of the innermost function enclosing (line, col) (1-based, in the file's own coordinates: the
   * .ts source for TypeScript). "module" when the position is top-level code; null when unknown (the file
   * cannot be read or parsed, or the position is not in it).
   */
  locate(file: string, line: number, col: number): FunctionStart | "module" | null;
}

interface FileIndex {
  /** Functions in the code that runs (JavaScript), sorted by start offset. */
  start: Int32Array;
  end: Int32Array;
  /** V8's position of each function: mapped to the .ts source for TypeScript, as the code has it otherwise. */
  line: Int32Array;
  col: Int32Array;
  /** JavaScript: the file, line and column Node reports for each function (through its map), once asked. */
  mapped: (FunctionStart | undefined)[];
  /** JavaScript: maps through the file's own source map, if it has one. */
  mapper: SourceMapper | null;
  /** Line start offsets of the code that runs. */
  lineStarts: Int32Array;
  /** TypeScript: the transpile's map (queries come in .ts coordinates). */
  map: TraceMap | null;
  source: string | null;
}

// Files bigger than this are not parsed (positions stay as reported).
const MAX_SOURCE_BYTES = 32 * 1024 * 1024;

export function createFunctionLocator(): FunctionLocator {
  const files = new Map<string, FileIndex | null>();
  const answers = new Map<string, FunctionStart | "module" | null>();
  let mapper: SourceMapper | null = null;

  const indexFor = (file: string): FileIndex | null => {
    let index = files.get(file);
    if (index === undefined) {
      try {
        index = buildIndex(file, () => (mapper ??= createSourceMapper()));
      } catch {
        index = null;
      }
      files.set(file, index);
    }
    return index;
  };

  return {
    locate(file, line, col) {
      if (!file || !isAbsolute(file) || line < 1) return null;
      const key = `${file}\u0000${line}\u0000${col}`;
      let answer = answers.get(key);
      if (answer === undefined) {
        const index = indexFor(file);
        try {
          answer = index ? locateIn(index, file, line, Math.max(col, 1)) : null;
        } catch {
          answer = null;
        }
        answers.set(key, answer);
      }
      return answer;
    },
  };
}

function buildIndex(file: string, mapper: () => SourceMapper): FileIndex | null {
  const buf = readRegularFile(file, MAX_SOURCE_BYTES);
  if (!buf) return null;
  const source = buf.toString("utf8");
  let code = source;
  let map: TraceMap | null = null;
  if (TS_FILE.test(file)) {
    // The same transpile as Node's loader (session/source/transpile.mjs), so positions agree with Node's.
    const out = transpile(source, file, formatOf(file, source) === "commonjs" ? "cjs" : "esm");
    code = out.code;
    if (!out.map) return null;
    map = new (tm().TraceMap)(out.map, pathToFileURL(file).href);
  }
  const ast = parseLoose(code);
  if (!ast) return null;
  const lineStarts = lineStartsOf(code);
  const found: { start: number; end: number; v8: number }[] = [];
  walk(ast, (node) => {
    const t = node.type;
    if (t === "FunctionDeclaration" || t === "FunctionExpression" || t === "ArrowFunctionExpression") {
      found.push({ start: node.start, end: node.end, v8: v8Start(code, node) });
    }
  });
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const n = found.length;
  const index: FileIndex = {
    start: new Int32Array(n),
    end: new Int32Array(n),
    line: new Int32Array(n),
    col: new Int32Array(n),
    lineStarts,
    map,
    source: map ? pathToFileURL(file).href : null,
    mapped: [],
    // JavaScript files with a source map of their own are mapped the way Node's sampler maps them (mapStart).
    mapper: map ? null : mapper(),
  };
  for (let i = 0; i < n; i++) {
    const f = found[i];
    index.start[i] = f.start;
    index.end[i] = f.end;
    const gen = positionOf(lineStarts, f.v8);
    let pos = { line: gen.line, col: gen.col };
    if (map) {
      const at = { line: gen.line, column: gen.col - 1 };
      let o = tm().originalPositionFor(map, { ...at, bias: tm().GREATEST_LOWER_BOUND });
      if (o.line == null) o = tm().originalPositionFor(map, { ...at, bias: tm().LEAST_UPPER_BOUND });
      if (o.line != null) pos = { line: o.line, col: (o.column ?? 0) + 1 };
    }
    index.line[i] = pos.line;
    index.col[i] = pos.col;
  }
  return index;
}

/**
 * Function i of a JavaScript file where Node places it: V8 reports the function's start in the code that runs and
 * tsprofile maps that through the file's own map (session/source/sourcemaps.ts), into whatever file the map names
 * (a library's src/*.ts). Once per function, and only for the functions asked about: a large bundle has thousands.
 */
function mapStart(index: FileIndex, file: string, i: number): FunctionStart {
  let start = index.mapped[i];
  if (start === undefined) {
    const m = index.mapper!.map(file, index.line[i], index.col[i]);
    start = m.file === file ? { line: m.line, col: m.col } : { line: m.line, col: m.col, file: m.file };
    if (m.name !== undefined) start.name = m.name;
    index.mapped[i] = start;
  }
  return start;
}

function locateIn(index: FileIndex, file: string, line: number, col: number): FunctionStart | "module" | null {
  let best: number;
  if (index.map) {
    // The reported position is in the .ts source: find the code it became. Engines may report a point
    // between mapped tokens (a constructor at its '(', after the mapped `constructor`): then the nearest
    // token before it can lie outside the function and the one after it inside, so both are tried.
    const q = { source: index.source!, line, column: col - 1 };
    const before = tm().generatedPositionFor(index.map, { ...q, bias: tm().GREATEST_LOWER_BOUND });
    const after = tm().generatedPositionFor(index.map, { ...q, bias: tm().LEAST_UPPER_BOUND });
    const around = (p: { line: number | null; column: number | null }) =>
      p.line == null ? -2 : innermost(index, offsetOf(index.lineStarts, p.line, (p.column ?? 0) + 1));
    const b = around(before);
    const a = around(after);
    if (b === -2 && a === -2) return null;
    best = b === -2 ? a : b;
    if (a >= 0 && a !== b && (b < 0 || (index.start[a] >= index.start[b] && index.end[a] <= index.end[b]))) {
      // Inside the function after it only if that function starts at or before the position.
      if (index.line[a] < line || (index.line[a] === line && index.col[a] <= col)) best = a;
    }
  } else {
    const offset = offsetOf(index.lineStarts, line, col);
    if (offset < 0) return null;
    best = innermost(index, offset);
  }
  if (best === -2) return null;
  if (best < 0) return "module";
  if (index.line[best] < 1) return null;
  if (index.mapper) return mapStart(index, file, best);
  return { line: index.line[best], col: index.col[best] };
}

/** The innermost function containing offset (the latest start among those containing it), -1 for top-level
 * code, -2 for an offset outside the code. */
function innermost(index: FileIndex, offset: number): number {
  if (offset < 0) return -2;
  let best = -1;
  for (let i = 0; i < index.start.length && index.start[i] <= offset; i++) {
    if (offset < index.end[i]) best = i;
  }
  return best;
}

// ---- parsing ----

interface Node {
  type: string;
  start: number;
  end: number;
  async?: boolean;
  id?: Node | null;
  params?: Node[];
  [key: string]: unknown;
}

function parseLoose(code: string): Node | null {
  const base = {
    ecmaVersion: "latest" as const,
    allowHashBang: true,
    allowReturnOutsideFunction: true,
    allowAwaitOutsideFunction: true,
    allowImportExportEverywhere: true,
  };
  for (const sourceType of ["module", "script"] as const) {
    try {
      return acorn().parse(code, { ...base, sourceType }) as unknown as Node;
    } catch {
      // Not a module (e.g. `with`, octal literals): tried as a script next.
    }
  }
  return null;
}

/** Depth-first over every node object (no recursion: deep code stays safe). */
function walk(root: Node, visit: (node: Node) => void): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
      continue;
    }
    if (value === null || typeof value !== "object" || typeof (value as Node).type !== "string") continue;
    const node = value as Node;
    visit(node);
    for (const key in node) {
      if (key === "type" || key === "start" || key === "end" || key === "loc" || key === "range") continue;
      const child = node[key];
      if (child !== null && typeof child === "object") stack.push(child);
    }
  }
}

/** V8's position of a function: an arrow's first token (`async` included), otherwise its parameter list's '('. */
function v8Start(code: string, node: Node): number {
  if (node.type === "ArrowFunctionExpression") return node.start;
  // Method values (class and object methods, accessors, constructors) already start at the '('.
  let p = node.id ? node.id.end : node.start;
  for (;;) {
    p = skipTrivia(code, p);
    if (p >= node.end) return node.start;
    if (code.charCodeAt(p) === 40 /* ( */) return p;
    p++;
  }
}

function skipTrivia(code: string, p: number): number {
  while (p < code.length) {
    const c = code.charCodeAt(p);
    if (c === 32 || c === 9 || c === 10 || c === 13) p++;
    else if (c === 47 /* / */ && code.charCodeAt(p + 1) === 47) {
      const nl = code.indexOf("\n", p);
      p = nl < 0 ? code.length : nl + 1;
    } else if (c === 47 && code.charCodeAt(p + 1) === 42 /* * */) {
      const close = code.indexOf("*/", p + 2);
      p = close < 0 ? code.length : close + 2;
    } else break;
  }
  return p;
}

// ---- positions ----

function lineStartsOf(code: string): Int32Array {
  const starts = [0];
  for (let i = code.indexOf("\n"); i >= 0; i = code.indexOf("\n", i + 1)) starts.push(i + 1);
  return Int32Array.from(starts);
}

/** 1-based line and column of an offset (columns count UTF-16 units, as engines do). */
function positionOf(lineStarts: Int32Array, offset: number): FunctionStart {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - lineStarts[lo] + 1 };
}

function offsetOf(lineStarts: Int32Array, line: number, col: number): number {
  if (line < 1 || line > lineStarts.length) return -1;
  return lineStarts[line - 1] + col - 1;
}
