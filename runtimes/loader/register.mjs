// `node --import .../register.mjs script.ts`: TypeScript support for ES modules (loader hooks) and for
// require() (a require extension), both transpiling with the same esbuild options. Under the CLI with await
// attribution on, the program's own JavaScript is also instrumented as it loads (runtimes/awaits/instrument.mjs),
// ES modules in the hooks, CommonJS here.
import * as nodeModule from "node:module";
import { initializeSync, loadSync, resolveSync } from "./ts-hooks.mjs";
import { readFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
import { transpile, TS_FILE } from "../../session/source/transpile.mjs";
import { formatOf } from "../../session/source/ts-format.mjs";
import { awaitShiftsFor, instrumentFile, isProgramFile } from "../awaits/instrument.mjs";
import { installStackColumns } from "../awaits/stack-columns.mjs";
import { installAwaitRecorder } from "../awaits/await-recorder.mjs";

import { dirname, join, resolve } from "node:path";

/**
 * Whether to instrument the program's awaits: the CLI's child with await attribution on (TSPROFILE_CHILD, which
 * runtimes/preload reads next), unless TSPROFILE_AWAIT_INSTRUMENT=0. Known costs: an uncaught error on an
 * instrumented line shows the instrumented source text, the recorder's memory grows with every activation of a
 * long run, and each await pays ~0.3 us (bench/README.md).
 */
function awaitsWanted() {
  const raw = process.env.TSPROFILE_CHILD;
  if (raw === undefined || !isMainThread || process.env.TSPROFILE_AWAIT_INSTRUMENT === "0") return false;
  try {
    const mode = JSON.parse(raw).asyncMode;
    return mode === undefined || mode === "enabled" || mode === "strict";
  } catch {
    return false; // the preload reports it
  }
}
const awaits = awaitsWanted();
if (awaits) installAwaitRecorder();

// process.argv[1] is the entry script already when --import modules run; the hooks pre-transpile it.
const entry = process.argv[1] ? resolve(process.argv[1]) : undefined;
// Node >= 22.15 running JavaScript: the hooks in this thread, which spares the loader thread's start (45 ms of a
// trivial program's on Node 24). A TypeScript program keeps the loader thread: transpiling in this thread would
// start esbuild's own service thread here, and its waits would show in the profile.
const { registerHooks } = /** @type {{ registerHooks?: (hooks: object) => unknown }} */ (nodeModule);
if (typeof registerHooks === "function" && !(entry && TS_FILE.test(entry))) {
  initializeSync({ entry, awaits });
  registerHooks({ resolve: resolveSync, load: loadSync });
} else nodeModule.register("./ts-hooks.mjs", import.meta.url, { data: { entry, awaits } });

// Tells session/source/sourcemaps.ts that .ts files in this process ran through our transpiler, and which of them as
// CommonJS (everything not recorded here was transpiled as ESM, by the hooks); with
// instrumentation, how to redo it for positions, and which JavaScript files it took as CommonJS.
/**
 * What session/source/sourcemaps.ts reads (its LoaderState).
 * @typedef {{ cjs: Set<string>, scripts?: Set<string>,
 *   awaits?: (file: string, code: string, script: boolean) => { unshift(line: number, col: number): number } | null
 * }} LoaderState
 */
const slots = /** @type {Record<symbol, LoaderState | undefined>} */ (globalThis);
const state = (slots[Symbol.for("tsprofile.loader")] ??= { cjs: new Set() });
if (awaits) {
  state.awaits = awaitShiftsFor;
  state.scripts = new Set();
  installStackColumns(shiftsOfFile);
}

/** The instrumentation's shifts of a file of this process (redone from the file, as sourcemaps.ts does). */
function shiftsOfFile(/** @type {string} */ file) {
  if (!isProgramFile(file)) return null;
  const source = readFileSync(file, "utf8");
  if (!TS_FILE.test(file)) return awaitShiftsFor(file, source, state.scripts?.has(file) === true);
  const format = state.cjs.has(file) || formatOf(file, source) === "commonjs" ? "cjs" : "esm";
  return awaitShiftsFor(file, transpile(source, file, format).code, format === "cjs");
}

const Module = nodeModule.createRequire(import.meta.url)("node:module");
for (const ext of [".ts", ".cts", ".tsx"]) {
  /**
   * @param {{ _compile(code: string, filename: string): unknown }} module
   * @param {string} filename
   */
  Module._extensions[ext] = function (module, filename) {
    state.cjs.add(filename);
    const code = transpile(readFileSync(filename, "utf8"), filename, "cjs").code;
    module._compile(awaits ? instrumentFile(filename, code, true) ?? code : code, filename);
  };
}
if (awaits) {
  for (const ext of [".js", ".cjs"]) {
    // Node 20 has no ".cjs" handler of its own: it loads .cjs files with the ".js" one.
    const original = Module._extensions[ext] ?? Module._extensions[".js"];
    /**
     * @this {unknown}
     * @param {{ _compile(code: string, filename: string): unknown }} module
     * @param {string} filename
     */
    const instrumented = function (module, filename) {
      let code = null;
      try {
        // A .js file of a "type": "module" package is an ES module that require() loads: Node's own handling.
        if (ext === ".cjs" || !inModulePackage(filename)) {
          code = instrumentFile(filename, readFileSync(filename, "utf8"), true);
        }
      } catch {
        code = null;
      }
      if (code === null) return Reflect.apply(original, this, [module, filename]);
      state.scripts?.add(filename);
      module._compile(code, filename);
    };
    Module._extensions[ext] = instrumented;
  }
}

/** Per folder, whether the nearest package.json says "type": "module". @type {Map<string, boolean>} */
const moduleType = new Map();
function inModulePackage(/** @type {string} */ file) {
  const seen = [];
  let answer = false;
  for (let dir = dirname(file);; dir = dirname(dir)) {
    const known = moduleType.get(dir);
    if (known !== undefined) {
      answer = known;
      break;
    }
    seen.push(dir);
    try {
      answer = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).type === "module";
      break;
    } catch {
      // none here (or unreadable): keep walking up
    }
    if (dirname(dir) === dir) break;
  }
  for (const d of seen) moduleType.set(d, answer);
  return answer;
}
