// The function locator (session/source/function-locator.ts): positions inside functions map to where V8 places those
// functions (after the same TypeScript transpile and source map as Node's loader), checked by hand against what
// the Node sampler reports for test/fixtures/bun-shapes.ts; JavaScript with a map of its own maps into the file the
// map names, as Node's sampler does; and maps are only read from regular files (session/source/sourcemaps.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFunctionLocator } from "../session/source/function-locator.ts";
import { createSourceMapper, originalName, readRegularFile } from "../session/source/sourcemaps.ts";
import { root } from "./runtime-helpers.ts";

const here = dirname(fileURLToPath(import.meta.url));
const shapes = join(here, "fixtures", "bun-shapes.ts");

// [what, line, col inside the function (as JSC reports it), expected start]. Expected positions are what
// `node --import runtimes/loader/register.mjs` gives for these functions through runtimes/node/sampler.ts.
const CASES: [string, number, number, [number, number] | "module"][] = [
  ["free function (leaf loop)", 8, 22, [5, 10]],
  ["exported function, at its loop", 15, 22, [12, 17]],
  ["exported function, at its declaration", 15, 10, [12, 17]],
  ["async function after await", 23, 22, [19, 16]],
  ["class constructor, at its '('", 29, 14, [29, 3]],
  ["class constructor body", 33, 24, [29, 3]],
  ["method", 38, 24, [35, 3]],
  ["getter", 44, 24, [41, 7]],
  ["static method", 50, 24, [47, 10]],
  ["arrow function", 58, 22, [55, 15]],
  ["nested function", 66, 24, [63, 12]],
  ["outer function at a call", 69, 13, [62, 10]],
  ["outer function, next line", 70, 3, [62, 10]],
  ["object literal method", 78, 24, [75, 3]],
  ["async main", 85, 5, [83, 23]],
  ["anonymous callback", 97, 26, [94, 18]],
  ["top-level code", 102, 5, "module"],
];

test("TypeScript: the positions Node reports for the same functions", () => {
  const locator = createFunctionLocator();
  for (const [what, line, col, want] of CASES) {
    const got = locator.locate(shapes, line, col);
    const expected = want === "module" ? "module" : { line: want[0], col: want[1] };
    assert.equal(got, expected, what);
  }
});

test("JavaScript: the parameter list's '(' (arrows: their first token), no mapping", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-locator-"));
  try {
    const file = join(dir, "app.mjs");
    writeFileSync(
      file,
      [
        "function free (a) {", // 1
        "  return a;", // 2
        "}", // 3
        "const arrow = async (x) => {", // 4
        "  return x;", // 5
        "};", // 6
        "class K { constructor(v) { this.v = v; } m() { return 1; } }", // 7
        "export const o = { f: function /* ( */ (y) { return y; } };", // 8
        "free(1);", // 9
      ].join("\n"),
    );
    const locator = createFunctionLocator();
    assert.equal(locator.locate(file, 2, 3), { line: 1, col: 15 });
    assert.equal(locator.locate(file, 5, 3), { line: 4, col: 15 }); // V8 includes `async`
    assert.equal(locator.locate(file, 7, 28), { line: 7, col: 22 });
    assert.equal(locator.locate(file, 7, 49), { line: 7, col: 43 });
    assert.equal(locator.locate(file, 8, 46), { line: 8, col: 40 });
    assert.equal(locator.locate(file, 9, 1), "module");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("unknown files and positions: null, never a throw", () => {
  const locator = createFunctionLocator();
  assert.is(locator.locate("/nonexistent/file.ts", 3, 4), null);
  assert.is(locator.locate("relative.ts", 3, 4), null);
  assert.is(locator.locate(shapes, 0, 0), null);
  assert.is(locator.locate(shapes, 100_000, 1), null);
});

test("JavaScript with its own map into another file: the function where Node's sampler puts it, in that file", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-locator-"));
  try {
    const src = join(dir, "src", "lib.ts");
    mkdirSync(dirname(src));
    writeFileSync(
      src,
      [
        "// types move the lines", // 1
        "interface O { ms: number }", // 2
        "", // 3
        "export function spin(o: O): number {", // 4
        "  let x = 0;", // 5
        "  for (let i = 0; i < o.ms; i++) x += i;", // 6
        "  return x;", // 7
        "}", // 8
      ].join("\n"),
    );
    const out = join(dir, "dist", "lib.js");
    const esbuild = join(root, "node_modules", ".bin", "esbuild");
    const r = spawnSync(esbuild, [src, "--format=esm", "--sourcemap", `--outfile=${out}`], { encoding: "utf8" });
    assert.is(r.status, 0, r.stderr);
    const js = readFileSync(out, "utf8").split("\n");
    const at = js.findIndex((l) => l.includes("x += i")) + 1;
    assert.ok(at > 0);
    // Node maps V8's start of spin (its '(') through dist/lib.js.map: src/lib.ts, at the function's name.
    const want = createSourceMapper().map(out, js.findIndex((l) => l.startsWith("function spin")) + 1, 14);
    assert.is(want.file, src);
    assert.is(want.line, 4);
    const got = createFunctionLocator().locate(out, at, 5);
    assert.equal(got, { line: want.line, col: want.col, file: src });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("maps are read only from regular files of bounded size: a device, a FIFO or a folder is never opened", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-locator-"));
  try {
    const file = join(dir, "ok.txt");
    writeFileSync(file, "12345");
    assert.is(readRegularFile(file, 10)?.toString(), "12345");
    assert.is(readRegularFile(file, 4), null, "bigger than the bound");
    assert.is(readRegularFile(dir, 1 << 20), null, "a folder");
    assert.is(readRegularFile(join(dir, "missing"), 1 << 20), null);
    if (process.platform === "win32") return;
    assert.is(readRegularFile("/dev/zero", 1 << 20), null, "a device");
    const fifo = join(dir, "fifo");
    if (spawnSync("mkfifo", [fifo]).status === 0) assert.is(readRegularFile(fifo, 1 << 20), null, "a FIFO");
    // A script whose map comment names either: unmapped, and promptly (a read of /dev/zero never ends).
    const mapper = createSourceMapper();
    for (const target of ["/dev/zero", "fifo"]) {
      const js = join(dir, `${target === "fifo" ? "fifo" : "zero"}.js`);
      writeFileSync(js, `function f() {\n  return 1;\n}\n//# sourceMappingURL=${target}\n`);
      assert.equal(mapper.map(js, 1, 11), { file: js, line: 1, col: 11 });
      assert.equal(createFunctionLocator().locate(js, 2, 3), { line: 1, col: 11 });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("originalName: a map's identifier for a minified name; decorated, constructor and anonymous names stay", () => {
  assert.is(originalName("o", "tokenizeInlines"), "tokenizeInlines");
  assert.is(originalName("#e", "#parse"), "#parse");
  assert.is(originalName("o", undefined), "o");
  assert.is(originalName("", "callee"), "(anonymous)");
  assert.is(originalName("get x", "x"), "get x");
  assert.is(originalName("Churner", "constructor"), "Churner");
  assert.is(originalName("o", "a.b"), "o");
});

test.run();
