// Deno and Bun: the program's awaits instrumented as its modules load (runtimes/awaits/instrument.mjs), as
// runtimes/loader/register.mjs does on Node. Workers do not go through either: their awaits keep the wrappers.
// Positions: what the samplers and Bun's stacks report is in the instrumented code; each file's shifts go in the
// loader state (session/source/sourcemaps.ts's LoaderState.shifts), which the source mappers undo. The recorder's
// sites are put at the file's own positions (sourceSites), where these runtimes' stacks are.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { installAwaitRecorder } from "./await-recorder.mjs";
import { installStackColumns } from "./stack-columns.mjs";
import { instrumentAwaits, isProgramFile, mayHaveAwaits, parseModule, shiftsOf, unshift } from "./instrument.mjs";

/** The loader state's map of instrumented files to their shifts, created with the recorder. */
function shiftsTable() {
  installAwaitRecorder();
  const slots = /** @type {Record<symbol, { cjs: Set<string>, shifts?: Map<string, unknown> } | undefined>} */ (
    /** @type {unknown} */ (globalThis)
  );
  const state = (slots[Symbol.for("tsprofile.loader")] ??= { cjs: new Set() });
  return (state.shifts ??= new Map());
}

/**
 * Instruments `source`; records its shifts and returns the code, or null to run the file as it is.
 * @param {Map<string, unknown>} table @param {string} file @param {string} source
 * @param {{ script?: boolean, typescript?: boolean }} options
 */
function instrumented(table, file, source, options) {
  const done = instrumentAwaits(source, file, { ...options, sourceSites: true });
  if (!done) return null;
  const lines = shiftsOf(source, done.edits);
  table.set(file, { unshift: (/** @type {number} */ l, /** @type {number} */ c) => unshift(lines, l, c) });
  return done.code;
}

/** Deno: modules it runs as code (not JSON, Wasm or text imports). */
const DENO_CODE = /\.(?:[mc]?[jt]sx?)$/;
/** Deno's npm cache: dependencies, like node_modules. */
const DENO_NPM = /[\\/]deno[\\/]npm[\\/]/;

/**
 * Deno 2.9 runs `module.registerHooks` load hooks, registered by a --preload module, for every module of the main
 * module's graph, CommonJS ones included; the source a hook gets is Deno's emit (TypeScript transpiled, its map
 * inline). False (nothing done) on a Deno without registerHooks.
 */
export function instrumentDenoAwaits() {
  /** @type {{ registerHooks?: (hooks: object) => unknown }} */
  const nodeModule = createRequire(import.meta.url)("node:module");
  if (typeof nodeModule.registerHooks !== "function") return false;
  const table = shiftsTable();
  nodeModule.registerHooks({
    load(/** @type {string} */ url, /** @type {unknown} */ context, /** @type {Function} */ next) {
      const result = next(url, context);
      try {
        if (!url.startsWith("file:") || !DENO_CODE.test(url)) return result;
        const file = fileURLToPath(url);
        if (!isProgramFile(file) || DENO_NPM.test(file)) return result;
        const source = typeof result.source === "string" ? result.source : new TextDecoder().decode(result.source);
        const code = instrumented(table, file, source, { script: /\.c[jt]s$/.test(file) });
        return code === null ? result : { ...result, source: code };
      } catch {
        return result; // the module runs as Deno gave it
      }
    },
  });
  return true;
}

/** Bun: files instrumented (ES modules only: JSX and CommonJS are left to Bun). */
const BUN_CODE = /\.(?:m?[jt]s)$/;
/** What makes Bun run a file without import/export as CommonJS (a plugin's CommonJS output is never run: Bun
 * issues 19279 and 39786). */
const COMMONJS_HINTS = /\b(?:require|module|exports|__dirname|__filename)\b/;
/** Static import/export or import.meta: an ES module to Bun. Stricter than session/source/ts-format.mjs's, whose
 * dynamic import() and any line starting with `await` a CommonJS file may have. */
const ESM_SYNTAX = /^\s*(?:import\s*[\w{*'"]|export\s)|\bimport\.meta\b/m;

/**
 * Bun's runtime plugins (Bun.plugin in a --preload module) see every module the program resolves. An onLoad
 * handler must answer for every file its filter matches, and Bun runs CommonJS returned by one as an ES module
 * that never evaluates, so one narrow onLoad is added per file known to be an ES module with awaits, as it is
 * resolved and before Bun loads it. TypeScript is instrumented as written (the TypeScript acorn plugin) and Bun
 * transpiles the result, so lines stay the user's.
 */
export function instrumentBunAwaits() {
  const bun = /** @type {{ Bun?: { plugin(p: object): void, resolveSync(s: string, from: string): string } }} */ (
    /** @type {unknown} */ (globalThis)
  ).Bun;
  if (!bun || typeof bun.plugin !== "function") return false;
  const table = shiftsTable();
  /** @type {Set<string>} */
  const seen = new Set();
  const consider = (/** @type {{ path: string, importer?: string }} */ args) => {
    let file = args.path.startsWith("file:") ? fileURLToPath(args.path) : args.path;
    if (!isAbsolute(file)) file = bun.resolveSync(args.path, args.importer ?? process.cwd());
    if (seen.has(file)) return;
    seen.add(file);
    if (!BUN_CODE.test(file) || !isProgramFile(file)) return;
    const source = readFileSync(file, "utf8");
    if (!mayHaveAwaits(source)) return;
    const esm = /\.m[jt]s$/.test(file) || ESM_SYNTAX.test(source) || !COMMONJS_HINTS.test(source);
    const typescript = /\.m?ts$/.test(file);
    if (!esm || topLevelThis(source, typescript)) return;
    const contents = instrumented(table, file, source, { typescript });
    if (contents === null) return;
    // Error stacks at the user's columns, as on Node, once a file is instrumented (Bun's own printer of an
    // uncaught error shows the engine's).
    if (table.size === 1) installStackColumns((f) => /** @type {any} */ (table.get(f)) ?? null);
    const exact = new RegExp(`^${file.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&")}$`);
    bun.plugin({
      name: "tsprofile-awaits-file",
      setup(/** @type {any} */ build) {
        build.onLoad({ filter: exact }, () => ({ contents, loader: typescript ? "ts" : "js" }));
      },
    });
  };
  bun.plugin({
    name: "tsprofile-awaits",
    setup(/** @type {any} */ build) {
      build.onResolve({ filter: /^(?:\.{0,2}\/|file:)/ }, (/** @type {{ path: string, importer?: string }} */ args) => {
        try {
          consider(args);
        } catch {
          // not ours to fail on: the file loads as Bun loads it
        }
        return undefined;
      });
    },
  });
  // The entry script now, before the sampler starts: instrumenting it as it loads (acorn's first, cold parse) showed
  // as up to 25 ms of [idle] before the program's first line.
  try {
    if (process.argv[1]) consider({ path: process.argv[1] });
  } catch {
    // instrumented as it loads, if it can be
  }
  return true;
}

/** Whether a file without import/export uses `this` at its top level (Bun then runs it as CommonJS). */
function topLevelThis(/** @type {string} */ source, /** @type {boolean} */ typescript) {
  if (ESM_SYNTAX.test(source) || !/\bthis\b/.test(source)) return false;
  /** @type {any} */
  let ast;
  try {
    ast = parseModule(source, typescript);
  } catch {
    return true; // left to Bun
  }
  const stack = [ast];
  while (stack.length) {
    const n = stack.pop();
    if (!n || typeof n.type !== "string") continue;
    if (n.type === "ThisExpression") return true;
    // Functions and classes have a `this` of their own (arrows do not).
    if (/^(?:FunctionDeclaration|FunctionExpression|ClassDeclaration|ClassExpression)$/.test(n.type)) continue;
    for (const k in n) {
      const v = n[k];
      if (Array.isArray(v)) stack.push(...v);
      else if (v && typeof v === "object") stack.push(v);
    }
  }
  return false;
}
