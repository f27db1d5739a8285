// `node --import .../register.mjs script.ts`: TypeScript support for ES modules (loader hooks) and for
// require() (a require extension), both transpiling with the same esbuild options.
import { createRequire, register } from "node:module";
import { readFileSync } from "node:fs";
import { transpile } from "../../session/source/transpile.mjs";

import { resolve } from "node:path";

// process.argv[1] is the entry script already when --import modules run; the hooks pre-transpile it.
const entry = process.argv[1] ? resolve(process.argv[1]) : undefined;
register("./ts-hooks.mjs", import.meta.url, { data: { entry } });

// Tells session/source/sourcemaps.ts that .ts files in this process ran through our transpiler, and which of them as
// CommonJS (the ESM hooks run on another thread, so everything not recorded here was transpiled as ESM).
const slots = /** @type {Record<symbol, { cjs: Set<string> } | undefined>} */ (globalThis);
const state = (slots[Symbol.for("tsprofile.loader")] ??= { cjs: new Set() });

const Module = createRequire(import.meta.url)("node:module");
for (const ext of [".ts", ".cts", ".tsx"]) {
  /**
   * @param {{ _compile(code: string, filename: string): unknown }} module
   * @param {string} filename
   */
  Module._extensions[ext] = function (module, filename) {
    state.cjs.add(filename);
    module._compile(transpile(readFileSync(filename, "utf8"), filename, "cjs").code, filename);
  };
}
