// Where tsprofile itself is installed, so its own frames (session/, runtimes/, wasm/, src/, dist/) can be recognised
// and hidden.
// Kept free of runtime-specific imports so the classifier can use it on every runtime.
import { readFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let here: string;
  try {
    here = dirname(fileURLToPath(import.meta.url));
  } catch {
    return ""; // not loaded from a file (e.g. a remote module): nothing on disk is ours
  }
  // Walk up to our package.json: this file sits at session/ in the source tree but in dist/ once bundled.
  for (let dir = here;; dir = dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name === "tsprofile") return dir;
    } catch {
      // no readable package.json here: keep walking up
    }
    if (dirname(dir) === dir) break;
  }
  return resolve(here, "..");
}

/** The tsprofile package root (absolute path, no trailing separator); "" when unknown. */
export const TSPROFILE_ROOT: string = findRoot();

const OWN_DIRS = TSPROFILE_ROOT
  ? ["session", "runtimes", "wasm", "src", "dist"].map((d) => join(TSPROFILE_ROOT, d) + sep)
  : [];

/** True for files of tsprofile itself (its session/, runtimes/, wasm/, src/ and dist/), whose frames are the
 * profiler's own. */
export function isTsprofileFile(file: string): boolean {
  for (const d of OWN_DIRS) if (file.startsWith(d)) return true;
  return false;
}

/** tsprofile's own dependencies, which only it calls while the program runs (source maps, locating functions). */
const OWN_DEPENDENCIES =
  /[\\/]node_modules[\\/](?:acorn|@sveltejs[\\/]acorn-typescript|esbuild|@esbuild|@jridgewell|pprof-format)[\\/]/;

/**
 * True for code that runs as part of tsprofile's work: its own files and its dependencies. A frame of the program
 * below one of tsprofile's (a callback the wait tracker's wrapper runs, profile()'s function) is the program's again.
 */
export function isTsprofileWork(file: string): boolean {
  return isTsprofileFile(file) || OWN_DEPENDENCIES.test(file);
}
