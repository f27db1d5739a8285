// runtimes: node20 node24 -- the addon is Node-only (V8 API, per-ABI build)
// The native Node sampler (runtimes/node/addon, runtimes/node/addon-sampler.ts): it loads on this Node, gives the
// inspector sampler's tree, states and rotation, and the fallback to the inspector says why in one line.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { pbkdf2Sync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type AddonBinding, addonPath, loadAddon, startAddonSampler } from "../runtimes/node/addon-sampler.ts";
import { startNodeSampler } from "../runtimes/node/sampler.ts";
import { decodeSession } from "../session/session.ts";
import { SampleState } from "../session/types.ts";
import type { Session, SessionChunk } from "../session/types.ts";
import { spinTs, Worker } from "./fixtures/sampler-work.ts";
import { checkSession, frameIds, lineOf } from "./sampler-helpers.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const workTs = join(here, "fixtures", "sampler-work.ts");

function binding(): AddonBinding {
  const { binding, warning } = loadAddon();
  if (!binding) {
    assert.unreachable(
      `the addon is not usable on Node ${process.version}: ${
        warning ?? `${addonPath()} is not built`
      } (build it: node scripts/build-addon.mjs)`,
    );
  }
  return binding!;
}

/**
 * Inclusive time share (0-1) of the samples whose stack contains one of `frames`, each sample weighted by the time
 * to the next (a count would let a sampler starved on a loaded machine, more in one function than the other, move
 * the share: 0.41 for a two-thirds spin under two CPU hogs).
 */
function share(s: Session, frames: number[]): number {
  const set = new Set(frames);
  const { stack, state, time } = s.samples;
  let hit = 0;
  let all = 0;
  for (let i = 0; i + 1 < stack.length; i++) {
    if (state[i] === SampleState.idle) continue;
    const weight = time[i + 1] - time[i];
    all += weight;
    for (let st = stack[i]; st >= 0; st = s.stacks.parent[st]) {
      if (set.has(s.stacks.frame[st])) {
        hit += weight;
        break;
      }
    }
  }
  return all === 0 ? 0 : hit / all;
}

/** The same workload under a sampler: spinTs 90 ms, then Worker.churn 45 ms. */
function workload(start: () => { stop(): Session }): Session {
  const sampler = start();
  spinTs({ ms: 90 });
  new Worker("w").churn(45);
  return sampler.stop();
}

test("the addon loads and is built for this Node's ABI", () => {
  const b = binding();
  assert.is(String(b.moduleVersion), process.versions.modules);
  assert.type(b.Sampler, "function");
});

test("samples a known workload into the same tree as the inspector sampler", () => {
  const b = binding();
  const viaAddon = workload(() => startAddonSampler(b, { interval: 500 }));
  const viaInspector = workload(() => startNodeSampler({ interval: 500 }));
  checkSession(viaAddon, { runtime: `node ${process.versions.node}` });
  for (const s of [viaAddon, viaInspector]) {
    const spin = frameIds(s, "spinTs", workTs);
    const churn = frameIds(s, "churn", workTs);
    assert.is(spin.length, 1, "spinTs is one frame");
    assert.is(churn.length, 1, "churn is one frame");
    assert.is(s.frames[spin[0]].line, lineOf(workTs, "export function spinTs"));
    assert.is(s.frames[churn[0]].line, lineOf(workTs, "churn(ms: number)"));
    // 90 of 135 ms: two thirds, allowing for a loaded 2-core machine. Of the workload's time, not the session's:
    // under load the sampler's own start (deoptimizing, 67-129 ms under two CPU hogs) is sampled too.
    const workShare = share(s, [...spin, ...churn]);
    const spinShare = share(s, spin) / workShare;
    const churnShare = share(s, churn) / workShare;
    assert.ok(spinShare > 0.45 && spinShare < 0.85, `spinTs share ${spinShare}`);
    assert.ok(churnShare > 0.15 && churnShare < 0.5, `churn share ${churnShare}`);
  }
  // The same frames for the workload (names, files, lines), whichever sampler: those with a real share of the
  // time (a frame seen in one or two samples by one sampler only is chance, not a difference).
  const key = (s: Session) =>
    s.frames
      .flatMap((f, id) => (f.file === workTs && share(s, [id]) >= 0.05 ? [`${f.name}:${f.line}:${f.col}`] : []))
      .sort();
  assert.equal(key(viaAddon), key(viaInspector));
  // The start stack (this file's caller of start()) is found as the inspector finds it.
  assert.ok(viaAddon.meta.startStack.length > 0, "start stack found");
  assert.is(viaAddon.meta.startStack.length, viaInspector.meta.startStack.length);
});

test("heavy allocation shows as gc samples; time in a native callback is state native under its caller", () => {
  const b = binding();
  const sampler = startAddonSampler(b, { interval: 200 });
  let keep: object[] = [];
  for (let round = 0; round < 30; round++) {
    for (let i = 0; i < 60_000; i++) keep.push({ i, s: "x" + i, a: [i, i + 1] });
    if (keep.length > 200_000) keep = [];
  }
  function hashing(): void {
    for (let i = 0; i < 3; i++) pbkdf2Sync("pw", "salt", 60_000, 32, "sha256");
  }
  hashing();
  const s = sampler.stop();
  checkSession(s);
  const { state, stack } = s.samples;
  assert.ok(state.includes(SampleState.gc), "some samples are in GC");
  const hash = new Set(frameIds(s, "hashing"));
  let nativeUnderHashing = 0;
  // Native time shows as the native function's own frame when V8 names it (pbkdf2's binding), else as state
  // native (the addon's EXTERNAL state) under the JavaScript that called it.
  for (let i = 0; i < state.length; i++) {
    if (stack[i] < 0 || (state[i] !== SampleState.native && s.frames[s.stacks.frame[stack[i]]].kind !== "native")) {
      continue;
    }
    for (let st = stack[i]; st >= 0; st = s.stacks.parent[st]) if (hash.has(s.stacks.frame[st])) nativeUnderHashing++;
  }
  assert.ok(nativeUnderHashing > 0, "pbkdf2Sync's C++ time is state native under hashing()");
});

test("drain() hands over samples while running; chunks and the rest make one session with a CPU column", () => {
  const b = binding();
  const sampler = startAddonSampler(b, { interval: 500, cpuInterval: 500 });
  const chunks: SessionChunk[] = [];
  for (let i = 0; i < 3; i++) {
    spinTs({ ms: 40 });
    chunks.push(sampler.drain());
  }
  spinTs({ ms: 20 });
  const rest = sampler.stop();
  // Ids continue across chunks (session/types.ts, SessionChunk): concatenating gives the whole tables.
  let frames = 0;
  let stacks = 0;
  let last = -1;
  const time: number[] = [];
  const cpu: number[] = [];
  const state: number[] = [];
  const stack: number[] = [];
  for (const c of chunks) {
    assert.ok(c.samples.time.length > 0, "a drain while spinning returns samples");
    assert.ok(c.samples.cpu && c.samples.cpu.length === c.samples.time.length, "cpu column per sample");
    for (let i = 0; i < c.stacks.parent.length; i++) {
      assert.ok(c.stacks.parent[i] < stacks + i, "a stack's parent comes before it");
      assert.ok(c.stacks.frame[i] < frames + c.frames.length, "a stack's frame is known");
    }
    frames += c.frames.length;
    stacks += c.stacks.parent.length;
    for (let i = 0; i < c.samples.time.length; i++) {
      assert.ok(c.samples.time[i] > last || (i > 0 && c.samples.time[i] >= last), "samples go forward across chunks");
      assert.ok(c.samples.stack[i] < stacks);
      last = c.samples.time[i];
    }
    assert.ok(c.end >= last);
    time.push(...c.samples.time);
    cpu.push(...c.samples.cpu!);
    state.push(...c.samples.state);
    stack.push(...c.samples.stack);
  }
  assert.is(rest.frames.length >= frames, true);
  assert.is(rest.stacks.parent.length >= stacks, true);
  time.push(...rest.samples.time);
  cpu.push(...rest.samples.cpu!);
  state.push(...rest.samples.state);
  stack.push(...rest.samples.stack);
  const whole: Session = {
    ...rest,
    samples: {
      time: Float64Array.from(time),
      cpu: Float64Array.from(cpu),
      state: Uint8Array.from(state),
      stack: Int32Array.from(stack),
    },
  };
  checkSession(whole);
  assert.ok(frameIds(whole, "spinTs", workTs).length === 1);
  // CPU time: integers, never decreasing, never ahead of the wall clock by more than a reading interval, and
  // a spinning thread gets some of it even on a loaded machine.
  for (let i = 0; i < cpu.length; i++) {
    assert.ok(Number.isInteger(cpu[i]) && cpu[i] >= 0, `cpu ${i} = ${cpu[i]}`);
    if (i > 0) assert.ok(cpu[i] >= cpu[i - 1], `cpu ${i} decreases`);
    assert.ok(cpu[i] <= time[i] + 2000, `cpu ${cpu[i]} ahead of wall ${time[i]}`);
  }
  assert.ok(cpu[cpu.length - 1] > 20_000, `a 140 ms spin used ${cpu[cpu.length - 1]} us of CPU`);
  assert.throws(() => sampler.drain(), /already stopped/);
});

test("an invalid interval is the caller's RangeError, as with the inspector sampler", () => {
  assert.throws(() => startAddonSampler(binding(), { interval: 50 }), (e: unknown) => e instanceof RangeError);
});

// ---- which sampler startSampler picks, in a child process ----

function pick(
  env: Record<string, string>,
): { report: { drain: string; cpu: boolean; samples: number }; stderr: string; code: number | null } {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-addon-"));
  try {
    const file = join(dir, "child.ts");
    writeFileSync(
      file,
      [
        `import { startSampler } from ${JSON.stringify(pathToFileURL(join(root, "runtimes", "index.ts")).href)};`,
        "const s = startSampler({ interval: 1000 });",
        "let x = 0; const end = Date.now() + 30; while (Date.now() < end) x += Math.sqrt(x + 1);",
        "const session = s.stop();",
        "console.log(JSON.stringify({ drain: typeof s.drain, cpu: session.samples.cpu !== undefined, samples: session.samples.time.length }));",
      ].join("\n"),
    );
    const env2 = { ...process.env, ...env };
    if (!("TSPROFILE_NO_ADDON" in env)) delete env2.TSPROFILE_NO_ADDON;
    const r = spawnSync(process.execPath, ["--import", join(root, "runtimes", "loader", "register.mjs"), file], {
      env: env2,
      encoding: "utf8",
      timeout: 30_000,
    });
    let report = { drain: "", cpu: false, samples: 0 };
    try {
      report = JSON.parse(r.stdout.trim().split("\n").pop() ?? "");
    } catch {
      assert.unreachable(`child printed ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
    }
    return { report, stderr: r.stderr, code: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("startSampler picks the addon on Node when it is built", () => {
  binding();
  const { report, stderr, code } = pick({});
  assert.is(code, 0);
  assert.is(stderr, "");
  assert.equal(report.drain, "function");
  assert.ok(report.cpu, "the addon's sessions carry samples.cpu");
  assert.ok(report.samples > 0);
});

test("TSPROFILE_NO_ADDON=1 forces the inspector sampler, silently", () => {
  const { report, stderr, code } = pick({ TSPROFILE_NO_ADDON: "1" });
  assert.is(code, 0);
  assert.is(stderr, "");
  assert.not.ok(report.cpu, "no samples.cpu from the inspector");
  assert.ok(report.samples > 0);
});

test("a missing or broken binary falls back to the inspector with one line saying why", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-addon-bad-"));
  try {
    const broken = join(dir, "broken.node");
    writeFileSync(broken, "this is not a shared object\n");
    for (
      const [path, why] of [
        [join(dir, "missing.node"), /native sampler unavailable: .*missing\.node does not exist/],
        [broken, /native sampler failed to load \(.+\)/],
      ] as const
    ) {
      const { report, stderr, code } = pick({ TSPROFILE_ADDON_PATH: path });
      assert.is(code, 0);
      const lines = stderr.split("\n").filter((l) => l !== "");
      assert.is(lines.length, 1, JSON.stringify(stderr));
      assert.match(lines[0], why);
      assert.match(lines[0], /^tsprofile: .*; using the inspector sampler$/);
      assert.not.ok(report.cpu);
      assert.ok(report.samples > 0, "the inspector sampled");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- streamTo(): the stream written from a worker thread of tsprofile's own ----

test("streamTo's worker runs none of the program's preloads and leaves its output and exit code alone", () => {
  binding();
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-addon-stream-"));
  try {
    const log = join(dir, "preloads.log");
    const marker = join(dir, "marker.mjs");
    // A user's preload (OpenTelemetry, dotenv): it notes each thread it runs in; tsprofile's worker is the one
    // whose workerData names the addon.
    writeFileSync(
      marker,
      [
        'import { appendFileSync } from "node:fs";',
        'import { workerData } from "node:worker_threads";',
        `appendFileSync(${JSON.stringify(log)}, workerData?.addonPath ? "tsprofile worker\\n" : "other\\n");`,
      ].join("\n"),
    );
    const file = join(dir, "run.tsprof");
    const child = join(dir, "child.ts");
    const addonUrl = pathToFileURL(join(root, "runtimes", "node", "addon-sampler.ts")).href;
    writeFileSync(
      child,
      [
        `import { loadAddon, startAddonSampler } from ${JSON.stringify(addonUrl)};`,
        "const s = startAddonSampler(loadAddon().binding!, { interval: 1000 });",
        `const sink = s.streamTo(${JSON.stringify(file)}, s.meta({ program: "child" }));`,
        // Never yields: the worker streams meanwhile.
        "let x = 0; const end = Date.now() + 1500; while (Date.now() < end) x += Math.sqrt(x + 1);",
        "sink.end(s.stop());",
        'console.log("program output");',
        "process.exitCode = 3;",
      ].join("\n"),
    );
    const r = spawnSync(
      process.execPath,
      ["--import", marker, "--import", join(root, "runtimes", "loader", "register.mjs"), child],
      { env: { ...process.env, NODE_OPTIONS: `--import=${marker}` }, encoding: "utf8", timeout: 60_000 },
    );
    assert.is(r.status, 3, r.stderr);
    assert.is(r.stdout, "program output\n");
    assert.is(r.stderr, "");
    const ran = readFileSync(log, "utf8").split("\n").filter((l) => l !== "");
    assert.ok(ran.includes("other"), "the preload ran in the program");
    assert.not.ok(ran.includes("tsprofile worker"), "and never in tsprofile's worker");
    const session = decodeSession(readFileSync(file), file);
    assert.is(session.meta.program, "child", "a finished stream (its stop record)");
    assert.ok(session.samples.time.length > 0);
    assert.ok(session.samples.cpu, "the CPU column streams");
    checkSession(session);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
