// The one place that decides how TypeScript is transpiled on Node. The loader hooks and the source-map
// lookup (session/source/sourcemaps.ts) both call it, so a re-transpile reproduces the exact map the program ran with.
import { createRequire } from "node:module";

// esbuild is loaded on first use: a JavaScript program profiled by the CLI never pays for it.
let esbuild = null;
const loadEsbuild = () => (esbuild ??= createRequire(import.meta.url)("esbuild"));

export { TS_FILE } from "./ts-format.mjs";

/** esbuild options for one file; format is "esm" or "cjs". */
export function transpileOptions(file, format) {
  return {
    loader: file.endsWith("x") ? "tsx" : "ts",
    format,
    target: "node20",
    sourcemap: "inline",
    sourcefile: file,
    sourcesContent: false,
  };
}

/** Transpiles TypeScript source; returns { code, map } (map: the decoded source map object). */
export function transpile(source, file, format) {
  const { code } = loadEsbuild().transformSync(source, transpileOptions(file, format));
  return { code, map: inlineMap(code) };
}

function inlineMap(code) {
  const m = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
  return m ? JSON.parse(Buffer.from(m[1], "base64").toString("utf8")) : null;
}
