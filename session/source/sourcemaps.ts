// Maps generated positions (what V8 reports) to original positions (what the user wrote), once per unique frame.
// TypeScript run by our loader: re-transpile with the loader's exact options (same input, same map).
// Other JavaScript: follow its `//# sourceMappingURL=` (a data: URL or a .map file). Never throws: a position
// that cannot be mapped comes back unchanged.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { createRequire, findSourceMap } from "node:module";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { SourceMapInput, TraceMap as TraceMapType } from "@jridgewell/trace-mapping";
import { transpile, TS_FILE } from "./transpile.mjs";
import { formatOf } from "./ts-format.mjs";

// trace-mapping is required on first use, not imported: on Deno a static bare import would have to resolve in
// the profiled program's own configuration (the CLI's child runs the user's script as its main module), which
// knows nothing of tsprofile's dependencies; require resolves from this file's node_modules on every runtime.
type TraceMapping = typeof import("@jridgewell/trace-mapping");
let traceMapping: TraceMapping | null = null;
const tm =
  (): TraceMapping => (traceMapping ??= createRequire(import.meta.url)("@jridgewell/trace-mapping") as TraceMapping);

export interface Position {
  file: string;
  /** 1-based; 0 = unknown. */
  line: number;
  /** 1-based; 0 = unknown. */
  col: number;
  /** The original name the map gives the token there (a minified function's own name), if any. */
  name?: string;
}

/**
 * A function's name: the original one a source map gives its name token (a minifier's `e` is the map's
 * `tokenizeInlines`), where the engine named it at all and the map's name is an identifier; else the engine's.
 * Anonymous functions stay anonymous: the token before their parameters is some other name.
 */
export function originalName(name: string, mapped: string | undefined): string {
  if (name === "") return "(anonymous)";
  // "get x", "bound f": the engine's own decoration, kept. A constructor is named by its class, not its keyword.
  if (mapped === undefined || mapped === name || name.includes(" ") || mapped === "constructor") return name;
  return /^#?[A-Za-z_$][\w$]*$/.test(mapped) ? mapped : name;
}

export interface SourceMapper {
  /** Maps a 1-based generated position; returns it unchanged when there is no map or no mapping. */
  map(file: string, line: number, col: number): Position;
}

interface LoaderState {
  cjs: Set<string>;
  /** Set when the loader instruments the program's awaits (runtimes/awaits/instrument.mjs): the column shifts the
   * instrumentation made in `code` (the JavaScript that would otherwise have run), or null when it left the file
   * alone; `script` says how the file was parsed (CommonJS). */
  awaits?: (file: string, code: string, script: boolean) => AwaitShifts | null;
  /** JavaScript files instrumented as CommonJS. */
  scripts?: Set<string>;
  /** Where a runtime's load hook instrumented files itself (runtimes/awaits/load-hooks.mjs): their shifts. */
  shifts?: Map<string, AwaitShifts>;
}

/** Per generated line, the inverse of the instrumentation's insertions (runtimes/awaits/instrument.mjs). */
interface AwaitShifts {
  unshift(line: number, col: number): number;
}

/** A file's way back to what the user wrote: the instrumentation's shifts, then the file's map. */
interface FileMap {
  shifts: AwaitShifts | null;
  map: TraceMapType | null;
}

const IS_NODE = !("deno" in process.versions) && !("bun" in process.versions);

/** Set by runtimes/loader/register.mjs when our TypeScript loader runs in this process. */
function loaderState(): LoaderState | undefined {
  return (globalThis as Record<symbol, LoaderState | undefined>)[Symbol.for("tsprofile.loader")];
}

/** The instrumentation's shifts of a file a runtime's load hook instrumented as it loaded, if it did. */
export function recordedShifts(file: string): AwaitShifts | undefined {
  return loaderState()?.shifts?.get(file);
}

// Source files bigger than this are not searched for a map comment (a generated bundle of this size with an
// inline map would cost a noticeable pause at stop for little gain).
const MAX_SOURCE_BYTES = 64 * 1024 * 1024;
// A map holds names, mappings and often every source's text: it may be a few times its file's size.
const MAX_MAP_BYTES = 256 * 1024 * 1024;

/**
 * A regular file's bytes, or null when the path is anything else (a device such as /dev/zero, a FIFO, a directory)
 * or the file is bigger than maxBytes. Paths come from profiles and map comments, which must never hang the reader
 * or fill its memory: the file is opened without blocking (opening a FIFO would wait for a writer), checked again
 * on the open descriptor, and read up to the size it had then.
 */
export function readRegularFile(path: string, maxBytes: number): Buffer | null {
  let fd: number;
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > maxBytes) return null;
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return null;
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, at);
      if (n <= 0) break;
      at += n;
    }
    return at < buf.length ? buf.subarray(0, at) : buf;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export function createSourceMapper(): SourceMapper {
  const maps = new Map<string, FileMap | null>();

  function mapFor(file: string): FileMap | null {
    let tm = maps.get(file);
    if (tm === undefined) {
      try {
        tm = load(file);
      } catch {
        tm = null;
      }
      maps.set(file, tm);
    }
    return tm;
  }

  return {
    map(file, line, col) {
      const unchanged = { file, line, col };
      if (!file || line < 1 || !isAbsolute(file)) return unchanged;
      const fm = mapFor(file);
      if (!fm) return unchanged;
      try {
        if (fm.shifts) col = fm.shifts.unshift(line, col);
        const map = fm.map;
        if (!map) return { file, line, col };
        const { GREATEST_LOWER_BOUND, LEAST_UPPER_BOUND, originalPositionFor } = tm();
        const column = Math.max(col - 1, 0);
        // V8 reports a function at its start (the parameter list); the nearest mapped token at or before it
        // on the same line is the function's name or keyword, on the original function's line.
        let o = originalPositionFor(map, { line, column, bias: GREATEST_LOWER_BOUND });
        if (o.source == null) o = originalPositionFor(map, { line, column, bias: LEAST_UPPER_BOUND });
        if (o.source == null || o.line == null) return unchanged;
        const mapped: Position = { file: sourcePath(o.source), line: o.line, col: (o.column ?? -1) + 1 };
        if (typeof o.name === "string" && o.name !== "") mapped.name = o.name;
        return mapped;
      } catch {
        return unchanged;
      }
    },
  };
}

function load(file: string): FileMap | null {
  // With source maps on (runtimes/loader/register.mjs turns them on when it instruments), the map Node kept is
  // the one of the code that ran, instrumentation included.
  const kept = nodeKept(file);
  if (kept) return { shifts: null, map: kept };
  const loader = loaderState();
  const isTs = TS_FILE.test(file);
  let shifts: AwaitShifts | null = null;
  let tsMap: TraceMapType | null = null;
  let text: string | undefined;
  try {
    // Instrumented as it loaded (Deno, Bun): its shifts are known, its own map is read below.
    shifts = loader?.shifts?.get(file) ?? null;
    if (!shifts && isTs && loader) {
      // Without our loader a .ts file ran through Node's type stripping (positions kept) or another tool we
      // cannot see into: left unmapped.
      const source = readRegularFile(file, MAX_SOURCE_BYTES)?.toString("utf8");
      if (source === undefined) return null;
      const format = loader.cjs.has(file) || formatOf(file, source) === "commonjs" ? "cjs" : "esm";
      const { code, map } = transpile(source, file, format);
      if (map) tsMap = new (tm().TraceMap)(map, pathToFileURL(file).href);
      shifts = loader.awaits?.(file, code, format === "cjs") ?? null;
    } else if (!shifts && !isTs && loader?.awaits) {
      text = readRegularFile(file, MAX_SOURCE_BYTES)?.toString("utf8");
      if (text !== undefined) shifts = loader.awaits(file, text, loader.scripts?.has(file) === true);
    }
  } catch {
    // The instrumentation cannot be redone: positions as the map alone gives them.
  }
  // Node kept no map (source maps off): the instrumentation's shifts, then the file's own map.
  const map = isTs ? tsMap : loadMap(file, text);
  return map || shifts ? { shifts, map } : null;
}

/**
 * When source maps are enabled (--enable-source-maps, or tools like tsx that turn them on), Node keeps the map of
 * the code that actually ran: the best answer there is. Only Node's: Deno's findSourceMap reads the file a map
 * comment names, whatever it is (a comment naming /dev/zero never returns), and Bun's knows none.
 */
function nodeKept(file: string): TraceMapType | null {
  try {
    const known = typeof findSourceMap === "function" && IS_NODE ? findSourceMap(file) : undefined;
    if (known?.payload) return new (tm().TraceMap)(known.payload as SourceMapInput, pathToFileURL(file).href);
  } catch {
    // Not a map Node kept: the file's own comment.
  }
  return null;
}

/** A JavaScript file's own map, from its `//# sourceMappingURL=` comment (`text`: its content, if read already). */
function loadMap(file: string, text = readRegularFile(file, MAX_SOURCE_BYTES)?.toString("utf8")): TraceMapType | null {
  if (text === undefined) return null;
  const url = lastMapComment(text);
  if (!url) return null;
  if (url.startsWith("data:")) {
    const comma = url.indexOf(",");
    if (comma < 0) return null;
    const head = url.slice(5, comma);
    const body = url.slice(comma + 1);
    const json = head.endsWith(";base64") ? Buffer.from(body, "base64").toString("utf8") : decodeURIComponent(body);
    return new (tm().TraceMap)(JSON.parse(json), pathToFileURL(file).href);
  }
  let mapPath: string;
  if (url.startsWith("file:")) mapPath = fileURLToPath(url);
  else if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return null; // http: and the like: not ours to fetch
  else mapPath = resolve(dirname(file), decodeURIComponent(url));
  const map = readRegularFile(mapPath, MAX_MAP_BYTES);
  return map ? new (tm().TraceMap)(map.toString("utf8"), pathToFileURL(mapPath).href) : null;
}

/** The URL of the last `//# sourceMappingURL=` comment (the one that counts), if any. */
function lastMapComment(text: string): string | null {
  const at = Math.max(text.lastIndexOf("//# sourceMappingURL="), text.lastIndexOf("//@ sourceMappingURL="));
  if (at < 0) return null;
  const m = /^[#@] sourceMappingURL=(\S+)\s*$/.exec(text.slice(at + 2));
  return m ? m[1] : null;
}

function sourcePath(source: string): string {
  if (source.startsWith("file:")) {
    try {
      return fileURLToPath(source);
    } catch {
      // Not a path on this platform: the URL as it is.
    }
  }
  return source;
}

/** A profile's script URL as a file path (file: URLs); any other URL as it is. */
export function urlToFile(url: string): string {
  if (url.startsWith("file:")) {
    try {
      return fileURLToPath(url);
    } catch {
      // Not a path on this platform: the URL as it is.
    }
  }
  return url;
}
