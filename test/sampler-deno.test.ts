// runtimes: deno -- Deno's sampler, source maps and permissions
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { convertProfile } from "../runtimes/shared/cpuprofile.ts";
import { PERMISSION_MESSAGE, startDenoSampler } from "../runtimes/deno/sampler.ts";
import {
  createDenoSourceMapper,
  decodeMap,
  denoDir,
  emitMap,
  emitPath,
  lookup,
  type RawMap,
} from "../runtimes/deno/sourcemaps.ts";
import { detectRuntime, startSampler } from "../runtimes/index.ts";
import { SampleState } from "../session/types.ts";
import type { Session } from "../session/types.ts";
import { Churner, spinDeno } from "./fixtures/deno-work.ts";
import { checkSession as checkAnySession, frameIds, lineOf, runPreloadChild } from "./sampler-helpers.ts";
import { sampleWeights } from "./sampler-helpers.ts";
import type { ChildResult } from "./sampler-helpers.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const fixtures = join(here, "fixtures");
const workTs = join(fixtures, "deno-work.ts");
const childTs = join(fixtures, "deno-child.ts");
const gapTs = join(fixtures, "deno-gap.ts");
const preload = join(root, "runtimes", "preload", "preload.mjs");
const denoVersion = (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno;

/** Time as the core weighs it (SPEC.md section 1): idle (samples and gap rests) and inclusive time of frames. */
function weigh(s: Session, frameSet: Set<number> = new Set()) {
  const { time, state, stack } = s.samples;
  const n = time.length;
  const { weight, gapIdle } = sampleWeights(s);
  let idle = gapIdle;
  let inside = 0;
  for (let i = 0; i < n; i++) {
    const w = weight[i];
    if (state[i] === SampleState.idle) idle += w;
    for (let st = stack[i]; st >= 0; st = s.stacks.parent[st]) {
      if (frameSet.has(s.stacks.frame[st])) {
        inside += w;
        break;
      }
    }
  }
  return { idle, inside };
}

/** The checks of every session, and Deno's: its own code (ext:*) is runtime frames, files are paths. */
function checkSession(s: Session): void {
  checkAnySession(s, {
    frame(f) {
      if (f.file.startsWith("ext:")) assert.is(f.kind, "runtime", `${f.name} ${f.file}`);
      assert.not.ok(f.file.startsWith("file:"), `file URL left in ${f.file}`);
    },
    runtime: `deno ${denoVersion}`,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("startSampler picks the Deno sampler", () => {
  assert.is(detectRuntime(), "deno");
  const s = startSampler({ interval: 1000 }).stop();
  assert.is(s.meta.runtime, `deno ${denoVersion}`);
});

test("idle time appears as idle samples; a busy function appears with its .ts file:line (mapped)", async () => {
  const sampler = startDenoSampler({ interval: 1000 });
  assert.ok(sampler.isRunning);
  spinDeno({ ms: 120 });
  await sleep(200);
  const s = sampler.stop({ program: "idle test" });
  assert.not.ok(sampler.isRunning);
  assert.throws(() => sampler.stop(), /already stopped/);
  checkSession(s);
  assert.is(s.meta.program, "idle test");
  assert.is(s.meta.interval, 1000);
  assert.is(s.meta.cwd, process.cwd());
  assert.ok(s.meta.cpuTime >= 10_000 && s.meta.cpuTime <= 2 * s.meta.duration, `cpuTime ${s.meta.cpuTime}`);
  assert.ok(s.samples.state.includes(SampleState.idle), "Deno's V8 takes (idle) samples");
  const spin = frameIds(s, "spinDeno", workTs);
  assert.is(spin.length, 1, `spinDeno is one frame: ${JSON.stringify(s.frames.filter((f) => f.name === "spinDeno"))}`);
  const f = s.frames[spin[0]];
  assert.is(f.kind, "js");
  assert.is(f.line, lineOf(workTs, "export function spinDeno"));
  const { idle, inside } = weigh(s, new Set(spin));
  assert.ok(idle >= 150_000 && idle <= 300_000, `idle ${idle} us of ${s.meta.duration}`);
  assert.ok(inside >= 60_000 && inside <= 220_000, `spinDeno ${inside} us`);
  // The caller's stack: this test's async function, mapped to its .ts line.
  const stem = s.meta.startStack.map((i) => s.frames[i]);
  assert.ok(stem.length > 0, "start stack found");
  assert.is(stem[stem.length - 1].file, fileURLToPath(import.meta.url));
});

test("methods and this test file map to their .ts lines", () => {
  const churner = new Churner();
  function localSpin(ms: number): number {
    return churner.churn(ms);
  }
  const sampler = startDenoSampler({ interval: 500 });
  localSpin(80);
  const s = sampler.stop();
  checkSession(s);
  const churn = frameIds(s, "churn", workTs);
  assert.is(churn.length, 1, JSON.stringify(s.frames.filter((f) => f.file === workTs)));
  assert.is(s.frames[churn[0]].line, lineOf(workTs, "churn(ms: number)"));
  const local = frameIds(s, "localSpin", fileURLToPath(import.meta.url));
  assert.is(local.length, 1);
  assert.is(s.frames[local[0]].line, lineOf(fileURLToPath(import.meta.url), "function localSpin(ms: number)"));
});

test("a function optimized before a mid-run start keeps its frame (deoptimize is needed on Deno too)", () => {
  function hot(ms: number): number {
    let x = 0;
    const end = Date.now() + ms;
    while (Date.now() < end) x += Math.sqrt(x + 1);
    return x;
  }
  hot(200); // on-stack replacement optimizes the loop before the profiler starts
  const sampler = startDenoSampler({ interval: 1000 });
  hot(150);
  const s = sampler.stop();
  const ids = new Set(frameIds(s, "hot"));
  assert.ok(ids.size > 0, "hot has a frame");
  const { inside } = weigh(s, ids);
  assert.ok(inside >= 90_000, `hot ${inside} us`);
});

test("frames of Deno's own code (ext:*) are runtime frames", () => {
  const cf = (id: number, functionName: string, url: string, children: number[] = []) => ({
    id,
    callFrame: { functionName, url, scriptId: id, lineNumber: 10, columnNumber: 2 },
    children,
  });
  const profile = {
    nodes: [
      cf(1, "(root)", "", [2]),
      cf(2, "processTimers", "ext:core/01_core.js", [3]),
      cf(3, "op_sleep", "ext:deno_web/02_timers.js", [4]),
      cf(4, "bootstrap", "ext:runtime/98_global_scope.js", [5]),
      cf(5, "user", "file:///tmp/user.js"),
    ],
    startTime: 0,
    endTime: 4000,
    samples: [5, 5, 3],
    timeDeltas: [0, 1000, 1000],
  };
  const s = convertProfile(profile, {
    startTime: 1,
    cpuTime: 2,
    interval: 1000,
    program: "p",
    runtime: "deno x",
    mapper: createDenoSourceMapper(),
  });
  const kinds = Object.fromEntries(s.frames.map((f) => [f.name, f.kind]));
  assert.equal(kinds, { processTimers: "runtime", op_sleep: "runtime", bootstrap: "runtime", user: "js" });
  assert.is(s.frames.find((f) => f.name === "user")!.file, "/tmp/user.js");
  assert.is(s.meta.runtime, "deno x");
});

test("Deno's emit cache: where it is, and the decoder agrees with trace-mapping", () => {
  assert.is(denoDir({ DENO_DIR: "/x/dd" }, "linux"), "/x/dd");
  assert.is(denoDir({ HOME: "/h" }, "linux"), "/h/.cache/deno");
  assert.is(denoDir({ HOME: "/h", XDG_CACHE_HOME: "/c" }, "linux"), "/c/deno");
  assert.is(denoDir({ HOME: "/h" }, "darwin"), "/h/Library/Caches/deno");
  assert.is(emitPath("/d", "/a/b.ts"), "/d/gen/file/a/b.ts.js");
  // This very file ran from the emit cache, which must be where denoDir() says.
  const emit = readFileSync(emitPath(denoDir(), workTs), "utf8");
  assert.match(emit, /\/\/ denoCacheMetadata=/, "the map comment is followed by Deno's metadata line");
  const raw = emitMap(emit) as RawMap;
  assert.ok(raw, "inline map found");
  assert.equal(raw.sources, [pathToFileURL(workTs).href]);
  const tm = createRequire(import.meta.url)("@jridgewell/trace-mapping");
  const reference = new tm.TraceMap(raw, pathToFileURL(workTs).href);
  const ours = decodeMap(raw, pathToFileURL(workTs).href);
  const lines = emit.split("\n");
  let compared = 0;
  for (let line = 0; line < lines.length; line++) {
    for (let column = 0; column <= lines[line].length; column += 3) {
      const want = tm.originalPositionFor(reference, { line: line + 1, column, bias: tm.GREATEST_LOWER_BOUND });
      if (want.source == null) continue;
      const got = lookup(ours, line, column);
      assert.equal(got && { source: got.source, line: got.line + 1, column: got.column }, {
        source: want.source,
        line: want.line,
        column: want.column,
      }, `at ${line + 1}:${column}`);
      compared++;
    }
  }
  assert.ok(compared > 50, `compared ${compared} positions`);
});

// ---- the preload, in a child process ----

function runChild(
  file: string,
  mode: string,
  opts: { signal?: "SIGINT" | "SIGTERM"; flags?: string[]; env?: Record<string, string> } = {},
): Promise<ChildResult> {
  const flags = opts.flags ?? ["-A"];
  return runPreloadChild(process.execPath, ["run", ...flags, "--no-lock", "--preload", preload, file, mode], {
    program: `child ${mode}`,
    env: { ...opts.env, NO_COLOR: "1" },
    tmpPrefix: "tsprofile-deno-",
    signal: opts.signal,
    signalDelay: 150,
    // process.kill, not child.kill: after child.kill(sig) Deno's child_process reports that signal as the
    // child's end even when the child handled it and exited 0 (Deno 2.9.6).
    kill: (child, signal) => process.kill(child.pid!, signal),
    timeout: 60_000,
  });
}

function checkChild(r: ChildResult, mode: string): Session {
  assert.ok(r.session, `no session; stderr: ${r.stderr}`);
  const s = r.session!;
  checkSession(s);
  assert.is(s.meta.program, `child ${mode}`);
  const spin = frameIds(s, "spin", childTs);
  assert.is(spin.length, 1, JSON.stringify(s.frames.filter((f) => f.name === "spin")));
  assert.is(s.frames[spin[0]].line, lineOf(childTs, "export function spin"));
  assert.equal(s.meta.startStack, []);
  return s;
}

test("preload: a normal exit writes the session; output and exit code pass through", async () => {
  const r = await runChild(childTs, "normal");
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, "child out normal\n");
  assert.is(r.stderr, "child err normal\n");
  checkChild(r, "normal");
});

test("preload: process.exit(3) and Deno.exit(4)", async () => {
  const r = await runChild(childTs, "exit3");
  assert.is(r.code, 3, r.stderr);
  assert.is(r.stdout, "child out exit3\n");
  checkChild(r, "exit3");
  const d = await runChild(childTs, "denoexit");
  assert.is(d.code, 4, d.stderr);
  checkChild(d, "denoexit");
});

test("preload: a throw at top level, in a timer, and an unhandled rejection exit 1 with the error shown", async () => {
  for (const [mode, message] of [["throw", "child boom"], ["later", "later boom"], ["reject", "child rejected"]]) {
    const r = await runChild(childTs, mode);
    assert.is(r.code, 1, `${mode}: ${r.stderr}`);
    assert.ok(r.stderr.includes(`Error: ${message}`), `${mode}: ${r.stderr}`);
    assert.not.match(r.stderr, /tsprofile/);
    checkChild(r, mode);
  }
});

test("preload: an exception the program handles itself does not end the profile", async () => {
  const r = await runChild(childTs, "handled");
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, "child out handled\nhandled handled boom\nafter handled\n");
  const s = checkChild(r, "handled");
  // The session runs to the real end: the 50 ms spin after the handled error is in it.
  assert.ok(s.meta.duration >= 100_000, `duration ${s.meta.duration}`);
});

test("preload: SIGINT and SIGTERM write the session and the child still dies by the signal", async () => {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    const r = await runChild(childTs, "wait", { signal: sig });
    assert.is(r.signal, sig, `code ${r.code} stderr ${r.stderr}`);
    assert.is(r.stdout, "child out wait\nready\n");
    checkChild(r, "wait");
  }
});

test("preload: a program's own SIGINT listener keeps the signal", async () => {
  const r = await runChild(childTs, "own-sigint", { signal: "SIGINT" });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.signal, null);
  assert.is(r.stdout, "child out own-sigint\nready\nhandled SIGINT\n");
  checkChild(r, "own-sigint");
});

test("preload: a DENO_DIR of the program's own is where the emit (and so the mapping) comes from", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-denodir-"));
  try {
    const r = await runChild(childTs, "normal", { env: { DENO_DIR: dir } });
    assert.is(r.code, 0, r.stderr);
    checkChild(r, "normal");
    assert.ok(existsSync(emitPath(dir, childTs)), "Deno wrote its emit under DENO_DIR");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("preload: a script outside this checkout (no tsprofile config in reach) is profiled too", async () => {
  // Deno resolves bare imports through the config found from the main module, i.e. the user's: every module the
  // preload imports statically must do without bare specifiers (load npm dependencies lazily via createRequire).
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-outside-"));
  try {
    const script = join(dir, "outside.ts");
    writeFileSync(script, readFileSync(childTs, "utf8"));
    const r = await runChild(script, "normal");
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, "child out normal\n");
    assert.ok(r.session, `no session; stderr: ${r.stderr}`);
    const spin = frameIds(r.session!, "spin", script);
    assert.is(spin.length, 1);
    assert.is(r.session!.frames[spin[0]].line, lineOf(script, "export function spin"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without --allow-sys: one clear line, no stack trace; the program still runs", async () => {
  const direct = await runChild(join(fixtures, "deno-perm.ts"), "", { flags: ["--allow-read", "--allow-env"] });
  assert.is(direct.stdout, `caught: ${PERMISSION_MESSAGE}\n`, direct.stderr);
  const r = await runChild(childTs, "normal", { flags: ["--allow-read", "--allow-env", "--allow-write"] });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, "child out normal\n");
  const lines = r.stderr.trimEnd().split("\n").filter((l) => l.includes("tsprofile"));
  assert.is(lines.length, 1, r.stderr);
  assert.ok(lines[0].includes(PERMISSION_MESSAGE), r.stderr);
  assert.not.match(r.stderr, /^\s+at /m);
  assert.is(r.session, null);
});

test("the gap rule: ~300 ms asleep then 100 ms spinning is that much idle and ~100 ms in the spin", async () => {
  const r = await runChild(gapTs, "");
  assert.is(r.code, 0, r.stderr);
  const slept = Number(/^spun after (\d+) ms\n$/.exec(r.stdout)?.[1]);
  assert.ok(slept >= 299, r.stdout);
  const s = r.session!;
  checkSession(s);
  const spin = frameIds(s, "spinAfterSleep", gapTs);
  assert.is(spin.length, 1);
  assert.is(s.frames[spin[0]].line, lineOf(gapTs, "function spinAfterSleep"));
  const { idle, inside } = weigh(s, new Set(spin));
  assert.ok(inside >= 75_000 && inside <= 140_000, `spin ${inside} us`);
  assert.ok(idle >= slept * 1000 - 40_000 && idle <= slept * 1000 + 60_000, `idle ${idle} us, slept ${slept} ms`);
});

test.run();
