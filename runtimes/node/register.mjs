// `node --import .../register.mjs script.ts`: TypeScript support for ES modules (loader hooks) and for
// require() (a require extension), both transpiling with the same esbuild options.
import { register, createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { transpile } from "./transpile.mjs";

register("./ts-hooks.mjs", import.meta.url);

// Tells src/sourcemaps.ts that .ts files in this process ran through our transpiler, and which of them as
// CommonJS (the ESM hooks run on another thread, so everything not recorded here was transpiled as ESM).
const state = (globalThis[Symbol.for("tsprofile.loader")] ??= { cjs: new Set() });

const Module = createRequire(import.meta.url)("node:module");
for (const ext of [".ts", ".cts", ".tsx"]) {
  Module._extensions[ext] = function (module, filename) {
    state.cjs.add(filename);
    module._compile(transpile(readFileSync(filename, "utf8"), filename, "cjs").code, filename);
  };
}
