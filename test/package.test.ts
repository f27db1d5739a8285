// runtimes: node20 -- it packs the package and type-checks a consumer with tsc; nothing in it depends on the runtime
// The package as a user gets it: `npm pack`, installed into a fresh project, type-checked by that project's own tsc
// under the settings users start from. Every entry point in package.json "exports" must resolve to declarations
// (not to .ts sources, which a consumer's compiler type-checks under its own settings) with 0 errors.
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { root } from "./runtime-helpers.ts";

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
// npm run from inside an npm script would take that script's settings (npm_config_*): run it as from a shell.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));

function run(cmd: string, args: string[], cwd: string, options: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 180_000, ...options });
  return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
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

test("the packed package type-checks in a consumer project under each usual tsconfig: 0 errors", () => {
  const work = mkdtempSync(join(tmpdir(), "tsprofile-package-"));
  try {
    // npm pack runs `prepare` (bundle and declarations) as a publish would.
    const packed = run("npm", ["pack", "--json", "--pack-destination", work], root);
    assert.is(packed.status, 0, packed.out);
    const tarball = join(work, `${pkg.name}-${pkg.version}.tgz`);

    const consumer = join(work, "consumer");
    mkdirSync(join(consumer, "node_modules", "@types"), { recursive: true });
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", version: "1.0.0", type: "module" }),
    );
    // The package's dependencies from this checkout, so the offline install resolves them without the network.
    const link = (name: string) => {
      mkdirSync(join(consumer, "node_modules", name, ".."), { recursive: true });
      symlinkSync(join(root, "node_modules", name), join(consumer, "node_modules", name));
    };
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
    const tsc = join(consumer, "node_modules", "typescript", "bin", "tsc");

    for (const [name, { options, without = [] }] of Object.entries(SETTINGS)) {
      const dir = join(consumer, name.replace(/\W+/g, "-"));
      mkdirSync(dir);
      for (const [entry, use] of Object.entries(USES)) {
        if (!without.includes(entry)) writeFileSync(join(dir, `${entry.replace(/\W+/g, "-")}.ts`), use + "\n");
      }
      if (options === "init") {
        const init = run(process.execPath, [tsc, "--init"], dir);
        assert.is(init.status, 0, init.out);
      } else writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: options }));
      const checked = run(process.execPath, [tsc, "--noEmit", "-p", dir, "--pretty", "false"], dir);
      const errors = checked.out.match(/error TS\d+/g) ?? [];
      assert.is(errors.length, 0, `${name}: ${errors.length} errors\n${checked.out.slice(0, 4000)}`);
      assert.is(checked.status, 0, `${name}: ${checked.out.slice(0, 4000)}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
