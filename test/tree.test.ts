// The processed tree in code: rootFrame() and Profiler#rootFrame() (plain objects, seconds), processors written
// in JavaScript on the API and the CLI (-p processor=PATH), renderer functions and modules (-r PATH), and their
// failures in one line. Hand-built sessions through the wasm core; the CLI on the runtime the test runs on.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { UsageError } from "../session/errors.ts";
import { SampleState } from "../session/types.ts";
import { Profiler, renderSession, rootFrame } from "../src/index.ts";
import type { FrameNode, Processor, ReportOptions } from "../src/index.ts";
import { renderSessionOutput } from "../src/report.ts";
import rename from "./fixtures/tree/rename.mjs";
import list from "./fixtures/tree/list.mjs";
import { frame, makeSession, spread } from "./report-helpers.ts";
import { root, runOnThisRuntime } from "./runtime-helpers.ts";

const FRAMES = [
  frame("main", "/app/src/main.ts", 1), // 0
  frame("handle", "/app/node_modules/express/lib/router.js", 100), // 1
  frame("next", "/app/node_modules/express/lib/router.js", 200), // 2
  frame("route", "/app/src/routes.ts", 20), // 3
  frame("spin", "/app/src/routes.ts", 30), // 4
  frame("save", "/app/src/db.ts", 7), // 5
  frame("", "/app/src/main.ts", 40), // 6: anonymous
  frame("dispatch", "/app/node_modules/express/lib/router.js", 300), // 7
];

/** 100 samples 1 ms apart: express around app code, an await, an anonymous function, idle. */
function shop() {
  return makeSession(
    FRAMES,
    spread([
      [[0, 1, 2, 7, 3, 4], 50],
      [[0, 1, 2, 7, 3], 5],
      [[0, 5], 20],
      [[0, 5], 10, SampleState.await],
      [[0, 6], 12],
      [[], 3, SampleState.idle],
    ]),
  );
}

/** Every node, pre-order, without recursion. */
function nodes(rootNode: FrameNode): FrameNode[] {
  const out: FrameNode[] = [];
  const stack = [rootNode];
  while (stack.length > 0) {
    const node = stack.pop()!;
    out.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
  }
  return out;
}

function named(rootNode: FrameNode, name: string): FrameNode | undefined {
  return nodes(rootNode).find((n) => n.function === name);
}

test("rootFrame: the processed tree as plain objects, times in seconds", () => {
  const r = rootFrame(shop())!;
  assert.is(r.function, "[root]");
  assert.is(r.time, 0.1);
  const main = r.children[0];
  assert.equal(
    { ...main, children: main.children.length },
    {
      function: "main",
      file: "/app/src/main.ts",
      line: 1,
      time: 0.097,
      selfTime: 0,
      awaitTime: 0.01,
      cpuTime: null,
      library: null,
      isApplication: true,
      group: null,
      visible: true,
      children: 3,
    },
  );
  assert.equal(main.children.map((c) => c.function), ["handle", "save", "(anonymous)"]);
  const handle = main.children[0];
  assert.is(handle.library, "express");
  assert.is(handle.isApplication, false);
  assert.equal(handle.group, { id: 0, hiddenFrames: 1, libraries: ["express"] });
  assert.is(handle.children[0].group, handle.group, "a group is one object, shared by its nodes");
  assert.is(handle.children[0].function, "next");
  assert.is(handle.children[0].visible, false, "next is folded into the group");
  assert.is(handle.children[0].children[0].visible, true, "dispatch, which calls app code, shows");
  assert.is(named(r, "spin")!.time, 0.05);
  assert.equal(named(r, "save")!.children.map((c) => c.function), ["[self]", "[await]"]);
  assert.is(r.children[1].function, "[idle]");
  // Options as renderSession's: show_all keeps every frame, ungrouped.
  const all = rootFrame(shop(), { showAll: true })!;
  assert.ok(nodes(all).every((n) => n.group === null && n.visible));
  assert.is(rootFrame(makeSession(FRAMES, [])), null, "no samples: null, as the JSON report's root_frame");
});

test("rootFrame agrees with the JSON report node for node", () => {
  const s = shop();
  const json = JSON.parse(renderSession(s, { renderer: "json" })).root_frame;
  const plain = nodes(rootFrame(s)!);
  const stack = [json];
  const fromJson: Array<Record<string, unknown>> = [];
  while (stack.length > 0) {
    const node = stack.pop();
    fromJson.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
  }
  assert.is(plain.length, fromJson.length);
  plain.forEach((n, i) => {
    const j = fromJson[i];
    assert.equal(
      [n.function, n.file, n.line, n.time, n.awaitTime, n.isApplication, n.group?.id ?? null, n.visible],
      [j.function, j.file_path, j.line_no, j.time, j.await_time, j.is_application_code, j.group_id, j.visible],
    );
  });
});

test("processors: one that changes nothing leaves every tree report as it was", () => {
  const s = shop();
  const same: Processor = (r) => r;
  const inPlace: Processor = () => undefined;
  for (const renderer of ["text", "json", "html"]) {
    for (const extra of [{}, { flat: true }, { flat: true, flatTime: "total" as const }, { timeline: true }]) {
      const options: Partial<ReportOptions> = { renderer, unicode: true, ...extra };
      const plain = renderSession(s, options);
      assert.is(
        renderSession(s, { ...options, processors: [same, inPlace] }),
        plain,
        `${renderer} ${JSON.stringify(extra)}`,
      );
    }
  }
});

test("processors: rename, add, remove and retime nodes; text, flat, json and html show the result", () => {
  const s = shop();
  const dropIdle: Processor = (r) => {
    r.children = r.children.filter((c) => c.function !== "[idle]");
    r.time -= 0.003;
  };
  const options = { processors: [rename, dropIdle, renameSpin], shortMode: true, unicode: true };
  const text = renderSession(s, options);
  assert.match(text, /0\.050 spin \[fast\] {2}src\/routes\.ts:30/);
  assert.match(text, /0\.100 addedByProcessor {2}\/virtual\/added\.js:7/);
  assert.not.match(text, /\[idle\]/);
  const flat = renderSession(s, { ...options, flat: true });
  assert.match(flat, /^0\.050 spin \[fast\] {2}src\/routes\.ts:30$/m);
  assert.match(flat, /^0\.100 addedByProcessor {2}\/virtual\/added\.js:7$/m);
  const json = JSON.parse(renderSession(s, { ...options, renderer: "json" })).root_frame;
  assert.equal(json.children.map((c: { function: string }) => c.function), ["main", "addedByProcessor"]);
  assert.is(json.time, 0.097);
  const html = renderSession(s, { ...options, renderer: "html" });
  assert.ok(html.includes("spin [fast]") && html.includes("addedByProcessor"));
  // The session given is not changed: the new frames are the report's own.
  assert.is(s.frames.length, FRAMES.length);
  assert.not.match(renderSession(s, { shortMode: true }), /fast|addedByProcessor/);
});

const renameSpin: Processor = (r) => {
  for (const n of nodes(r)) if (n.function === "spin") n.function = "spin [fast]";
  return r;
};

test("processors: each worker thread's tree is processed too, with its own frames", () => {
  const s = shop();
  s.threads = [makeSession([frame("spin", "/app/src/worker.ts", 3)], spread([[[0], 20]]), {
    thread: { id: 1, name: "worker 1" },
  })];
  const text = renderSession(s, { processors: [renameSpin], shortMode: true });
  assert.match(text, /spin \[fast\] {2}src\/routes\.ts:30/);
  assert.match(text, /Thread: worker 1 .*\n0\.020 spin \[fast\] {2}src\/worker\.ts:3\n/);
  const json = JSON.parse(renderSession(s, { processors: [renameSpin], renderer: "json" }));
  assert.is(json.threads[0].root_frame.children[0].function, "spin [fast]");
  assert.is(rootFrame(s.threads[0], { processors: [renameSpin] })!.children[0].function, "spin [fast]");
});

test("processors: the sample formats read samples, not the tree, and are unchanged", () => {
  const s = shop();
  for (const renderer of ["collapsed", "speedscope", "cpuprofile"]) {
    assert.is(renderSession(s, { renderer, processors: [renameSpin] }), renderSession(s, { renderer }), renderer);
  }
});

test("processors and renderer functions: a throw or a non-tree is one line naming it", () => {
  const s = shop();
  // Arrow functions: the TypeScript loader may rename a named function expression (boom -> boom2).
  const fails = (options: Partial<ReportOptions>, pattern: RegExp) => {
    try {
      renderSessionOutput(s, options);
    } catch (err) {
      assert.instance(err, UsageError);
      assert.match((err as Error).message, pattern, (err as Error).message);
      assert.not.match((err as Error).message, /\n/);
      return;
    }
    assert.unreachable(`no error for ${pattern}`);
  };
  const boom: Processor = () => {
    throw new Error("no\nmore");
  };
  fails({ processors: [boom] }, /^processor boom threw Error: no$/);
  fails({ processors: [() => 42 as never] }, /^processor #1 returned a number, not a tree/);
  fails(
    { processors: [renameSpin, ((r: FrameNode) => Promise.resolve(r)) as never] },
    /^processor #2 returned a Promise/,
  );
  const cycle: Processor = (r) => {
    r.children[0].children.push(r);
  };
  fails({ processors: [cycle] }, /appears twice/);
  const noTime: Processor = (r) => {
    r.children.push({ function: "x", children: [] } as unknown as FrameNode);
  };
  fails({ processors: [noTime] }, /"x" whose time is not a number/);
  fails({ renderer: () => 7 as never }, /^the renderer function returned a number, not a string/);
  const mine = Object.defineProperty(
    () => {
      throw new TypeError("bad");
    },
    "name",
    { value: "mine" },
  ); // Bun's transpiler may leave an arrow function unnamed
  fails({ renderer: mine }, /^renderer mine threw TypeError: bad$/);
  assert.throws(() => rootFrame(s, { processors: [boom] }), /processor boom threw/);
});

test("renderer functions get the processed plain tree, the options and the session", () => {
  const s = shop();
  const out = renderSession(s, { renderer: list, processors: [rename] });
  assert.match(out, /^tree-list\n0 \[root\]\n1 main\n/);
  assert.match(out, /\n1 addedByProcessor\nprocessors: 1\n$/);
  let seen: unknown;
  renderSession(s, {
    renderer: (r, o, session) => {
      seen = [r?.function, o.filterThreshold, session === s];
      return "";
    },
  });
  assert.equal(seen, ["[root]", 0.01, true]);
  const bytes = renderSessionOutput(s, { renderer: () => new Uint8Array([1, 2]) });
  assert.equal(Array.from(bytes as Uint8Array), [1, 2]);
  assert.throws(() => renderSession(s, { renderer: () => new Uint8Array([1]) }), /binary/);
});

test("a 10,000-deep stack: rootFrame, processors and renderers never recurse", () => {
  const frames = Array.from({ length: 10_000 }, (_, i) => frame(`f${i}`, "/app/deep.ts", i + 1));
  const s = makeSession(frames, spread([[frames.map((_, i) => i), 3]]));
  const r = rootFrame(s)!;
  let depth = 0;
  for (let n = r; n.children.length > 0; n = n.children[0]) depth++;
  assert.is(depth, 10_000);
  const processors = [renameSpin, (x: FrameNode) => x];
  const text = renderSession(s, { processors, shortMode: true });
  assert.ok(text.trimEnd().endsWith("f9999  deep.ts:10000"));
  const json = renderSession(s, { processors, renderer: "json" });
  assert.ok(json.includes('"function": "f9999"'));
  assert.ok(renderSession(s, { processors, renderer: "html" }).includes("f9999"));
  assert.is(renderSession(s, { processors, renderer: list }).split("\n").length, 10_004);
});

test("Profiler: processors option, rootFrame() of the last session, output() with a renderer function", () => {
  let runs = 0;
  const counting: Processor = (r) => {
    runs++;
    r.children.push({ ...r, function: "marker", children: [] });
  };
  const p = new Profiler({ processors: [counting] });
  assert.throws(() => p.rootFrame(), /nothing to report/);
  assert.throws(() => new Profiler({ processors: [1 as never] }), /processors/);
  p.start();
  const end = Date.now() + 50;
  while (Date.now() < end);
  p.stop();
  const r = p.rootFrame({ processors: [renameSpin] })!;
  assert.is(r.function, "[root]");
  assert.ok(r.children.some((c) => c.function === "marker"));
  assert.is(runs, 1);
  assert.match(p.outputText(), /marker/);
  assert.match(p.output(list), /^tree-list\n0 \[root\]\n/);
  assert.match(p.output(list), /\n1 marker\nprocessors: 1\n$/);
});

// ---- the CLI ----

const cliSource = join(root, "src", "cli", "main.ts");
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, LANG: "C.UTF-8", LC_ALL: undefined };
const APP = join("test", "fixtures", "tree", "app.ts");
const fixture = (name: string) => `./test/fixtures/tree/${name}`;

function cli(args: string[]) {
  const r = spawnSync(...runOnThisRuntime(cliSource, args), { cwd: root, env: ENV, timeout: 60_000, input: "" });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
}

/** One line on stderr, "tsprofile: ..." matching pattern, no stack trace. */
function oneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split("\n").filter((l) => l !== "");
  assert.is(lines.length, 1, `one line on stderr, got: ${stderr}`);
  assert.match(lines[0], /^tsprofile: /);
  assert.match(lines[0], pattern);
}

test("CLI: -p processor=PATH changes the report; the program's output and exit code pass through", () => {
  const r = cli(["-p", `processor=${fixture("rename.mjs")}`, "--no-unicode", APP]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "tree-app done true\n");
  assert.match(r.stderr, /treeWork \[renamed\] {2}test\/fixtures\/tree\/app\.ts:2/);
  assert.match(r.stderr, /addedByProcessor {2}\/virtual\/added\.js:7/);
});

test("CLI: -r PATH renders with the module's default export, after the processors; with -o and --load too", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-tree-"));
  try {
    const r = cli(["-r", fixture("list.mjs"), "-p", `processor=${fixture("rename.mjs")}`, APP]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, "tree-app done true\n");
    assert.match(r.stderr, /^tree-list\n0 \[root\]\n/);
    assert.match(r.stderr, /\n2 treeWork \[renamed\]\n/);
    assert.match(r.stderr, /\n1 addedByProcessor\nprocessors: 1\n$/);
    const saved = join(dir, "run.tsprof");
    assert.is(cli(["-o", saved, APP]).status, 0);
    const out = join(dir, "tree.txt");
    const loaded = cli(["--load", saved, "-r", fixture("list.mjs"), "-o", out]);
    assert.is(loaded.status, 0, loaded.stderr);
    assert.match(readFileSync(out, "utf8"), /\n2 treeWork\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("CLI: a module that is missing or has no default export fails before the program runs", () => {
  for (
    const [args, pattern] of [
      [["-r", fixture("missing.mjs")], /--renderer: no such file '\.\/test\/fixtures\/tree\/missing\.mjs'/],
      [["-p", `processor=${fixture("missing.mjs")}`], /-p processor: no such file/],
      [
        ["-p", `processor=${fixture("no-default.mjs")}`],
        /-p processor .*no-default\.mjs: the module has no default export/,
      ],
      [["-r", fixture("no-default.mjs")], /--renderer .*no-default\.mjs: the module has no default export/],
    ] as const
  ) {
    const r = cli([...args, APP]);
    assert.is(r.status, 2, r.stderr);
    assert.is(r.stdout, "", "the program did not run");
    oneLine(r.stderr, pattern);
  }
});

test("CLI: a processor or renderer that throws or returns a non-tree: one line, exit 2, the program's output intact", () => {
  for (
    const [args, pattern] of [
      [
        ["-p", `processor=${fixture("throws.mjs")}`],
        /processor .*throws\.mjs threw Error: processor failed on purpose$/,
      ],
      [["-p", `processor=${fixture("returns-number.mjs")}`], /processor .*returns-number\.mjs returned a number/],
      [["-r", fixture("throws.mjs")], /renderer .*throws\.mjs threw Error/],
    ] as const
  ) {
    const r = cli([...args, APP]);
    assert.is(r.status, 2, r.stderr);
    assert.is(r.stdout, "tree-app done true\n");
    oneLine(r.stderr, pattern);
  }
});

test.run();
