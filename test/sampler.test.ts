// runtimes: node20 node24 -- the Node sampler's own tests (Deno's and Bun's are in sampler-deno and sampler-bun)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { transformSync } from "esbuild";
import { convertProfile, isTsprofileFile, startNodeSampler, TSPROFILE_ROOT } from "../runtimes/node/sampler.ts";
import { detectRuntime, startSampler } from "../runtimes/index.ts";
import { createSourceMapper } from "../session/source/sourcemaps.ts";
import { SampleState } from "../session/types.ts";
import type { Session } from "../session/types.ts";
import { arrowSpin, spinTs, Worker } from "./fixtures/sampler-work.ts";
import { checkSession, frameIds, lineOf, runPreloadChild, sampleWeights } from "./sampler-helpers.ts";
import type { ChildResult } from "./sampler-helpers.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const fixtures = join(here, "fixtures");
const workTs = join(fixtures, "sampler-work.ts");
const thisFile = fileURLToPath(import.meta.url);

/** Time per sample as the core weighs it (SPEC.md section 1): idle, gc, ... and the js frames' self time. */
function weights(s: Session) {
  const { time, state, stack } = s.samples;
  const n = time.length;
  const byState = new Map<number, number>();
  const selfByFrame = new Map<number, number>();
  const { weight, gapIdle } = sampleWeights(s);
  for (let i = 0; i < n; i++) {
    const w = weight[i];
    byState.set(state[i], (byState.get(state[i]) ?? 0) + w);
    if (state[i] === SampleState.js && stack[i] >= 0) {
      const f = s.stacks.frame[stack[i]];
      selfByFrame.set(f, (selfByFrame.get(f) ?? 0) + w);
    }
  }
  return { idle: (byState.get(SampleState.idle) ?? 0) + gapIdle, byState, selfByFrame };
}

function inclusive(s: Session, frameSet: Set<number>): number {
  let total = 0;
  const { time, stack } = s.samples;
  const n = time.length;
  const { weight } = sampleWeights(s);
  for (let i = 0; i < n; i++) {
    for (let st = stack[i]; st >= 0; st = s.stacks.parent[st]) {
      if (frameSet.has(s.stacks.frame[st])) {
        total += weight[i];
        break;
      }
    }
  }
  return total;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("idle time appears as idle samples; a busy function appears with its file:line", async () => {
  const sampler = startNodeSampler({ interval: 1000 });
  assert.ok(sampler.isRunning);
  spinTs({ ms: 120 });
  await sleep(200);
  const s = sampler.stop({ program: "idle test" });
  assert.not.ok(sampler.isRunning);
  checkSession(s);
  assert.is(s.meta.program, "idle test");
  assert.is(s.meta.interval, 1000);
  assert.is(s.meta.runtime, `node ${process.versions.node}`);
  assert.is(s.meta.cwd, process.cwd());
  // CPU time is what the OS gave us; on a loaded 2-core machine a 120 ms spin may get half of it.
  assert.ok(s.meta.cpuTime >= 10_000 && s.meta.cpuTime <= 2 * s.meta.duration, `cpuTime ${s.meta.cpuTime}`);
  assert.ok(Math.abs(s.meta.startTime - Date.now()) < 10_000);
  const { idle } = weights(s);
  // The sleep is 200 ms of a ~320 ms session; allow for a loaded machine.
  assert.ok(idle >= 150_000 && idle <= 300_000, `idle ${idle} us of ${s.meta.duration}`);
  const spin = frameIds(s, "spinTs", workTs);
  assert.is(spin.length, 1, "spinTs is one frame");
  const f = s.frames[spin[0]];
  assert.is(f.kind, "js");
  assert.is(f.line, lineOf(workTs, "export function spinTs"));
  const busy = inclusive(s, new Set(spin));
  assert.ok(busy >= 60_000 && busy <= 220_000, `spinTs ${busy} us`);
});

test("TypeScript positions map to the .ts lines (methods, arrows, the test file itself)", () => {
  const worker = new Worker("w");
  function localSpin(ms: number): number {
    return worker.churn(ms);
  }
  const sampler = startNodeSampler({ interval: 500 });
  localSpin(60);
  arrowSpin(60);
  const s = sampler.stop();
  checkSession(s);
  const churn = frameIds(s, "churn", workTs);
  assert.is(churn.length, 1);
  assert.is(s.frames[churn[0]].line, lineOf(workTs, "churn(ms: number)"));
  const arrow = frameIds(s, "arrowSpin", workTs);
  assert.is(arrow.length, 1);
  assert.is(s.frames[arrow[0]].line, lineOf(workTs, "export const arrowSpin"));
  const local = frameIds(s, "localSpin", thisFile);
  assert.is(local.length, 1);
  assert.is(s.frames[local[0]].line, lineOf(thisFile, "function localSpin(ms: number)"));
});

test("CommonJS TypeScript maps through the require hook's transpile", () => {
  const require = createRequire(import.meta.url);
  const cjsFile = join(fixtures, "sampler-cjs.cts");
  const { spinCjs } = require(cjsFile);
  const sampler = startNodeSampler({ interval: 500 });
  spinCjs({ ms: 80 });
  const s = sampler.stop();
  checkSession(s);
  const ids = frameIds(s, "spinCjs", cjsFile);
  assert.is(ids.length, 1);
  assert.is(s.frames[ids[0]].line, lineOf(cjsFile, "function spinCjs"));
  // The module's top-level code, when sampled, is <module> at 1:1 (checked on the fixtures that show it).
  for (const f of s.frames) if (f.name === "<module>") assert.equal([f.line, f.col], [1, 1]);
});

test("JavaScript with a sourceMappingURL (inline data: URL and a .map file) maps to its sources", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-sm-"));
  try {
    const tsPath = join(dir, "orig.ts");
    const source = [
      "interface A { x: number }",
      "type B = A;",
      "",
      "export function mappedSpin(ms: number): number {",
      "  let x: number = 0;",
      "  const end = Date.now() + ms;",
      "  while (Date.now() < end) x += Math.sqrt(x + 1);",
      "  return x;",
      "}",
      "",
    ].join("\n");
    writeFileSync(tsPath, source);
    const inline = transformSync(source, { loader: "ts", format: "esm", sourcemap: "inline", sourcefile: "orig.ts" });
    writeFileSync(join(dir, "inline.mjs"), inline.code);
    const external = transformSync(source, {
      loader: "ts",
      format: "esm",
      sourcemap: "external",
      sourcefile: "orig.ts",
    });
    writeFileSync(join(dir, "external.mjs"), external.code + "//# sourceMappingURL=external.mjs.map\n");
    writeFileSync(join(dir, "external.mjs.map"), external.map);
    const a = await import(pathToFileURL(join(dir, "inline.mjs")).href);
    const b = await import(pathToFileURL(join(dir, "external.mjs")).href);

    const mapper = createSourceMapper();
    assert.equal(mapper.map(join(dir, "inline.mjs"), 1, 1).file, tsPath);
    assert.equal(mapper.map("/no/such/file.js", 3, 4), { file: "/no/such/file.js", line: 3, col: 4 });
    assert.equal(mapper.map("node:fs", 3, 4), { file: "node:fs", line: 3, col: 4 });

    const sampler = startNodeSampler({ interval: 500 });
    a.mappedSpin(60);
    b.mappedSpin(60);
    const s = sampler.stop();
    checkSession(s);
    // Two generated files, one original function: one frame.
    const ids = frameIds(s, "mappedSpin");
    assert.is(ids.length, 1, JSON.stringify(ids.map((i) => s.frames[i])));
    assert.is(s.frames[ids[0]].file, tsPath);
    assert.is(s.frames[ids[0]].line, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("frame kinds, names and special samples", async () => {
  const sampler = startNodeSampler({ interval: 1000 });
  readFileSync(thisFile); // node:fs
  const junk: object[] = [];
  for (let i = 0; i < 200_000; i++) junk.push({ i, s: "x" + i }); // some garbage collection
  [1, 2, 3].forEach(() => spinTs({ ms: 20 }));
  // Long enough that a sampler thread starved by a busy machine still takes an idle sample in it.
  await sleep(200);
  const s = sampler.stop();
  checkSession(s);
  for (const f of s.frames) {
    if (f.file.startsWith("node:")) assert.is(f.kind, "runtime", f.file);
    else if (f.file === "") assert.is(f.kind, "native", f.name);
    else assert.is(f.kind, "js", f.file);
    assert.ok(f.name !== "", "no empty names");
    assert.not.ok(f.file.startsWith("file:"), "file URLs become paths");
  }
  const states = new Set(s.samples.state);
  assert.ok(states.has(SampleState.js));
  assert.ok(states.has(SampleState.idle));
  // This module's top-level code is not on the stack here (uvu calls the test), but the runner's is a
  // <module> at 1:1 when it shows; anonymous functions are "(anonymous)".
  for (const f of s.frames) if (f.name === "<module>") assert.equal([f.line, f.col], [1, 1]);
});

function outerCaller(): Session {
  return innerCaller();
}
function innerCaller(): Session {
  const sampler = startNodeSampler({ interval: 500 });
  spinTs({ ms: 80 });
  return sampler.stop();
}

test("startStack maps the caller's stack to frame ids, without tsprofile's frames", () => {
  const s = outerCaller();
  checkSession(s);
  const stack = s.meta.startStack;
  assert.ok(stack.length >= 2, `startStack ${JSON.stringify(stack)}`);
  const leaf = s.frames[stack[stack.length - 1]];
  assert.is(leaf.name, "innerCaller");
  assert.is(leaf.file, thisFile);
  assert.is(leaf.line, lineOf(thisFile, "function innerCaller()"));
  const caller = s.frames[stack[stack.length - 2]];
  assert.is(caller.name, "outerCaller");
  for (const id of stack) assert.not.ok(isTsprofileFile(s.frames[id].file), s.frames[id].file);
  // It is a real path: the samples in spinTs run under exactly this stem.
  const spin = new Set(frameIds(s, "spinTs", workTs));
  let under = 0;
  for (let i = 0; i < s.samples.stack.length; i++) {
    const path: number[] = [];
    for (let st = s.samples.stack[i]; st >= 0; st = s.stacks.parent[st]) path.push(s.stacks.frame[st]);
    path.reverse();
    if (!path.some((f) => spin.has(f))) continue;
    assert.equal(path.slice(0, stack.length), stack);
    under++;
  }
  assert.ok(under > 0);
});

test("conversion of a hand-made profile: states, shared frames, clamped times, odd names", () => {
  const cf = (functionName: string, url = "", lineNumber = -1, columnNumber = -1) => ({
    functionName,
    scriptId: "1",
    url,
    lineNumber,
    columnNumber,
  });
  const profile = {
    nodes: [
      { id: 1, callFrame: cf("(root)"), children: [2, 5, 6, 7] },
      { id: 2, callFrame: cf("", "file:///app/main.js", 0, 0), children: [3, 4] },
      { id: 3, callFrame: cf("work", "file:///app/main.js", 4, 15) },
      // Another call site of the same function: the same frame and the same stack.
      { id: 4, callFrame: cf("work", "file:///app/main.js", 4, 15), children: [8] },
      { id: 5, callFrame: cf("(idle)") },
      { id: 6, callFrame: cf("(garbage collector)") },
      { id: 7, callFrame: cf("(program)") },
      { id: 8, callFrame: cf("constructor"), children: [9] },
      { id: 9, callFrame: cf("readFileSync", "node:fs", 10, 2) },
    ],
    startTime: 1_000_000,
    endTime: 1_000_500,
    samples: [3, 4, 5, 6, 7, 1, 9, 42],
    timeDeltas: [10, 50, -20, 100, 60, 30, 40.4, 10],
  };
  const s = convertProfile(profile, {
    startTime: 1,
    cpuTime: 2,
    interval: 100,
    program: "p",
    mapper: { map: (file, line, col) => ({ file, line, col }) },
  });
  checkSession(s);
  assert.equal(Array.from(s.samples.time), [10, 60, 60, 140, 200, 230, 270, 280]);
  assert.is(s.meta.duration, 500);
  assert.equal(Array.from(s.samples.state), [0, 0, 1, 2, 3, 3, 0, 3]);
  assert.is(s.samples.stack[0], s.samples.stack[1]);
  assert.equal(Array.from(s.samples.stack.slice(2, 6)), [-1, -1, -1, -1]);
  assert.equal(s.frames.map((f) => [f.name, f.file, f.line, f.col, f.kind]), [
    ["<module>", "/app/main.js", 1, 1, "js"],
    ["work", "/app/main.js", 5, 16, "js"],
    ["constructor", "", 0, 0, "native"],
    ["readFileSync", "node:fs", 11, 3, "runtime"],
  ]);
  assert.equal(s.meta.startStack, []);
});

test("the profiler's own work is not the program's: charged to its caller mid-run, cut when it ends the run", () => {
  const cf = (functionName: string, url = "", lineNumber = -1, columnNumber = -1) => ({
    functionName,
    scriptId: "1",
    url,
    lineNumber,
    columnNumber,
  });
  const own = pathToFileURL(join(root, "src", "profiler.ts")).href;
  const profile = {
    nodes: [
      { id: 1, callFrame: cf("(root)"), children: [2] },
      { id: 2, callFrame: cf("main", "file:///app/main.js", 0, 10), children: [3] },
      { id: 3, callFrame: cf("start", own, 20, 2), children: [4] },
      { id: 4, callFrame: cf("post", "node:inspector", 111, 2) },
    ],
    startTime: 0,
    endTime: 100,
    samples: [4, 2, 2, 3, 4, 4],
    timeDeltas: [10, 10, 10, 10, 10, 10],
  };
  const s = convertProfile(profile, {
    startTime: 1,
    cpuTime: 2,
    interval: 10,
    program: "p",
    mapper: { map: (file, line, col) => ({ file, line, col }) },
  });
  checkSession(s);
  // The first sample (inside start) is main's; the three trailing ones (stop) are cut and end the session.
  assert.equal(Array.from(s.samples.time), [10, 20, 30]);
  assert.is(s.meta.duration, 40);
  const main = s.samples.stack[1];
  assert.equal(Array.from(s.samples.stack), [main, main, main]);
  assert.ok(s.frames.every((f, i) => f.file !== "node:inspector" || !Array.from(s.stacks.frame).includes(i)));
});

test("TSPROFILE_ROOT is the package root; own files are recognised", () => {
  assert.is(TSPROFILE_ROOT, root);
  assert.ok(isTsprofileFile(join(root, "runtimes", "node", "sampler.ts")));
  assert.ok(isTsprofileFile(join(root, "session", "source", "sourcemaps.ts")));
  assert.ok(isTsprofileFile(join(root, "dist", "cli.js")));
  assert.not.ok(isTsprofileFile(join(root, "test", "sampler.test.ts")));
  assert.not.ok(isTsprofileFile(join(root, "srcx", "a.ts")));
});

test("runtime detection and the sampler front door", () => {
  assert.is(detectRuntime(), "node");
  const sampler = startSampler({ interval: 1000 });
  const s = sampler.stop();
  assert.ok(s.meta.duration >= 0);
  assert.throws(() => sampler.stop(), /already stopped/);
  assert.throws(() => startNodeSampler({ interval: 50 }), /at least 100/);
  assert.throws(() => startNodeSampler({ interval: NaN }), /at least 100/);
});

// ---- the preload, in a child process ----

function runChild(mode: string, opts: { signal?: NodeJS.Signals } = {}): Promise<ChildResult> {
  const args = ["--import", join(root, "runtimes", "preload", "preload.mjs"), join(fixtures, "sampler-child.ts"), mode];
  return runPreloadChild(process.execPath, args, {
    program: `sampler-child.ts ${mode}`,
    tmpPrefix: "tsprofile-child-",
    signal: opts.signal,
    signalDelay: 50,
  });
}

function checkChildSession(r: ChildResult, mode: string): void {
  assert.ok(r.session, `no session; stderr: ${r.stderr}`);
  const s = r.session!;
  checkSession(s);
  assert.is(s.meta.program, `sampler-child.ts ${mode}`);
  const spin = frameIds(s, "spinChild", join(fixtures, "sampler-child.ts"));
  assert.is(spin.length, 1);
  assert.is(s.frames[spin[0]].line, lineOf(join(fixtures, "sampler-child.ts"), "function spinChild"));
  // The preload starts before the program: its stem is all tsprofile's, so no start stack.
  assert.equal(s.meta.startStack, []);
}

test("preload: a normal exit writes the session; output and exit code pass through", async () => {
  const r = await runChild("normal");
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, "child normal env=none\ndone\n");
  assert.is(r.stderr, "");
  checkChildSession(r, "normal");
});

test("preload: process.exit(3)", async () => {
  const r = await runChild("exit3");
  assert.is(r.code, 3, r.stderr);
  assert.is(r.stdout, "child exit3 env=none\n");
  checkChildSession(r, "exit3");
});

test("preload: an uncaught error exits 1 with the error on stderr", async () => {
  const r = await runChild("throw");
  assert.is(r.code, 1);
  assert.match(r.stderr, /Error: boom from the child/);
  checkChildSession(r, "throw");
});

test("preload: SIGINT writes the session and the child still dies by SIGINT", async () => {
  const r = await runChild("sigint", { signal: "SIGINT" });
  assert.is(r.signal, "SIGINT", `code ${r.code} stderr ${r.stderr}`);
  assert.is(r.code, null);
  assert.is(r.stdout, "child sigint env=none\nready\n");
  checkChildSession(r, "sigint");
});

test("preload: SIGTERM likewise", async () => {
  const r = await runChild("sigint", { signal: "SIGTERM" });
  assert.is(r.signal, "SIGTERM", `code ${r.code} stderr ${r.stderr}`);
  checkChildSession(r, "sigint");
});

test("preload: a program's own SIGINT listener keeps the signal", async () => {
  const r = await runChild("own-sigint", { signal: "SIGINT" });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.signal, null);
  assert.is(r.stdout, "child own-sigint env=none\nready\nhandled SIGINT\n");
  checkChildSession(r, "own-sigint");
});

test.run();
