// What the CLI's reports say about deep stacks, on the runtime the test runs on: a stack deeper than V8 keeps
// starts at [truncated] on Node and Deno, and at its real root on Bun (JavaScriptCore has no depth cap).
import { spawnSync } from "node:child_process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { root, runOnThisRuntime, runtime } from "./runtime-helpers.ts";

/** Every child is bounded: a hang fails the test instead of the suite. */
const TIMEOUT = 120_000;
const ENV: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
delete ENV.FORCE_COLOR;

interface JsonFrame {
  function: string;
  file_path: string;
  line_no: number;
  time: number;
  visible: boolean;
  children: JsonFrame[];
}

/** `tsprofile -r json args...` from source on this runtime; the report is on stderr after the program's own. */
function jsonReport(args: string[], cwd = root): { root: JsonFrame; stdout: string } {
  const r = spawnSync(...runOnThisRuntime(`${root}/src/cli/main.ts`, ["-r", "json", ...args]), {
    cwd,
    env: ENV,
    input: "",
    timeout: TIMEOUT,
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  assert.is(r.status, 0, r.stderr);
  const report = JSON.parse(r.stderr.slice(r.stderr.indexOf("{")));
  return { root: report.root_frame, stdout: r.stdout };
}

/** Every root-to-node path of the tree, as frames, through an explicit stack (the tree is hundreds deep). */
function* paths(rootFrame: JsonFrame): Generator<JsonFrame[]> {
  const stack: JsonFrame[][] = [[rootFrame]];
  while (stack.length > 0) {
    const path = stack.pop()!;
    yield path;
    for (const c of path[path.length - 1].children) stack.push([...path, c]);
  }
}

/** The paths that end at the recursion's leaf (spin), without the report's [root]. */
function spinPaths(rootFrame: JsonFrame): string[][] {
  const out: string[][] = [];
  for (const p of paths(rootFrame)) {
    if (p[p.length - 1].function === "spin") out.push(p.slice(1).map((f) => f.function));
  }
  return out;
}

const deep = (depth: number) => jsonReport(["test/fixtures/deep-recursion.ts", String(depth)]);

if (runtime === "bun") {
  test("Bun keeps a 1000-deep stack whole, with its real root, once JSC's buffer has grown; cut ones say so", () => {
    const { root: tree, stdout } = deep(1000);
    assert.is(stdout, "done\n");
    const spins = spinPaths(tree);
    assert.ok(spins.length > 0, "spin is in the tree");
    let whole = 0;
    for (const p of spins) {
      if (p[0] === "[truncated]") {
        // The few samples taken while JSC's stack buffer grew (runtimes/bun/sampler.ts): as many frames as it held,
        // less the runtime's own at the leaf (performance.now) that the report leaves out.
        const frames = p.length - 1;
        const held = [256, 320, 400, 500, 625, 781, 976].find((n) => frames <= n && frames >= n - 2);
        assert.ok(held, `a cut stack of ${frames} frames`);
        assert.is(p[1], "recurse");
        continue;
      }
      assert.equal(p.slice(0, 3), ["<module>", "main", "recurse"], p.slice(0, 4).join(" > "));
      assert.is(p.filter((f) => f === "recurse").length, 1001, "every frame of the recursion");
      whole++;
    }
    assert.is(whole, 1, "one whole path to spin");
    for (const p of paths(tree)) assert.ok(p.findIndex((f) => f.function === "[truncated]") <= 1);
  });
} else {
  test("V8 cuts a 400-deep stack: its samples start at [truncated], the frames V8 kept under it", () => {
    const { root: tree, stdout } = deep(400);
    assert.is(stdout, "done\n");
    const cut = tree.children.find((f) => f.function === "[truncated]");
    assert.ok(cut, `[truncated] is a child of the root: ${tree.children.map((f) => f.function).join(", ")}`);
    assert.ok(cut!.visible);
    assert.is(cut!.file_path, "");
    assert.is(cut!.children[0].function, "recurse");
    // spin runs only at the bottom, 401 frames down: every sample of it was cut.
    const spins = spinPaths(tree);
    assert.ok(spins.length > 0, "spin is in the tree");
    for (const p of spins) {
      assert.is(p[0], "[truncated]", p.slice(0, 3).join(" > "));
      const kept = p.filter((f) => f === "recurse").length;
      assert.ok(kept >= 240 && kept < 260, `${kept} frames of recurse kept`);
    }
    // Nothing else claims to be a root of those stacks, and [truncated] is nowhere but at the root.
    for (const p of paths(tree)) {
      assert.ok(p.findIndex((f) => f.function === "[truncated]") <= 1);
    }
  });
}

test("a 100-deep recursion is whole everywhere: no [truncated], the real root", () => {
  const { root: tree, stdout } = deep(100);
  assert.is(stdout, "done\n");
  const spins = spinPaths(tree);
  assert.ok(spins.length > 0, "spin is in the tree");
  for (const p of spins) {
    assert.equal(p.slice(0, 3), ["<module>", "main", "recurse"], p.slice(0, 4).join(" > "));
    assert.is(p.filter((f) => f === "recurse").length, 101);
  }
  for (const p of paths(tree)) assert.not.ok(p.some((f) => f.function === "[truncated]"));
});

test.run();
