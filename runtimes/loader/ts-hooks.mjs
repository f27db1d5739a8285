// Module loader hooks (run on Node's loader thread): TypeScript files are transpiled with esbuild,
// and TypeScript's `./x.js` -> `./x.ts` import convention resolves. With await attribution on (register.mjs),
// the program's own ES modules are instrumented after that (runtimes/awaits/instrument.mjs); CommonJS is
// instrumented by register.mjs's require extensions.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transpile, TS_FILE } from "../../session/source/transpile.mjs";
import { formatOf } from "../../session/source/ts-format.mjs";
import { instrumentFile } from "../awaits/instrument.mjs";

// The entry script, transpiled while register() waits for initialize(): that cost is paid before the sampler
// starts instead of showing in the profile as time the program spent idle.
const warmed = new Map();
let awaits = false;

/** The module's code as it runs: instrumented when await attribution is on and the file is the program's. */
function instrumented(/** @type {string} */ file, /** @type {string} */ code) {
  if (!awaits) return code;
  try {
    return instrumentFile(file, code, false) ?? code;
  } catch {
    return code; // never a failed load of ours: the module runs as it is
  }
}

/** @param {{ entry?: string, awaits?: boolean } | undefined} data what register.mjs passes */
export async function initialize(data) {
  awaits = data?.awaits === true;
  const entry = data?.entry;
  if (typeof entry !== "string" || !TS_FILE.test(entry)) return;
  try {
    const source = await readFile(entry, "utf8");
    const format = formatOf(entry, source);
    if (format === "module") {
      warmed.set(entry, { source, code: instrumented(entry, transpile(source, entry, "esm").code) });
    }
  } catch {
    // the real load reports any problem with the file
  }
}

/** @type {import("node:module").ResolveHook} */
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const relative = specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("file:");
    const fromTs = context.parentURL && TS_FILE.test(context.parentURL);
    if (relative && fromTs && /\.[mc]?js$/.test(specifier)) {
      try {
        return await next(specifier.replace(/js$/, "ts"), context);
      } catch {
        // no .ts twin either: the original error is the one to report
      }
    }
    throw err;
  }
}

/** @type {import("node:module").LoadHook} */
export async function load(url, context, next) {
  if (!url.startsWith("file:")) return next(url, context);
  if (!TS_FILE.test(url)) {
    const loaded = await next(url, context);
    if (!awaits || loaded.format !== "module" || loaded.source == null) return loaded;
    const file = fileURLToPath(url);
    const code = typeof loaded.source === "string" ? loaded.source : new TextDecoder().decode(loaded.source);
    const source = instrumented(file, code);
    return source === code ? loaded : { ...loaded, source };
  }
  const file = fileURLToPath(url);
  const source = await readFile(file, "utf8");
  const warm = warmed.get(file);
  warmed.delete(file);
  if (warm && warm.source === source) return { format: "module", source: warm.code, shortCircuit: true };
  const format = formatOf(file, source);
  // CommonJS goes through the require hook registered in register.mjs (Node 20 ignores source for commonjs).
  if (format === "commonjs") return { format, shortCircuit: true };
  return { format: "module", source: instrumented(file, transpile(source, file, "esm").code), shortCircuit: true };
}
