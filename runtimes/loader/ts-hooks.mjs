// Module loader hooks: TypeScript files are transpiled with esbuild, and TypeScript's `./x.js` -> `./x.ts` import
// convention resolves. With await attribution on (register.mjs), the program's own ES modules are instrumented
// after that (runtimes/awaits/instrument.mjs); CommonJS is instrumented by register.mjs's require extensions.
// Two forms of the same hooks: asynchronous ones for module.register() (Node's loader thread: Node < 22.15), and
// synchronous ones (the *Sync exports) for module.registerHooks() in the program's thread, which spares the loader
// thread's start (45 ms of a trivial program's start on Node 24; ~80 more under load).
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transpile, TS_FILE } from "../../session/source/transpile.mjs";
import { formatOf } from "../../session/source/ts-format.mjs";
import { instrumentFile } from "../awaits/instrument.mjs";

// The entry script, transpiled (TypeScript) and instrumented (await attribution) while register() waits for
// initialize(): that cost is paid before the sampler starts instead of showing in the profile as time the program
// spent idle (an .mjs entry's instrumentation on Node 20's loader thread: 23 ms of [idle], 1.1-1.5% of a 2 s run).
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

/**
 * `then` for a value that is a promise in the asynchronous hooks and plain in the synchronous ones.
 * @template T, U
 * @param {T | Promise<T>} value
 * @param {(v: T) => U} f
 * @returns {U | Promise<Awaited<U>>}
 */
const after = (value, f) =>
  value instanceof Promise ? /** @type {Promise<Awaited<U>>} */ (value.then(f)) : f(/** @type {T} */ (value));

/**
 * The entry script's code, ready before it is loaded.
 * @param {{ entry?: string, awaits?: boolean } | undefined} data what register.mjs passes
 * @param {(file: string) => string | Promise<string>} read
 */
function warm(data, read) {
  awaits = data?.awaits === true;
  const entry = data?.entry;
  if (typeof entry !== "string") return;
  const typescript = TS_FILE.test(entry);
  // JavaScript: only its instrumentation to do, used if it loads as an ES module (see loadWith).
  if (!typescript && !(awaits && /\.m?jsx?$/.test(entry))) return;
  const ready = (/** @type {string} */ source) => {
    if (!typescript) warmed.set(entry, { source, code: instrumented(entry, source) });
    else if (formatOf(entry, source) === "module") {
      warmed.set(entry, { source, code: instrumented(entry, transpile(source, entry, "esm").code) });
    }
  };
  try {
    return after(read(entry), ready)?.catch?.(() => {});
  } catch {
    // the real load reports any problem with the file
  }
}

/** @param {{ entry?: string, awaits?: boolean } | undefined} data what register.mjs passes */
export async function initialize(data) {
  await warm(data, (f) => readFile(f, "utf8"));
}

/** @param {{ entry?: string, awaits?: boolean } | undefined} data */
export function initializeSync(data) {
  warm(data, (f) => readFileSync(f, "utf8"));
}

/**
 * The `.ts` twin of a relative `.js` import from a TypeScript file, or undefined.
 * @param {string} specifier
 * @param {{ parentURL?: string }} context
 */
function tsTwin(specifier, context) {
  const relative = specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("file:");
  const fromTs = context.parentURL && TS_FILE.test(context.parentURL);
  return relative && fromTs && /\.[mc]?js$/.test(specifier) ? specifier.replace(/js$/, "ts") : undefined;
}

/** @type {import("node:module").ResolveHook} */
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const twin = tsTwin(specifier, context);
    if (twin) {
      try {
        return await next(twin, context);
      } catch {
        // no .ts twin either: the original error is the one to report
      }
    }
    throw err;
  }
}

/**
 * resolve() for module.registerHooks (its types are not in @types/node 20).
 * @param {string} specifier
 * @param {{ parentURL?: string }} context
 * @param {(specifier: string, context: any) => any} next
 */
export function resolveSync(specifier, context, next) {
  try {
    return next(specifier, context);
  } catch (err) {
    const twin = tsTwin(specifier, context);
    if (twin) {
      try {
        return next(twin, context);
      } catch {
        // no .ts twin either: the original error is the one to report
      }
    }
    throw err;
  }
}

/**
 * The load hook of either form: `next` and `read` return promises in the asynchronous one.
 * @param {string} url
 * @param {any} context
 * @param {(url: string, context: any) => any} next
 * @param {(file: string) => string | Promise<string>} read
 */
function loadWith(url, context, next, read) {
  if (!url.startsWith("file:")) return next(url, context);
  if (!TS_FILE.test(url)) {
    return after(next(url, context), (/** @type {any} */ loaded) => {
      if (!awaits || loaded.format !== "module" || loaded.source == null) return loaded;
      const file = fileURLToPath(url);
      const code = typeof loaded.source === "string" ? loaded.source : new TextDecoder().decode(loaded.source);
      const warm = warmed.get(file);
      warmed.delete(file);
      const source = warm && warm.source === code ? warm.code : instrumented(file, code);
      return source === code ? loaded : { ...loaded, source };
    });
  }
  const file = fileURLToPath(url);
  return after(read(file), (source) => {
    const warm = warmed.get(file);
    warmed.delete(file);
    if (warm && warm.source === source) return { format: "module", source: warm.code, shortCircuit: true };
    const format = formatOf(file, source);
    // CommonJS goes through the require hook registered in register.mjs (Node 20 ignores source for commonjs).
    if (format === "commonjs") return { format, shortCircuit: true };
    return { format: "module", source: instrumented(file, transpile(source, file, "esm").code), shortCircuit: true };
  });
}

/** @type {import("node:module").LoadHook} */
export async function load(url, context, next) {
  return await loadWith(url, context, next, (f) => readFile(f, "utf8"));
}

/**
 * load() for module.registerHooks.
 * @param {string} url
 * @param {any} context
 * @param {(url: string, context: any) => any} next
 */
export function loadSync(url, context, next) {
  return loadWith(url, context, next, (f) => readFileSync(f, "utf8"));
}
