// Builds dist/ for Node (npm's `prepare` runs this, so `npm install` builds it): the CLI, the API, the sampler the
// CLI preloads into the child, and the loader-hook files that module.register() loads by URL next to it.
// esbuild stays external (native binary; it is a dependency); everything else, @jridgewell/trace-mapping
// included, is bundled. Prints nothing on success.
import { build } from "esbuild";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { buildHtmlPage, GENERATED as HTML_PAGE } from "./build-html.mjs";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const dist = join(root, "dist");
const loaderDir = join(root, "runtimes", "loader");

// Bundled CommonJS dependencies call require() for builtins; an ES module has none, so give it one.
const REQUIRE_SHIM = 'import { createRequire as __tsprofileCreateRequire } from "node:module";\n' +
  "const require = __tsprofileCreateRequire(import.meta.url);";

/** @satisfies {import("esbuild").BuildOptions} */
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["esbuild"],
  logLevel: "warning",
  legalComments: "none",
  minify: true,
  charset: "utf8",
};

/** src/integrations/<name>.ts, each a package export "./<name>". */
export const INTEGRATIONS = ["node-test", "vitest", "uvu", "bun-test", "deno-test", "web"];

/**
 * @typedef {object} Entry
 * @property {string} in the source, from the root
 * @property {string} out its bundle in dist/
 * @property {boolean} [optional] skipped (and said) when the source does not exist yet
 * @property {boolean} [alone] self-contained, no chunks: on the path of every run's start (a module file costs ~1 ms)
 */
/** @type {Entry[]} */
const entries = [
  { in: "src/cli/main.ts", out: "cli.js", alone: true },
  { in: "src/index.ts", out: "index.js", optional: true },
  // What the CLI loads once the program runs (src/cli/machinery.ts): from the shared chunks, not a copy in cli.js.
  { in: "src/cli/machinery.ts", out: "cli-machinery.js" },
  // __TSPROFILE_BUNDLED__ (defined below) tells it that it is the bundle.
  { in: "runtimes/preload/preload.mjs", out: "preload.mjs", alone: true },
  // The native sampler's stream writer, a worker thread's module: found next to whichever bundle starts it. In the
  // split build: it shares the session codec with the library's chunks (its start is off every run's path).
  { in: "runtimes/node/stream-worker.ts", out: "stream-worker.js" },
  // module.register("./ts-hooks.mjs", import.meta.url) resolves next to whichever file registers it, so every
  // hooks module gets its own self-contained file in dist/ under its own name.
  ...readdirSync(loaderDir)
    .filter((f) => /hooks\.mjs$/.test(f))
    .map((f) => ({ in: `runtimes/loader/${f}`, out: f, alone: true })),
  // Test-runner integrations (package.json exports "./node-test" ...): next to core.wasm, their runner external.
  ...INTEGRATIONS.map((name) => ({ in: `src/integrations/${name}.ts`, out: `integration-${name}.js` })),
];

/** The CLI's lazy import of its machinery resolves to the split build's entry next to it. */
/** @type {import("esbuild").Plugin} */
const MACHINERY = {
  name: "cli-machinery",
  setup(b) {
    b.onResolve({ filter: /\/machinery\.ts$/ }, () => ({ path: "./cli-machinery.js", external: true }));
  },
};

const notes = [];
mkdirSync(dist, { recursive: true });
// Chunks of an earlier build are named by their content: remove them, or dist/ (and the package) keeps them all.
for (const f of readdirSync(dist)) if (/^chunk-.*\.js$/.test(f)) rmSync(join(dist, f));
try {
  // The HTML report's page first: src/renderers/html.ts imports the generated module the bundles below include.
  const page = await buildHtmlPage();
  if (!existsSync(HTML_PAGE) || readFileSync(HTML_PAGE, "utf8") !== page) writeFileSync(HTML_PAGE, page);
  // The library's entries in one build with code splitting: what they share (the core's glue, the renderers, the
  // samplers) is a chunk in dist/ (chunk-HASH.js, next to core.wasm and the other files found by their own URL),
  // not a copy per bundle. The files every run starts with (the CLI, the preload, the hooks) stay whole: in chunks
  // they started 16-20 ms later (28 files instead of one). The CLI's shebang is added after the build.
  const present = entries.filter((e) => existsSync(join(root, e.in)));
  for (const entry of entries.filter((e) => !present.includes(e))) {
    if (entry.optional) notes.push(`${entry.in} does not exist yet: dist/${entry.out} skipped`);
    else throw new Error(`${entry.in} is missing`);
  }
  const options = {
    ...common,
    banner: { js: REQUIRE_SHIM },
    define: { __TSPROFILE_BUNDLED__: "true" },
    external: [...common.external, "vitest", "uvu", "bun:test"],
  };
  await Promise.all([
    build({
      ...options,
      entryPoints: present.filter((e) => !e.alone).map((e) => ({
        in: join(root, e.in),
        out: e.out.replace(/\.js$/, ""),
      })),
      outdir: dist,
      splitting: true,
      chunkNames: "chunk-[hash]",
    }),
    ...present.filter((e) => e.alone).map((e) =>
      build({ ...options, entryPoints: [join(root, e.in)], outfile: join(dist, e.out), plugins: [MACHINERY] })
    ),
  ]);
  const cli = join(dist, "cli.js");
  if (existsSync(cli)) writeFileSync(cli, "#!/usr/bin/env node\n" + readFileSync(cli, "utf8"));
} catch (err) {
  // esbuild has already printed the details (logLevel warning).
  console.error(`bundle: failed: ${/** @type {Error} */ (err).message.split("\n")[0]}`);
  process.exit(1);
}
if (existsSync(join(dist, "cli.js"))) chmodSync(join(dist, "cli.js"), 0o755);

// wasm/core.ts looks for core.wasm next to the bundle when its own URL has none.
const wasm = join(root, "wasm", "core.wasm");
if (existsSync(wasm)) copyFileSync(wasm, join(dist, "core.wasm"));
else notes.push("wasm/core.wasm does not exist yet: not copied");

// The CLI's child runs a program of an extension Node's module loader does not know through this file, by path.
copyFileSync(join(root, "runtimes", "launch", "run-commonjs.cjs"), join(dist, "run-commonjs.cjs"));

// Quiet on success; anything skipped is said, on stderr.
for (const n of notes) console.error(`bundle: ${n}`);
