// A library's own source maps through the CLI, on the runtime the test runs on: a local package in node_modules,
// built here with esbuild from src/index.ts into dist/*.js with a map beside it or inlined, reports its functions at
// their .ts lines on Node, Deno and Bun alike. A map comment that names a device or a FIFO is not read.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { root, runOnThisRuntime } from "./runtime-helpers.ts";

const TIMEOUT = 120_000;
const ENV: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
delete ENV.FORCE_COLOR;

const LIBRARY = `// The library's source: the built JavaScript has other line numbers than these.
interface Options {
  ms: number;
}

type Unused = { a: string };

export function libSpin(options: Options): number {
  const end = performance.now() + options.ms;
  let x = 0;
  while (performance.now() < end) x++;
  return x;
}

export class Churner {
  constructor(private readonly ms: number) {}

  churn(): number {
    return libSpin({ ms: this.ms });
  }
}
`;
/** Where Node reports the library's functions: V8's start of each, through the map, at these .ts lines. */
const SPIN_LINE = 8;
const CHURN_LINE = 18;

interface JsonFrame {
  function: string;
  file_path: string;
  line_no: number;
  children: JsonFrame[];
}

function* walk(frame: JsonFrame): Generator<JsonFrame> {
  const stack = [frame];
  while (stack.length > 0) {
    const f = stack.pop()!;
    yield f;
    stack.push(...f.children);
  }
}

/** A temp dir with node_modules/pkg built from src/index.ts: dist/<name>.js per map style, and main.mjs. */
function makeProject(builds: Record<string, string[]>): string {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-libmap-"));
  const pkg = join(dir, "node_modules", "pkg");
  mkdirSync(join(pkg, "src"), { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "pkg", version: "1.0.0", type: "module" }));
  writeFileSync(join(pkg, "src", "index.ts"), LIBRARY);
  const esbuild = join(root, "node_modules", ".bin", "esbuild");
  for (const [name, flags] of Object.entries(builds)) {
    const out = join(pkg, "dist", `${name}.js`);
    const r = spawnSync(esbuild, [
      join(pkg, "src", "index.ts"),
      "--bundle",
      "--format=esm",
      `--outfile=${out}`,
      ...flags,
    ], {
      encoding: "utf8",
      timeout: TIMEOUT,
    });
    assert.is(r.status, 0, `esbuild: ${r.stderr}`);
  }
  return dir;
}

/** Profiles a program that runs dist/<name>.js's functions; returns the JSON report's frames. */
function profile(dir: string, name: string): JsonFrame[] {
  const main = join(dir, `main-${name}.mjs`);
  writeFileSync(
    main,
    `import { Churner, libSpin } from "./node_modules/pkg/dist/${name}.js";\n` +
      "new Churner(150).churn();\nlibSpin({ ms: 150 });\nconsole.log('done');\n",
  );
  const r = spawnSync(...runOnThisRuntime(join(root, "src", "cli", "main.ts"), ["-r", "json", main]), {
    cwd: dir,
    env: ENV,
    input: "",
    timeout: TIMEOUT,
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "done\n");
  const report = JSON.parse(r.stderr.slice(r.stderr.indexOf("{")));
  return [...walk(report.root_frame)];
}

test("a library's map, beside its .js or inlined: its functions at their .ts lines", () => {
  const dir = makeProject({ external: ["--sourcemap"], inline: ["--sourcemap=inline"] });
  try {
    const source = join(dir, "node_modules", "pkg", "src", "index.ts");
    for (const name of ["external", "inline"]) {
      const frames = profile(dir, name);
      const spin = frames.filter((f) => f.function === "libSpin");
      const churn = frames.filter((f) => f.function === "churn");
      assert.ok(spin.length > 0 && churn.length > 0, `${name}: libSpin and churn are in the tree`);
      for (const f of [...spin, ...churn]) {
        assert.is(f.file_path, source, `${name}: ${f.function} at ${f.file_path}:${f.line_no}`);
      }
      for (const f of spin) assert.is(f.line_no, SPIN_LINE, `${name}: libSpin's line`);
      for (const f of churn) assert.is(f.line_no, CHURN_LINE, `${name}: churn's line`);
      assert.not.ok(frames.some((f) => f.file_path.includes("dist")), `${name}: no frame left in dist/`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a minified library: its functions under the names its map gives them, at their .ts lines", () => {
  const dir = makeProject({ minified: ["--minify", "--sourcemap=inline"] });
  try {
    const frames = profile(dir, "minified");
    const spin = frames.filter((f) => f.function === "libSpin");
    assert.ok(spin.length > 0, `libSpin by name: ${frames.map((f) => f.function).join(", ")}`);
    for (const f of spin) {
      assert.is(`${f.file_path}:${f.line_no}`, `${join(dir, "node_modules", "pkg", "src", "index.ts")}:${SPIN_LINE}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a map comment naming /dev/zero or a FIFO is not read: the run ends, the frames stay in the .js", () => {
  const dir = makeProject({ plain: [] });
  try {
    const dist = join(dir, "node_modules", "pkg", "dist");
    const code = readFileSync(join(dist, "plain.js"), "utf8");
    writeFileSync(join(dist, "zero.js"), `${code}//# sourceMappingURL=/dev/zero\n`);
    const fifo = join(dist, "fifo.js.map");
    const made = process.platform !== "win32" && spawnSync("mkfifo", [fifo]).status === 0;
    if (made) writeFileSync(join(dist, "fifo.js"), `${code}//# sourceMappingURL=fifo.js.map\n`);
    for (const name of made ? ["zero", "fifo"] : ["zero"]) {
      const frames = profile(dir, name);
      const spin = frames.filter((f) => f.function === "libSpin");
      assert.ok(spin.length > 0, `${name}: libSpin is in the tree`);
      for (const f of spin) assert.is(f.file_path, join(dist, `${name}.js`), `${name}: unmapped`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
