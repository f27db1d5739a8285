// Decides whether a TypeScript file is an ES module or CommonJS, the way Node does for .js:
// .mts/.cts by extension, otherwise the nearest package.json "type", otherwise by syntax.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const TS_FILE = /\.(?:[mc]?ts|tsx)$/;

const typeCache = new Map();

function packageType(dir) {
  if (typeCache.has(dir)) return typeCache.get(dir);
  let type = null;
  try {
    type = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).type ?? "commonjs";
  } catch {
    const parent = dirname(dir);
    type = parent === dir ? null : packageType(parent);
  }
  typeCache.set(dir, type);
  return type;
}

const ESM_SYNTAX = /^\s*(?:import\s*[\w{*'"]|export\s|import\s*\()|\bimport\.meta\b|^\s*await\s/m;

export function formatOf(file, source) {
  if (file.endsWith(".mts")) return "module";
  if (file.endsWith(".cts")) return "commonjs";
  const type = packageType(dirname(file));
  if (type === "module") return "module";
  if (type === "commonjs" && !ESM_SYNTAX.test(source)) return "commonjs";
  return ESM_SYNTAX.test(source) || type === null ? "module" : "commonjs";
}
