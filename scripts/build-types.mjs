// Emits the .d.ts declarations of every package entry point into dist/types/ (npm's `prepare` and `npm run build`
// run this after scripts/bundle.mjs). The sources import each other as "./x.ts"; a consumer's compiler rejects that
// spelling outside its own sources under most settings (TS5097), so the emitted specifiers are rewritten to "./x.js",
// which every moduleResolution maps to the "./x.d.ts" next to it. Prints nothing on success.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const out = join(root, "dist", "types");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

rmSync(out, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.types.json")], { cwd: root, stdio: "inherit" });
if (r.status !== 0) {
  console.error("build-types: tsc failed (its errors are above)");
  process.exit(1);
}

// `from "./a.ts"`, `import("../b.ts")`, `declare module "./c.ts"`: relative specifiers only.
const RELATIVE_TS = /(["'])(\.\.?\/[^"'\n]*?)\.ts\1/g;
/** @param {string} dir */
function rewrite(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) rewrite(path);
    else if (entry.name.endsWith(".d.ts")) {
      const text = readFileSync(path, "utf8");
      const next = text.replace(RELATIVE_TS, (_, q, spec) => `${q}${spec}.js${q}`);
      if (next !== text) writeFileSync(path, next);
    }
  }
}
rewrite(out);

// tsconfig.types.json lists the entry points by hand: an export added to package.json without it is said here.
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const missing = Object.entries(pkg.exports)
  .filter(([, target]) => !existsSync(join(root, target.types)))
  .map(([name, target]) => `${name} (${target.types})`);
if (missing.length) {
  console.error(`build-types: no declarations for ${missing.join(", ")}: add its source to tsconfig.types.json`);
  process.exit(1);
}

// tsc emits a declaration per source the entry points import, types or not; the package keeps those an entry
// point's declarations reach (a consumer's compiler reads no other): 33 of 76 files, 18 kB less in the tarball.
const reached = new Set();
const pending = Object.values(pkg.exports).map((target) => join(root, target.types));
while (pending.length) {
  const file = /** @type {string} */ (pending.pop());
  if (reached.has(file) || !existsSync(file)) continue;
  reached.add(file);
  for (const m of readFileSync(file, "utf8").matchAll(/(?:from\s*|import\(\s*)(["'])(\.\.?\/[^"'\n]*?)\.js\1/g)) {
    pending.push(join(dirname(file), `${m[2]}.d.ts`));
  }
}
/** @param {string} dir */
function prune(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) prune(path);
    else if (!reached.has(path)) rmSync(path);
  }
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
}
prune(out);
