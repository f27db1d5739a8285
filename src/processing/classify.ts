// Per-frame classification, computed once per unique frame (never per sample) and handed to the core as flags
// (FrameFlag) and a library-name table: runtime internals, tsprofile's own frames, library code, and the
// --hide/--show overrides. Also the short paths reports print.
import { fileURLToPath } from "node:url";
import { UsageError } from "../../session/errors.ts";
import { isTruncatedFrame } from "../../session/frames.ts";
import { FrameFlag, NO_LIBRARY } from "../../session/types.ts";
import type { FrameInfo } from "../../session/types.ts";

export interface ClassifyOptions {
  /** The profiled program's working directory (for labels of --hide'd app paths). */
  cwd: string;
  /** Globs (fnmatch-style: * and ** match anything including "/", ? one character, [...] a class). */
  hide?: string[];
  hideRegex?: string[];
  show?: string[];
  showRegex?: string[];
  /** tsprofile's package root: frames in its src/, runtimes/, dist/ and wasm/ are marked hidden. */
  ownRoot?: string;
  /**
   * The program as the session names it (meta.program: its script, then its arguments). A script inside a package
   * in node_modules (`--from-path tsc`) makes that package the application: its frames are not library code.
   */
  program?: string;
}

export interface Classification {
  /** Per frame: FrameFlag bits. */
  flags: Uint8Array;
  /** Per frame: index into libraryNames, or NO_LIBRARY. */
  library: Uint32Array;
  libraryNames: string[];
}

/** Label of frames that have no source file (V8/JSC builtins such as Array.prototype.sort, JSON.parse). */
export const NATIVE_LIBRARY = "native";

// No-file frames that are the runtime's glue rather than anything the user called (V8's ModuleWrap
// evaluate/instantiate in Node's ESM loader, JSC's module pipeline in Bun, profile roots, the microtask runners
// that resume awaiting code: as internals, the resumed code is stitched under its awaiting callers; Deno's
// worker start-up, where a Web Worker's thread waits ~0.5 s before its module runs and which otherwise showed as a
// root function of the worker's report). Bun's is an unnamed host function: nothing of a program's own is a
// function without a name or a file.
const GLUE_NAMES = new Set([
  "(root)",
  "(program)",
  "runMicrotasks",
  "op_run_microtasks",
  "op_worker_maybe_wait_for_debugger",
  "(anonymous)",
  "evaluate",
  "instantiate",
  "moduleEvaluation",
  "asyncModuleEvaluation",
  "loadAndEvaluateModule",
  "linkAndEvaluateModule",
  "requestImportModule",
]);

/** A file:// URL as a path; anything else (paths, node:, ext:, https:) unchanged. */
export function toPath(file: string): string {
  if (!file.startsWith("file:")) return file;
  try {
    return fileURLToPath(file);
  } catch {
    return file;
  }
}

function slashes(path: string): string {
  return path.includes("\\") ? path.replace(/\\/g, "/") : path;
}

/** Runtime internals: removed from reports unless showAll. */
export function isInternal(frame: FrameInfo): boolean {
  const f = frame.file;
  if (f === "" || f === "[native code]") return frame.kind === "runtime" || GLUE_NAMES.has(frame.name);
  return (
    f.startsWith("node:internal") ||
    f.startsWith("internal/") || // Node before it prefixed its internals with node:
    f.startsWith("ext:") || // Deno: ext:core, ext:deno_*, ext:runtime
    f.startsWith("bun:") ||
    f.startsWith("builtin://") ||
    f.startsWith("internal:")
  );
}

/** The package of the innermost node_modules in a path ("@scope/pkg" or "pkg"), or "" when there is none. */
export function nodeModulesPackage(path: string): string {
  const p = slashes(path);
  const at = p.lastIndexOf("/node_modules/");
  const rest = at >= 0 ? p.slice(at + 14) : p.startsWith("node_modules/") ? p.slice(13) : null;
  if (rest === null) {
    // Deno's global npm cache: .../registry.npmjs.org/<pkg>/<version>/...
    const reg = p.lastIndexOf("/registry.npmjs.org/");
    if (reg < 0) return "";
    return packageOf(p.slice(reg + 20));
  }
  return packageOf(rest);
}

function packageOf(rest: string): string {
  const parts = rest.split("/");
  if (parts[0].startsWith("@") && parts.length > 1) return `${parts[0]}/${parts[1]}`;
  return parts[0];
}

/**
 * The folder of the package in node_modules a program's script lies in ("/p/node_modules/typescript/"), or "". The
 * script is what comes before the first space (a path with spaces is left alone: no package, as before).
 */
function programPackageDir(program: string): string {
  const script = slashes(program.split(" ", 1)[0]);
  const at = script.lastIndexOf("/node_modules/");
  if (at < 0) return "";
  const pkg = packageOf(script.slice(at + 14));
  return pkg && script.length > at + 14 + pkg.length ? script.slice(0, at + 14 + pkg.length + 1) : "";
}

/** The library a frame belongs to by default, or "" for application code. Internals are not asked. */
function defaultLibrary(path: string): string {
  if (path === "" || path === "[native code]") return NATIVE_LIBRARY;
  const pkg = nodeModulesPackage(path);
  if (pkg) return pkg;
  if (path.startsWith("node:")) return path.split("/", 1)[0]; // node:fs/promises -> node:fs
  if (path.startsWith("jsr:") || path.startsWith("npm:")) return packageOf(path.slice(4)).replace(/@[^@/]*$/, "");
  if (path.startsWith("https://") || path.startsWith("http://")) return remoteLibrary(path);
  return "";
}

/** Deno remote modules: jsr.io/@scope/pkg/..., deno.land/std@x/..., deno.land/x/name@v/..., else the host. */
function remoteLibrary(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  const parts = u.pathname.split("/").filter(Boolean);
  if (u.hostname === "jsr.io" && parts.length >= 2 && parts[0].startsWith("@")) return `${parts[0]}/${parts[1]}`;
  if (u.hostname === "deno.land") {
    if (parts[0] === "x" && parts[1]) return parts[1].split("@")[0];
    if (parts[0]) return parts[0].split("@")[0];
  }
  if ((u.hostname === "esm.sh" || u.hostname === "cdn.jsdelivr.net" || u.hostname === "unpkg.com") && parts.length) {
    const pkg = parts[0] === "npm" ? parts.slice(1) : parts;
    return packageOf(pkg.join("/")).replace(/(.)@[^/]*$/, "$1");
  }
  return u.hostname;
}

function isOwnFrame(path: string, ownRoot: string): boolean {
  const root = slashes(ownRoot).replace(/\/+$/, "");
  const p = slashes(path);
  if (!p.startsWith(root + "/")) return false;
  const rest = p.slice(root.length + 1);
  return /^(src|runtimes|dist|wasm)\//.test(rest);
}

/**
 * fnmatch-style glob to a RegExp over the whole string. Like Python's fnmatch (which pyinstrument's --hide
 * uses), "*" also matches "/", so "*\/node_modules/*" and "**\/x/**" both do what people expect.
 */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      while (glob[i + 1] === "*") i++;
      re += "[\\s\\S]*";
    } else if (c === "?") {
      re += "[\\s\\S]";
    } else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body[0] === "!";
      if (negate) body = body.slice(1);
      body = body.replace(/[\\\]^]/g, "\\$&");
      re += negate ? `[^${body}]` : `[${body}]`;
      i = end;
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
  }
  return new RegExp(`^(?:${re})$`);
}

function compileRegexes(option: string, sources: string[] | undefined): RegExp[] {
  return (sources ?? []).map((source) => {
    try {
      return new RegExp(source);
    } catch (err) {
      const why = String((err as Error).message ?? err).split("\n")[0];
      throw new UsageError(`${option}: invalid regular expression ${JSON.stringify(source)} (${why})`);
    }
  });
}

/** A label for application files the user --hide'd: the first directory under cwd, else the parent folder. */
function hiddenAppLibrary(path: string, cwd: string): string {
  const short = shortPath(path, cwd);
  const parts = slashes(short).split("/").filter((s) => s && s !== "..");
  if (parts.length >= 2) return short.startsWith("/") ? parts[parts.length - 2] : parts[0];
  return parts[0] ?? path;
}

export function classifyFrames(frames: FrameInfo[], options: ClassifyOptions): Classification {
  const hide = [...(options.hide ?? []).map(globToRegExp), ...compileRegexes("--hide-regex", options.hideRegex)];
  const show = [...(options.show ?? []).map(globToRegExp), ...compileRegexes("--show-regex", options.showRegex)];
  const n = frames.length;
  const flags = new Uint8Array(n);
  const library = new Uint32Array(n).fill(NO_LIBRARY);
  const libraryNames: string[] = [];
  const libraryIds = new Map<string, number>();
  const libraryId = (name: string): number => {
    let id = libraryIds.get(name);
    if (id === undefined) {
      id = libraryNames.length;
      libraryNames.push(name);
      libraryIds.set(name, id);
    }
    return id;
  };
  // Frames of one file share their answer: patterns are tested once per file, not once per frame.
  const byFile = new Map<string, { flags: number; lib: string }>();
  const programDir = options.program ? programPackageDir(options.program) : "";

  for (let i = 0; i < n; i++) {
    const frame = frames[i];
    // The root of a stack the engine cut short (session/frames.ts) is what the report must show of it: never an
    // internal, a library or a --hide/--show match (its empty path would match "*").
    if (isTruncatedFrame(frame)) continue;
    let lib = "";
    let f = 0;
    const cached = frame.file !== "" && frame.kind !== "runtime" ? byFile.get(frame.file) : undefined;
    if (cached) {
      f = cached.flags;
      lib = cached.lib;
    } else {
      const path = toPath(frame.file);
      if (isInternal(frame)) f |= FrameFlag.internal;
      else if (options.ownRoot && path && isOwnFrame(path, options.ownRoot)) f |= FrameFlag.hidden;
      else if (!programDir || !slashes(path).startsWith(programDir)) {
        lib = defaultLibrary(path);
        if (lib) f |= FrameFlag.library;
      }
      // Overrides: --show wins over --hide, which wins over the defaults. A shown frame is shown whatever it is.
      if (show.length && show.some((re) => re.test(path))) {
        f = 0;
        lib = "";
      } else if (hide.length && hide.some((re) => re.test(path))) {
        f |= FrameFlag.library;
        if (!lib) lib = path ? hiddenAppLibrary(path, options.cwd) : NATIVE_LIBRARY;
      }
      if (frame.file !== "" && frame.kind !== "runtime") byFile.set(frame.file, { flags: f, lib });
    }
    // A builtin (no source, or a runtime module's such as node:net): the runtime's own work where only the runtime
    // calls it (core-rs/SPEC.md, awaits). Undici writing a fetch's request through node:net, called from the
    // event loop, is no work of the program's (2.5 points of an awaiting function's share, 150 fetches).
    const noSource = frame.file === "" || frame.file === "[native code]";
    if ((noSource || frame.kind === "runtime") && !(f & FrameFlag.internal)) f |= FrameFlag.builtin;
    flags[i] = f;
    if (lib) library[i] = libraryId(lib);
  }
  return { flags, library, libraryNames };
}

/**
 * The path a report prints: from the innermost node_modules for package code ("node_modules/pkg/lib/x.js"),
 * relative to cwd inside it, node:/ext:/https: URLs as they are, other paths absolute.
 */
export function shortPath(file: string, cwd: string): string {
  if (file === "") return "";
  const path = toPath(file);
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path)) return path; // a URL, not C:\...
  const p = slashes(path);
  const at = p.lastIndexOf("/node_modules/");
  if (at >= 0) return p.slice(at + 1);
  const base = slashes(cwd).replace(/\/+$/, "");
  if (base && p.startsWith(base + "/")) return p.slice(base.length + 1);
  return p;
}
