// Streaming and long-running processes: the appendable session format (session/stream.ts), drain() of
// the streaming samplers, --stream-to with kill -9, server mode (--signal-toggle, --duration). Every runtime;
// where a runtime cannot stream (Deno; Node without the addon before 24.12) the tests check that it says so and
// still writes the file at the end.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeSession, encodeSession, SessionError } from "../session/session.ts";
import { encodeStream, StreamEncoder } from "../session/stream.ts";
import type { Session, SessionChunk } from "../session/types.ts";
import { type Sampler, startSampler } from "../runtimes/index.ts";
import { startRotatingSampler, v8StartCpuProfile } from "../runtimes/node/rotating-sampler.ts";
import { randomSession, withCpu } from "./session-helpers.ts";
import { root, runOnThisRuntime, runtime } from "./runtime-helpers.ts";

const cliSource = join(root, "src", "cli", "main.ts");
const server = join("test", "fixtures", "stream-server.ts");
const syncProgram = join("test", "fixtures", "stream-sync.ts");
const TIMEOUT = 60_000;
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, LANG: "C.UTF-8", LC_ALL: undefined };

/** The session cut into chunks at the given sample indexes, as a streaming sampler would hand them over. */
function chunked(s: Session, cuts: number[]): { chunks: SessionChunk[]; rest: Session } {
  const bounds = [0, ...cuts, s.samples.stack.length];
  const chunks: SessionChunk[] = [];
  let frames = 0;
  let stacks = 0;
  const piece = (from: number, to: number) => ({
    stack: s.samples.stack.slice(from, to),
    time: s.samples.time.slice(from, to),
    state: s.samples.state.slice(from, to),
    ...(s.samples.cpu ? { cpu: s.samples.cpu.slice(from, to) } : {}),
  });
  for (let k = 0; k + 1 < bounds.length - 1; k++) {
    const [from, to] = [bounds[k], bounds[k + 1]];
    // New stacks: those the chunk's samples need (and their parents), in id order.
    let maxStack = stacks - 1;
    for (let i = from; i < to; i++) maxStack = Math.max(maxStack, s.samples.stack[i]);
    let maxFrame = frames - 1;
    for (let i = stacks; i <= maxStack; i++) maxFrame = Math.max(maxFrame, s.stacks.frame[i]);
    chunks.push({
      frames: s.frames.slice(frames, maxFrame + 1),
      stacks: {
        parent: s.stacks.parent.slice(stacks, maxStack + 1),
        frame: s.stacks.frame.slice(stacks, maxStack + 1),
      },
      samples: piece(from, to),
      end: to > from ? s.samples.time[to - 1] : 0,
    });
    frames = Math.max(frames, maxFrame + 1);
    stacks = Math.max(stacks, maxStack + 1);
  }
  const last = bounds.length - 2;
  const rest: Session = { ...s, samples: piece(bounds[last], bounds[last + 1]) };
  return { chunks, rest };
}

function streamBytes(s: Session, cuts: number[]): { bytes: Uint8Array; recordEnds: number[] } {
  const { chunks, rest } = chunked(s, cuts);
  const e = new StreamEncoder();
  const parts = [e.start({ ...s.meta, duration: 0 }), ...chunks.map((c) => e.chunk(c)), e.end(rest)];
  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  const recordEnds: number[] = [];
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
    recordEnds.push(at);
  }
  return { bytes, recordEnds };
}

const tables = (s: Session) => encodeSession({ ...s, meta: { ...s.meta, program: "", duration: 0, cpuTime: 0 } });

test("a stream of chunks loads as the session it was cut from (format 2's tables, waits included)", () => {
  const s = randomSession(3000, 5, 30, 400);
  s.waits = {
    start: Float64Array.from([10, 2000, 9000]),
    end: Float64Array.from([500, 2500, 9500]),
    stack: Int32Array.from([-1, 3, 7]),
  };
  for (const cuts of [[], [1], [1000, 1001, 2500], [2999]]) {
    const { bytes } = streamBytes(s, cuts);
    const back = decodeSession(bytes, "s.tsprof");
    assert.equal(tables(back), tables(s));
    assert.equal(back.meta, s.meta);
    assert.equal(Array.from(back.waits!.stack), [-1, 3, 7]);
  }
  assert.equal(tables(decodeSession(encodeStream(s))), tables(s));
});

test("samples.cpu streams: delta-encoded across chunks, kept only when every chunk with samples has it", () => {
  const s = withCpu(randomSession(3000, 6, 30, 400), 6);
  for (const cuts of [[], [1], [1000, 1001, 2500], [2999]]) {
    const back = decodeSession(streamBytes(s, cuts).bytes, "s.tsprof");
    assert.equal(tables(back), tables(s));
    assert.equal(Array.from(back.samples.cpu!), Array.from(s.samples.cpu!));
  }
  // A chunk with samples but no column (or samples without it before one): the session has none.
  const { chunks, rest } = chunked(s, [1000, 2000]);
  const { cpu: _, ...noCpu } = chunks[1].samples;
  for (
    const [what, list] of [["middle", [chunks[0], { ...chunks[1], samples: noCpu }]], ["first", [{
      ...chunks[0],
      samples: { ...chunks[0].samples, cpu: undefined },
    }, chunks[1]]]] as const
  ) {
    const enc = new StreamEncoder();
    const parts = [
      enc.start({ ...s.meta, duration: 0 }),
      ...list.map((c) => enc.chunk(c as SessionChunk)),
      enc.end(rest),
    ];
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
    const back = decodeSession(bytes, "s.tsprof");
    assert.not.ok(back.samples.cpu, what);
    assert.equal(Array.from(back.samples.time), Array.from(s.samples.time), what);
  }
  // An empty chunk without the column changes nothing.
  const enc = new StreamEncoder();
  const empty: SessionChunk = {
    frames: [],
    stacks: { parent: new Int32Array(0), frame: new Uint32Array(0) },
    samples: { stack: new Int32Array(0), time: new Float64Array(0), state: new Uint8Array(0) },
    end: 0,
  };
  const parts = [
    enc.start({ ...s.meta, duration: 0 }),
    enc.chunk(chunks[0]),
    enc.chunk(empty),
    enc.chunk(chunks[1]),
    enc.end(rest),
  ];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
  assert.equal(Array.from(decodeSession(bytes).samples.cpu!), Array.from(s.samples.cpu!));
});

test("meta.idleSampled streams: in the start and stop records, a cut-off stream keeps the start's", () => {
  for (const flag of [true, false]) {
    const s = randomSession(200, 10, 12, 60);
    s.meta.idleSampled = flag;
    const { bytes, recordEnds } = streamBytes(s, [100]);
    assert.is(decodeSession(bytes, "s.tsprof").meta.idleSampled, flag);
    const cut = decodeSession(bytes.subarray(0, recordEnds[recordEnds.length - 2]), "s.tsprof");
    assert.match(cut.meta.program, /cut off/);
    assert.is(cut.meta.idleSampled, flag);
  }
});

test("a stream cut at every byte loads what is complete, or fails with one line", () => {
  const s = randomSession(120, 9, 12, 60);
  const { bytes, recordEnds } = streamBytes(s, [20, 50, 51, 90]);
  const startEnd = recordEnds[0];
  let lastCount = 0;
  for (let cut = 0; cut <= bytes.length; cut++) {
    let back: Session;
    try {
      back = decodeSession(bytes.subarray(0, cut), "cut.tsprof");
    } catch (err) {
      assert.ok(err instanceof SessionError, `cut ${cut}: ${err}`);
      assert.ok(cut < startEnd, `cut ${cut} after the start record must load (${(err as Error).message})`);
      assert.not.match((err as Error).message, /\n/);
      assert.match((err as Error).message, /^cut\.tsprof: /);
      continue;
    }
    assert.ok(cut >= startEnd, `cut ${cut} before the start record loaded`);
    const n = back.samples.stack.length;
    assert.ok(n >= lastCount, "a longer file never loads fewer samples");
    lastCount = n;
    // What loads is a prefix of the session, on valid ids.
    assert.equal(Array.from(back.samples.stack), Array.from(s.samples.stack.subarray(0, n)));
    assert.equal(Array.from(back.samples.time), Array.from(s.samples.time.subarray(0, n)));
    for (let i = 0; i < n; i++) assert.ok(back.samples.stack[i] < back.stacks.parent.length);
    const complete = cut === bytes.length;
    assert.is(/cut off/.test(back.meta.program), !complete, `cut ${cut}: ${back.meta.program}`);
    if (recordEnds.includes(cut)) assert.ok(n > 0 || cut === startEnd);
  }
  assert.is(lastCount, 120);
});

test("damage inside a complete record fails with one line (not a silent cut)", () => {
  const s = randomSession(200, 3, 10, 50);
  const { bytes, recordEnds } = streamBytes(s, [100]);
  const damaged = bytes.slice();
  damaged[recordEnds[1] - 3] ^= 0x55; // inside the first chunk's deflated payload (its checksum)
  assert.throws(
    () => decodeSession(damaged, "bad.tsprof"),
    (e: Error) => e instanceof SessionError && /^bad\.tsprof: .*record 1/.test(e.message),
  );
  const longer = new Uint8Array(bytes.length + 5);
  longer.set(bytes);
  longer[bytes.length] = 2; // a record after the stop record
  assert.throws(() => decodeSession(longer, "x"), (e: Error) => e instanceof SessionError);
});

// ---- drain() on the streaming samplers ----

function spin(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}
function drainedWork(): number {
  return spin(120);
}

/** Drains a running sampler twice and stops it; checks the chunks continue one another. */
function checkDrains(sampler: Sampler): void {
  assert.type(sampler.drain, "function");
  const chunks: SessionChunk[] = [];
  for (let k = 0; k < 2; k++) {
    drainedWork();
    chunks.push(sampler.drain!());
  }
  drainedWork();
  const rest = sampler.stop();
  // V8 takes idle samples; on Bun they are placed from the kernel's account on Linux (runtimes/bun/runnable.ts),
  // without it a gap is idle (SPEC.md §1, running gap): streamed sessions carry the flag too.
  assert.is(rest.meta.idleSampled, runtime !== "bun" || process.platform === "linux", "meta.idleSampled");
  let frames = 0;
  let stacks = 0;
  let last = 0;
  for (const c of chunks) {
    assert.ok(c.samples.stack.length > 10, `a drain while running returns samples (${c.samples.stack.length})`);
    frames += c.frames.length;
    stacks += c.stacks.parent.length;
    for (let i = 0; i < c.samples.stack.length; i++) {
      assert.ok(c.samples.stack[i] < stacks, "a sample names a stack of this chunk or an earlier one");
      assert.ok(c.samples.time[i] >= last, "times run on across chunks");
      last = c.samples.time[i];
    }
    for (let i = 0; i < c.stacks.parent.length; i++) assert.ok(c.stacks.frame[i] < frames);
    assert.ok(c.end >= last);
  }
  assert.ok(rest.frames.length >= frames && rest.stacks.parent.length >= stacks, "stop() returns the whole tables");
  assert.ok(rest.samples.stack.length > 0, "and the samples not drained yet");
  assert.ok(rest.meta.duration >= last);
  const names = new Set(rest.frames.map((f) => f.name));
  assert.ok(names.has("spin") || names.has("drainedWork"), `the work is in the frames: ${[...names].join(", ")}`);
}

test("drain() returns the samples taken so far while the sampler runs (Bun, Node)", () => {
  const sampler = startSampler({ interval: 1000, stream: true, asyncMode: "disabled" });
  if (runtime === "deno") {
    assert.is(sampler.drain, undefined, "Deno's inspector sampler does not stream");
    sampler.stop();
    return;
  }
  if (!sampler.drain) {
    // Node before 24.12 without the native addon.
    assert.is(v8StartCpuProfile(), null);
    sampler.stop();
    return;
  }
  checkDrains(sampler);
});

test("Node >= 24.12: the rotating v8.startCpuProfile sampler drains (whether or not the addon is used)", () => {
  if (runtime !== "node" || !v8StartCpuProfile()) return;
  checkDrains(startRotatingSampler({ interval: 1000, asyncMode: "disabled", startStack: false }));
});

// ---- the CLI: --stream-to, --signal-toggle, --duration ----

interface Child {
  pid: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

function startCli(args: string[]): Child {
  const [command, argv] = runOnThisRuntime(cliSource, args);
  const child = spawn(command, argv, { cwd: root, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const killer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT);
  const exited = new Promise<{ code: number | null; signal: string | null }>((done) =>
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      done({ code, signal });
    })
  );
  return { pid: child.pid!, stdout: () => out, stderr: () => err, exited };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A failed test must not leave its long-running program behind (the CLI would wait for it). */
function reap(pid: number | undefined): void {
  try {
    if (pid) process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The program's pid, from the fixture's first line. */
async function programPid(c: Child): Promise<number> {
  await until("the program's pid", () => /pid \d+/.test(c.stdout()));
  return Number(/pid (\d+)/.exec(c.stdout())![1]);
}

function load(file: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(...runOnThisRuntime(cliSource, ["--load", file]), { cwd: root, env: ENV, timeout: TIMEOUT });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** Node with the native addon: its sampler streams from a thread of its own (Sampler.streamTo). */
function addonStreams(): boolean {
  const s = startSampler({ interval: 1000, stream: true, asyncMode: "disabled" });
  const yes = typeof s.streamTo === "function";
  s.stop();
  return yes;
}

function canStream(): boolean {
  const s = startSampler({ interval: 1000, stream: true, asyncMode: "disabled" });
  const yes = typeof s.drain === "function";
  s.stop();
  return yes;
}

test("--stream-to, then kill -9 mid-run: the file (and the CLI) render what was recorded", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-stream-"));
  let pid: number | undefined;
  try {
    const file = join(dir, "run.tsprof");
    if (!canStream()) {
      // The runtime writes the stream at the end, and says so.
      const c = startCli(["--stream-to", file, server, "300"]);
      const { code } = await c.exited;
      assert.is(code, 0, c.stderr());
      assert.match(c.stderr(), /--stream-to: .* cannot stream samples/);
      assert.match(load(file).stdout, /phaseOne/);
      return;
    }
    const c = startCli(["--stream-to", file, server, "600000"]);
    pid = await programPid(c);
    // Until a chunk with the program's work is in the file (drained every second).
    await until("a chunk in the stream", () => existsSync(file) && load(file).stdout.includes("phaseOne"));
    process.kill(pid, "SIGKILL");
    const { code } = await c.exited;
    assert.is(code, 137, "the CLI ends as the program did");
    assert.match(c.stderr(), /phaseOne/, "the CLI rendered the cut-off stream");
    assert.match(c.stderr(), /cut off after/);
    const r = load(file);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /phaseOne/);
    assert.match(r.stdout, /cut off after [\d.]+s: the run did not finish/);
  } finally {
    reap(pid);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--stream-to a program that never yields, kill -9 after 3 s: the addon keeps more than 2 s", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-stream-sync-"));
  let pid: number | undefined;
  try {
    const file = join(dir, "run.tsprof");
    const c = startCli(["--stream-to", file, syncProgram, "5000"]);
    pid = await programPid(c);
    await sleep(3000);
    process.kill(pid, "SIGKILL");
    const { code } = await c.exited;
    assert.is(code, 137, "the CLI ends as the program did");
    if (!addonStreams()) {
      // Only the native addon's own thread streams a program that never yields: elsewhere (Deno, Bun, Node
      // without the addon) the drain runs on the program's thread, so the file holds at most its start record.
      // Loading it says so in one line, or renders the empty cut-off run; never a stack trace.
      const r = load(file);
      assert.not.match(r.stderr, /\n\s+at /, "no stack trace");
      if (r.status === 0) assert.match(r.stdout, /cut off after/);
      else assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
      return;
    }
    const session = decodeSession(readFileSync(file), file);
    assert.match(session.meta.program, /cut off after/);
    const spin = session.frames.flatMap((f, i) => (f.name === "syncSpin" ? [i] : []));
    assert.ok(spin.length > 0, "syncSpin's samples were streamed");
    const inSpin = (st: number): boolean => {
      for (; st >= 0; st = session.stacks.parent[st]) if (spin.includes(session.stacks.frame[st])) return true;
      return false;
    };
    const times = session.samples.time.filter((_, i) => inSpin(session.samples.stack[i]));
    const kept = times[times.length - 1] - times[0];
    assert.ok(kept >= 2_000_000, `${(kept / 1e6).toFixed(2)} s of the 3 s loop recovered, ${times.length} samples`);
    const r = load(file);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /syncSpin/);
  } finally {
    reap(pid);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--signal-toggle: SIGUSR2 starts and stops profiling, each stop writes a numbered report", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-toggle-"));
  let pid: number | undefined;
  try {
    const out = join(dir, "report.txt");
    const c = startCli(["--signal-toggle", "-o", out, server, "600000", "2500"]);
    pid = await programPid(c);
    await sleep(300);
    process.kill(pid, "SIGUSR2"); // start
    await sleep(600);
    process.kill(pid, "SIGUSR2"); // stop: report 1
    await until("report 1", () => existsSync(join(dir, "report.1.txt")));
    process.kill(c.pid, "SIGUSR2"); // through tsprofile: start
    await sleep(2600); // into phaseTwo
    process.kill(c.pid, "SIGUSR2"); // stop: report 2
    await until("report 2", () => existsSync(join(dir, "report.2.txt")));
    assert.ok(!/done/.test(c.stdout()), "the program still runs");
    process.kill(pid, "SIGTERM");
    const { code, signal } = await c.exited;
    assert.ok(
      signal === "SIGTERM" || code === 143,
      `the program's own end passes through (${code} ${signal}: ${c.stderr()})`,
    );
    assert.match(readFileSync(join(dir, "report.1.txt"), "utf8"), /phaseOne/);
    assert.match(readFileSync(join(dir, "report.2.txt"), "utf8"), /phaseTwo/);
    assert.not.ok(existsSync(join(dir, "report.3.txt")), "profiling was off at the end: no third report");
    assert.match(c.stderr(), /report 1 written to .*report\.1\.txt/);
  } finally {
    reap(pid);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--duration stops profiling but not the program", async () => {
  const c = startCli(["--duration", "0.4", server, "2000", "1200"]);
  const { code } = await c.exited;
  assert.is(code, 0, c.stderr());
  assert.match(c.stdout(), /done/, "the program ran to its end");
  assert.match(c.stderr(), /phaseOne/);
  assert.not.match(c.stderr(), /phaseTwo/, "nothing after the duration was profiled");
  assert.is(c.stderr().match(/Recorded:/g)?.length, 1, "one report");
});

test("server-mode and stream options: mistakes are one line", () => {
  const bad = (args: string[], pattern: RegExp) => {
    const r = spawnSync(...runOnThisRuntime(cliSource, args), { cwd: root, env: ENV, timeout: TIMEOUT });
    assert.is(r.status, 2);
    const err = r.stderr.toString().trim();
    assert.is(err.split("\n").length, 1, err);
    assert.match(err, pattern);
  };
  bad(["--duration", "-1", server], /--duration: '-1' is not a positive number/);
  bad(["--duration", "soon", server], /--duration/);
  bad(["--stream-to", "/no/such/dir/x.tsprof", server], /--stream-to: directory/);
  bad(["--stream-to", "x.tsprof", "--signal-toggle", server], /give one of them/);
  bad(["--load", "x.tsprof", "--duration", "1"], /--duration is for running a program/);
});

test.run();
