// Module loader hooks (run on Node's loader thread): TypeScript files are transpiled with esbuild,
// and TypeScript's `./x.js` -> `./x.ts` import convention resolves.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { TS_FILE, transpile } from "./transpile.mjs";
import { formatOf } from "./ts-format.mjs";

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const relative = specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("file:");
    const fromTs = context.parentURL && TS_FILE.test(context.parentURL);
    if (relative && fromTs && /\.[mc]?js$/.test(specifier)) {
      try {
        return await next(specifier.replace(/js$/, "ts"), context);
      } catch {}
    }
    throw err;
  }
}

export async function load(url, context, next) {
  if (!url.startsWith("file:") || !TS_FILE.test(url)) return next(url, context);
  const file = fileURLToPath(url);
  const source = await readFile(file, "utf8");
  const format = formatOf(file, source);
  // CommonJS goes through the require hook registered in register.mjs (Node 20 ignores source for commonjs).
  if (format === "commonjs") return { format, shortCircuit: true };
  return { format: "module", source: transpile(source, file, "esm").code, shortCircuit: true };
}
