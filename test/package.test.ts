// runtimes: node20 -- it packs the package once and starts Node 22, Node 24, Deno and Bun on it itself
// The package as a user gets it: `npm pack`, installed into a fresh project. It ships what runs and no .ts sources;
// its bin and API run on each runtime; require() loads it; and the project's own tsc, under the settings users start
// from, resolves every entry point of package.json "exports" to declarations (not to .ts sources, which a consumer's
// compiler would check under its own settings) with 0 errors.
import { execFile, spawnSync, type SpawnSyncOptions } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { root } from "./runtime-helpers.ts";
import { archivePath, PREBUILT_TARGETS, readArchive, sourcesHash } from "../runtimes/node/addon/prebuilt.mjs";

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
// npm run from inside an npm script would take that script's settings (npm_config_*): run it as from a shell.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));

function run(cmd: string, args: string[], cwd: string, options: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 180_000, ...options });
  const stdout = String(r.stdout ?? "");
  return { status: r.status, stdout, out: `${stdout}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

function runAsync(cmd: string, args: string[], cwd: string): Promise<{ status: number | null; out: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === "number" ? err.code : null) : 0;
      done({ status, out: `${stdout}${stderr}${err && status === null ? String(err) : ""}` });
    });
  });
}

// Per entry point, a use of one of its exports; each @ts-expect-error fails the check if that entry's types are `any`.
const USES: Record<string, string> = {
  "tsprofile": `import { Profiler, type Session, VERSION } from "tsprofile";
const profiler = new Profiler({ interval: 0.001 });
export const session: Session = profiler.start().stop();
export const text: string = profiler.outputText() + VERSION;
// @ts-expect-error outputText returns a string
export const notText: number = profiler.outputText();`,
  "tsprofile/node-test": `import { profileEachTest as nodeTestEach } from "tsprofile/node-test";
// @ts-expect-error the options are an object
nodeTestEach(1);`,
  "tsprofile/web": `import { profileFetch, RequestProfiler } from "tsprofile/web";
export const requests: typeof RequestProfiler = RequestProfiler;
// @ts-expect-error a handler is a function
profileFetch(1);`,
  "tsprofile/vitest": `import { profileEachTest as vitestEach } from "tsprofile/vitest";
// @ts-expect-error the options are an object
vitestEach(1);`,
  "tsprofile/uvu": `import { profileEachTest as uvuEach } from "tsprofile/uvu";
// @ts-expect-error the suite comes first
uvuEach({ interval: 0.001 });`,
  "tsprofile/bun-test": `import { profiledTests } from "tsprofile/bun-test";
// @ts-expect-error the options are an object
profiledTests(1);`,
  "tsprofile/deno-test": `import { profileEachTest as denoTestEach } from "tsprofile/deno-test";
// @ts-expect-error the options are an object
denoTestEach(1);`,
};

test("the consumer file uses every entry point of package.json exports", () => {
  assert.equal(Object.keys(USES).sort(), Object.keys(pkg.exports).map((k) => k.replace(/^\./, pkg.name)).sort());
});

// Bun's suggested compilerOptions (bun.com/docs/typescript), what \`bun init\` writes.
const BUN_DEFAULT = {
  lib: ["ESNext"],
  target: "ESNext",
  module: "Preserve",
  moduleDetection: "force",
  jsx: "react-jsx",
  allowJs: true,
  moduleResolution: "bundler",
  allowImportingTsExtensions: true,
  verbatimModuleSyntax: true,
  noEmit: true,
  strict: true,
  skipLibCheck: true,
  noFallthroughCasesInSwitch: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noUnusedLocals: false,
  noUnusedParameters: false,
  noPropertyAccessFromIndexSignature: false,
};
interface Setting {
  /** compilerOptions; "init" is whatever the consumer's own `tsc --init` writes. */
  options: Record<string, unknown> | "init";
  /** Entry points this consumer does not import, and why. */
  without?: string[];
}
const SETTINGS: Record<string, Setting> = {
  "tsc --init defaults": { options: "init" },
  // skipLibCheck off, so the declarations themselves are checked too, against @types/node only: a Node project has
  // no @types/bun, which tsprofile/bun-test's declarations need (@types/bun beside @types/node 20 has errors of its
  // own that only skipLibCheck hides).
  "strict NodeNext": {
    options: {
      module: "NodeNext",
      moduleResolution: "NodeNext",
      target: "ES2022",
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ["node"],
    },
    without: ["tsprofile/bun-test"],
  },
  // No "exports" support: the top-level "types" and "typesVersions" must carry every entry point.
  "node10 resolution": {
    options: {
      module: "CommonJS",
      moduleResolution: "node10",
      target: "ES2022",
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    },
  },
  "Bun's default tsconfig": { options: BUN_DEFAULT },
};

/** The packed tarball's file list and a consumer project that installed it, made once by the first test. */
// Node 22 as the prebuilds were built against it (npm pack's prepack fetched it): the package runs on its oldest 22.
const node22 = PREBUILT_TARGETS.find((t) => t.abi === "127")!.node;
const NODE22 = join(root, "runtimes", "node", "addon", "nodes", `node-v${node22}`, "bin", "node");
let packedFiles: string[] = [];
let packedSize = 0;
let consumer = "";
const work = mkdtempSync(join(tmpdir(), "tsprofile-package-"));
test.after(() => rmSync(work, { recursive: true, force: true }));

test("npm pack, then npm install of the tarball into a fresh project", () => {
  // npm pack runs `prepare` (bundle and declarations) as a publish would.
  const packed = run("npm", ["pack", "--json", "--pack-destination", work], root);
  assert.is(packed.status, 0, packed.out);
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("[")))[0];
  packedFiles = info.files.map((f: { path: string }) => f.path);
  packedSize = info.size;
  const tarball = join(work, `${pkg.name}-${pkg.version}.tgz`);

  consumer = join(work, "consumer");
  mkdirSync(join(consumer, "node_modules"), { recursive: true });
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", type: "module" }));
  // The package's dependencies from this checkout, so the offline install resolves them without the network.
  for (const dep of Object.keys(pkg.dependencies)) link(dep);
  const installed = run("npm", [
    "install",
    "--offline",
    "--ignore-scripts",
    "--no-save",
    "--no-audit",
    "--no-fund",
    tarball,
  ], consumer);
  assert.is(installed.status, 0, installed.out);
  // The consumer's own tools (npm prunes what its package.json does not list, so linked after the install).
  for (const tool of ["typescript", "@types/node", "@types/bun"]) link(tool);
});

function link(name: string): void {
  mkdirSync(join(consumer, "node_modules", name, ".."), { recursive: true });
  symlinkSync(join(root, "node_modules", name), join(consumer, "node_modules", name));
}

test("the tarball is at most 300 kB: the bundles share their code as chunks, not a copy each", () => {
  assert.ok(packedSize > 0 && packedSize <= 300_000, `${packedSize} bytes packed`);
});

test("the tarball ships the bundles, declarations and addon sources, and no .ts sources", () => {
  assert.ok(packedFiles.length > 0, "packed");
  const sources = packedFiles.filter((f) => /\.(ts|mts|cts)$/.test(f) && !/\.d\.ts$/.test(f));
  assert.equal(sources, [], "no .ts sources");
  for (const target of Object.values(pkg.exports as Record<string, { types: string; default: string }>)) {
    for (const file of [target.types, target.default]) assert.ok(packedFiles.includes(file.slice(2)), file);
  }
  // What the bundles load at run time, next to themselves or from the package root.
  for (const file of ["dist/cli.js", "dist/preload.mjs", "dist/ts-hooks.mjs", "dist/core.wasm", "LICENSE"]) {
    assert.ok(packedFiles.includes(file), file);
  }
  for (
    const file of ["scripts/build-addon.mjs", "runtimes/node/addon/binding.gyp", "runtimes/node/addon/src/sampler.cc"]
  ) {
    assert.ok(packedFiles.includes(file), `${file}: the install script builds the native sampler from it`);
  }
});

test("the tarball ships a prebuilt native sampler for Node 20, 22 and 24 on linux-x64, built from its sources", () => {
  assert.ok(consumer, "installed");
  const addon = join(consumer, "node_modules", "tsprofile", "runtimes", "node", "addon");
  const archive = readArchive(archivePath(addon, "linux", "x64"));
  assert.ok(archive, "prebuilds/linux-x64.br");
  assert.equal(archive!.binaries.map((b) => b.abi), ["115", "127", "137"]);
  assert.is(archive!.sources, sourcesHash(addon));
});

// Installed with scripts disabled, so the native sampler on Node is the package's prebuilt one, written out at the
// first run; the JSON report says which sampler recorded each run.
test("the installed package profiles a program from its bin and through its API on Node 20, 22, 24, Deno and Bun", () => {
  assert.ok(consumer, "installed");
  writeFileSync(
    join(consumer, "app.js"),
    "const end = Date.now() + 100;\nwhile (Date.now() < end);\nconsole.log('app ran');\n",
  );
  writeFileSync(
    join(consumer, "api.mjs"),
    [
      'import { Profiler } from "tsprofile";',
      "const profiler = new Profiler({ interval: 0.001 }).start();",
      "const end = Date.now() + 100;",
      "while (Date.now() < end);",
      "console.log(profiler.stop().samples.time.length > 0 ? 'api ran' : 'no samples');",
    ].join("\n"),
  );
  const bin = (name: string) => join(root, "test", "runtimes", "node_modules", ".bin", name);
  const cli = join(consumer, "node_modules", "tsprofile", "dist", "cli.js");
  const runtimes: [string, string, string[], string][] = [
    ["node20", process.execPath, [], "addon"],
    ["node22", NODE22, [], "addon"],
    ["node24", bin("node"), [], "addon"],
    ["deno", bin("deno"), ["run", "-A"], "inspector"],
    ["bun", bin("bun"), [], "jsc"],
  ];
  for (const [name, command, args, sampler] of runtimes) {
    const profiled = run(command, [...args, cli, "--no-color", "app.js"], consumer, { env: { ...env, NO_COLOR: "1" } });
    assert.is(profiled.status, 0, `${name}: ${profiled.out}`);
    assert.match(profiled.out, /app ran/, name);
    assert.match(profiled.out, /Samples:\s+[1-9]/, `${name}: a report: ${profiled.out}`);
    assert.not.match(profiled.out, /native sampler/, `${name}: no word about the native sampler`);
    const json = run(command, [...args, cli, "-r", "json", "-o", "app.json", "app.js"], consumer);
    assert.is(json.status, 0, `${name}: ${json.out}`);
    assert.is(JSON.parse(readFileSync(join(consumer, "app.json"), "utf8")).sampler, sampler, name);
    const api = run(command, [...args, "api.mjs"], consumer);
    assert.is(api.status, 0, `${name}: ${api.out}`);
    assert.match(api.out, /api ran/, name);
  }
});

test("bun add of the tarball (its install script blocked): Node runs it on the prebuilt native sampler", () => {
  const project = join(work, "bun-consumer");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "bun-consumer", version: "1.0.0" }));
  const tarball = join(work, `${pkg.name}-${pkg.version}.tgz`);
  const bun = join(root, "test", "runtimes", "node_modules", ".bin", "bun");
  const added = run(bun, ["add", tarball], project);
  assert.is(added.status, 0, added.out);
  writeFileSync(join(project, "app.js"), "const end = Date.now() + 100;\nwhile (Date.now() < end);\n");
  const cli = join(project, "node_modules", "tsprofile", "dist", "cli.js");
  for (const node of [process.execPath, NODE22]) {
    const r = run(node, [cli, "-r", "json", "-o", "app.json", "app.js"], project);
    assert.is(r.status, 0, r.out);
    assert.not.match(r.out, /native sampler/, r.out);
    assert.is(JSON.parse(readFileSync(join(project, "app.json"), "utf8")).sampler, "addon", node);
  }
});

// require(esm) works unflagged from Node 20.19 and 22.12 (20.0-20.18 and 22.0-22.11 throw ERR_REQUIRE_ESM): engines
// must allow no Node below those, and require() must load every entry point on the Nodes here.
test("engines allows only Nodes whose require() loads an ES module", () => {
  assert.is(pkg.engines.node, "^20.19.0 || >=22.12.0");
});

test("require() loads every entry point on Node 20, Node 22.12 (the first 22 engines allows) and Node 24", () => {
  assert.ok(consumer, "installed");
  // Not ./vitest (it imports vitest, which this project lacks) nor ./bun-test (bun:test exists only on Bun).
  const entries = ["tsprofile", "tsprofile/node-test", "tsprofile/web", "tsprofile/uvu", "tsprofile/deno-test"];
  writeFileSync(
    join(consumer, "require.cjs"),
    `for (const e of ${JSON.stringify(entries)}) console.log(e, typeof Object.values(require(e))[0]);\n`,
  );
  const node24 = join(root, "test", "runtimes", "node_modules", ".bin", "node");
  for (const node of [process.execPath, NODE22, node24]) {
    const r = run(node, ["require.cjs"], consumer);
    assert.is(r.status, 0, r.out);
    for (const e of entries) assert.match(r.stdout, new RegExp(`^${e} (function|object)$`, "m"), `${node}: ${e}`);
  }
});

test("the packed package type-checks in a consumer project under each usual tsconfig: 0 errors", async () => {
  assert.ok(consumer, "installed");
  const tsc = join(consumer, "node_modules", "typescript", "bin", "tsc");
  // The four projects are checked side by side: each tsc is one busy thread for several seconds.
  const results = await Promise.all(
    Object.entries(SETTINGS).map(async ([name, { options, without = [] }]) => {
      const dir = join(consumer, name.replace(/\W+/g, "-"));
      mkdirSync(dir);
      for (const [entry, use] of Object.entries(USES)) {
        if (!without.includes(entry)) writeFileSync(join(dir, `${entry.replace(/\W+/g, "-")}.ts`), use + "\n");
      }
      if (options === "init") {
        const init = run(process.execPath, [tsc, "--init"], dir);
        if (init.status !== 0) return { name, status: init.status, out: init.out };
      } else writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: options }));
      return { name, ...await runAsync(process.execPath, [tsc, "--noEmit", "-p", dir, "--pretty", "false"], dir) };
    }),
  );
  for (const { name, status, out } of results) {
    const errors = out.match(/error TS\d+/g) ?? [];
    assert.is(errors.length, 0, `${name}: ${errors.length} errors\n${out.slice(0, 4000)}`);
    assert.is(status, 0, `${name}: ${out.slice(0, 4000)}`);
  }
});

test.run();
