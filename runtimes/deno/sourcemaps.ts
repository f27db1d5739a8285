// Maps Deno's frame positions back to the TypeScript the user wrote. V8 reports positions in Deno's transpiled
// JavaScript, and Deno tells the inspector neither the emit's map (no sourceMapURL in Debugger.scriptParsed) nor
// where it keeps it; but it caches every local emit with an inline map at $DENO_DIR/gen/file/<absolute path>.js
// (the map comment is followed by a `// denoCacheMetadata=` line). Never throws: a position that cannot be mapped
// comes back unchanged. Other files (JavaScript with its own map comment) go to the generic mapper.
// The emit's map is decoded here, without a dependency: a bare import would have to resolve in the profiled
// program's own Deno configuration, which knows nothing of tsprofile's.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createSourceMapper, recordedShifts, type SourceMapper } from "../../session/source/sourcemaps.ts";

/** Files Deno transpiles before running them (plain .js/.mjs/.cjs run as written). */
const EMITTED = /\.(?:[mc]?tsx?|jsx)$/;

/** Deno's cache directory: $DENO_DIR, else the platform's cache directory + "/deno" (what `deno info` prints). */
export function denoDir(
  env: Record<string, string | undefined> = process.env,
  platform: string = process.platform,
): string {
  if (env.DENO_DIR) return resolve(env.DENO_DIR);
  const home = env.HOME || env.USERPROFILE || safeHomedir();
  if (platform === "darwin") return join(home, "Library", "Caches", "deno");
  if (platform === "win32") return join(env.LOCALAPPDATA || join(home, "AppData", "Local"), "deno");
  return join(env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(home, ".cache"), "deno");
}

function safeHomedir(): string {
  try {
    return homedir();
  } catch {
    return "";
  }
}

/** Where Deno caches the emit of a local module: gen/file/ + the absolute path (a Windows drive loses its colon). */
export function emitPath(dir: string, file: string): string {
  const parts = file.replace(/\\/g, "/").split("/").filter((p) => p !== "");
  if (parts.length > 0 && /^[A-Za-z]:$/.test(parts[0])) parts[0] = parts[0][0];
  return join(dir, "gen", "file", ...parts) + ".js";
}

const INLINE_MAP = new RegExp(
  String.raw`//# sourceMappingURL=data:application/json;base64,([A-Za-z0-9+/=]+)\s*` +
    String.raw`(?:// denoCacheMetadata=\S*\s*)?$`,
);

/** The source map inlined in a Deno emit, or null. */
export function emitMap(text: string): unknown | null {
  const m = INLINE_MAP.exec(text);
  if (!m) return null;
  const bytes = Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

export function createDenoSourceMapper(dir: string = denoDir()): SourceMapper {
  const generic = createSourceMapper();
  const maps = new Map<string, DecodedMap | null>();

  function mapFor(file: string): DecodedMap | null {
    let dm = maps.get(file);
    if (dm === undefined) {
      dm = null;
      try {
        const map = emitMap(readFileSync(emitPath(dir, file), "utf8"));
        if (map) dm = decodeMap(map as RawMap, pathToFileURL(file).href);
      } catch {
        // no emitted code or an unreadable map: the file's frames stay as they ran
      }
      maps.set(file, dm);
    }
    return dm;
  }

  return {
    map(file, line, col) {
      const unchanged = { file, line, col };
      if (!file || line < 1 || !isAbsolute(file)) return unchanged;
      if (!EMITTED.test(file)) return generic.map(file, line, col);
      const dm = mapFor(file);
      if (!dm) return unchanged;
      try {
        // The emit's map is of Deno's emit: first undo what the await instrumentation inserted into it.
        col = recordedShifts(file)?.unshift(line, col) ?? col;
        const o = lookup(dm, line - 1, Math.max(col - 1, 0));
        if (!o) return unchanged;
        let source = o.source;
        if (source.startsWith("file:")) source = fileURLToPath(source);
        return { file: source, line: o.line + 1, col: o.column + 1 };
      } catch {
        return unchanged;
      }
    },
  };
}

// ---- a minimal source map v3 reader (no sections; what Deno's emitter writes) ----

export interface RawMap {
  version: number;
  sources: (string | null)[];
  sourceRoot?: string;
  mappings: string;
}

interface DecodedMap {
  sources: string[];
  /** Per generated line: segments [generated column, source index, original line, original column] (0-based),
   * sorted by generated column; a segment without a source has source index -1. */
  lines: Int32Array[];
}

const B64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charCodeAt(i)] = i;

export function decodeMap(map: RawMap, mapUrl: string): DecodedMap {
  const root = map.sourceRoot ? map.sourceRoot.replace(/\/?$/, "/") : "";
  const sources = (map.sources ?? []).map((s) => {
    try {
      return new URL(root + (s ?? ""), mapUrl).href;
    } catch {
      return s ?? "";
    }
  });
  const lines: Int32Array[] = [];
  const text = map.mappings ?? "";
  let src = 0;
  let oLine = 0;
  let oCol = 0;
  let i = 0;
  while (i <= text.length) {
    // One generated line (segments separated by ',' and lines by ';'); the generated column restarts at 0.
    const segs: number[] = [];
    let gCol = 0;
    while (i < text.length && text[i] !== ";") {
      if (text[i] === ",") {
        i++;
        continue;
      }
      const fields: number[] = [];
      while (i < text.length && text[i] !== "," && text[i] !== ";") {
        let value = 0;
        let shift = 0;
        let digit: number;
        do {
          digit = B64[text.charCodeAt(i++)] ?? -1;
          if (digit < 0) throw new Error("bad mappings");
          value += (digit & 31) * 2 ** shift;
          shift += 5;
        } while (digit & 32);
        fields.push(value & 1 ? -Math.floor(value / 2) : Math.floor(value / 2));
      }
      gCol += fields[0] ?? 0;
      if (fields.length >= 4) {
        src += fields[1];
        oLine += fields[2];
        oCol += fields[3];
        segs.push(gCol, src, oLine, oCol);
      } else segs.push(gCol, -1, 0, 0);
    }
    const line = Int32Array.from(segs);
    // Emitters write columns in order; sort defensively by column (stable by position) if one did not.
    let sorted = true;
    for (let k = 4; k < line.length; k += 4) if (line[k] < line[k - 4]) sorted = false;
    if (!sorted) {
      const order = Array.from({ length: line.length / 4 }, (_, k) => k);
      order.sort((a, b) => line[a * 4] - line[b * 4] || a - b);
      const sorted = order.flatMap((k) => [line[k * 4], line[k * 4 + 1], line[k * 4 + 2], line[k * 4 + 3]]);
      lines.push(Int32Array.from(sorted));
    } else lines.push(line);
    i++; // past ';'
  }
  return { sources, lines };
}

/**
 * The original position of a 0-based generated position. V8 reports a function at its parameter list; the
 * nearest mapped token at or before it on the line is its name or keyword, on the original function's line
 * (session/source/sourcemaps.ts does the same through trace-mapping); failing that, the first token after it.
 */
export function lookup(
  map: DecodedMap,
  line: number,
  column: number,
): { source: string; line: number; column: number } | null {
  const segs = map.lines[line];
  if (!segs || segs.length === 0) return null;
  let at = -1;
  for (let k = 0; k < segs.length; k += 4) {
    if (segs[k] <= column) at = k;
    else break;
  }
  if (at < 0 || segs[at + 1] < 0) {
    at = -1;
    for (let k = 0; k < segs.length; k += 4) {
      if (segs[k] >= column && segs[k + 1] >= 0) {
        at = k;
        break;
      }
    }
  }
  if (at < 0 || segs[at + 1] < 0 || segs[at + 1] >= map.sources.length) return null;
  return { source: map.sources[segs[at + 1]], line: segs[at + 2], column: segs[at + 3] };
}
