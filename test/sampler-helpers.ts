// What the sampler tests (sampler.test.ts on Node, sampler-deno.test.ts, sampler-bun.test.ts) share: finding
// frames and source lines, the checks every sampled session must pass, and running a fixture under the preload
// in a child process to get the session it writes.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as assert from "uvu/assert";
import { gapCapFor } from "../runtimes/shared/cpuprofile.ts";
import { decodeSession, encodeSession, loadSession } from "../session/session.ts";
import { SampleState } from "../session/types.ts";
import type { FrameInfo, Session } from "../session/types.ts";

/**
 * Each sample's wall time as the core weighs it (SPEC.md §1, await attribution aside): min(dt, gapCap), and with
 * meta.idleSampled a running gap whole, up to 2 intervals to the sample before it and the rest to the one after;
 * gapIdle is the rest (the leading span and the idle rests of gaps).
 */
export function sampleWeights(s: Session): { weight: Float64Array; gapIdle: number } {
  const { time, state } = s.samples;
  const n = time.length;
  const weight = new Float64Array(n);
  let gapIdle = n > 0 ? time[0] : 0;
  for (let i = 0; i < n; i++) {
    const dt = (i + 1 < n ? time[i + 1] : Math.max(s.meta.duration, time[n - 1])) - time[i];
    const w = Math.min(dt, s.meta.gapCap);
    if (s.meta.idleSampled && i + 1 < n && state[i] !== SampleState.idle && state[i + 1] !== SampleState.idle) {
      const head = s.meta.interval > 0 ? Math.min(w, 2 * Math.round(s.meta.interval)) : w;
      weight[i] += head;
      weight[i + 1] += dt - head;
    } else {
      weight[i] += w;
      gapIdle += dt - w;
    }
  }
  return { weight, gapIdle };
}

/** 1-based line of the first line of `file` containing `needle`. */
export function lineOf(file: string, needle: string): number {
  const i = readFileSync(file, "utf8").split("\n").findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`${needle} not in ${file}`);
  return i + 1;
}

/** Ids of the frames called `name` (in `file`, when given). */
export function frameIds(s: Session, name: string, file?: string): number[] {
  const out: number[] = [];
  s.frames.forEach((f, i) => {
    if (f.name === name && (file === undefined || f.file === file)) out.push(i);
  });
  return out;
}

/**
 * A V8-sampled session is well formed: the stack table is a prefix tree without duplicate entries, there are
 * samples, their times are non-decreasing integers within the duration, idle samples have no stack, frames have
 * integer positions, a kind and none of V8's pseudo-frames, the gap cap is the interval's, idle is sampled
 * (meta.idleSampled), and the session survives its file form. `frame` adds a runtime's own checks of each frame;
 * `runtime` is meta.runtime.
 */
export function checkSession(s: Session, opts: { frame?(f: FrameInfo): void; runtime?: string } = {}): void {
  const { parent, frame } = s.stacks;
  assert.is(parent.length, frame.length);
  const seen = new Set<string>();
  for (let i = 0; i < parent.length; i++) {
    assert.ok(parent[i] >= -1 && parent[i] < i, `stack ${i} parent ${parent[i]}`);
    assert.ok(frame[i] < s.frames.length, `stack ${i} frame ${frame[i]}`);
    const key = `${parent[i]}:${frame[i]}`;
    assert.not.ok(seen.has(key), `stack ${i} duplicates ${key}`);
    seen.add(key);
  }
  const { time, stack, state } = s.samples;
  assert.ok(time.length > 0, "no samples");
  for (let i = 0; i < time.length; i++) {
    assert.ok(Number.isInteger(time[i]) && time[i] >= 0, `time ${i} = ${time[i]}`);
    if (i > 0) assert.ok(time[i] >= time[i - 1], `time ${i} decreases`);
    assert.ok(time[i] <= s.meta.duration, `time ${i} beyond duration`);
    assert.ok(stack[i] >= -1 && stack[i] < parent.length);
    assert.ok(state[i] <= 5);
    if (state[i] === SampleState.idle) assert.is(stack[i], -1, "idle samples have an empty stack");
  }
  for (const f of s.frames) {
    assert.ok(Number.isInteger(f.line) && f.line >= 0 && Number.isInteger(f.col) && f.col >= 0);
    assert.ok(["js", "native", "runtime"].includes(f.kind));
    opts.frame?.(f);
    assert.not.ok(["(root)", "(idle)", "(program)", "(garbage collector)"].includes(f.name));
  }
  assert.ok(Number.isInteger(s.meta.duration) && s.meta.duration > 0);
  assert.is(s.meta.gapCap, gapCapFor(s.meta.interval));
  assert.ok(s.meta.idleSampled, "V8 samples idle: a gap between running samples is running time (SPEC.md §1)");
  if (opts.runtime !== undefined) assert.is(s.meta.runtime, opts.runtime);
  // The session survives its file form.
  decodeSession(encodeSession(s));
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  session: Session | null;
}

export interface ChildOptions {
  /** The session's meta.program, passed in TSPROFILE_CHILD (with interval 1000 and a session path). */
  program: string;
  /** Environment over process.env's. */
  env?: Record<string, string>;
  tmpPrefix: string;
  /** Sent `signalDelay` ms after the child first prints "ready". */
  signal?: NodeJS.Signals;
  signalDelay?: number;
  /** How the signal is sent; child.kill(signal) unless given. */
  kill?(child: ChildProcess, signal: NodeJS.Signals): void;
  /** SIGKILL the child after this many ms. */
  timeout?: number;
}

/**
 * Runs `command args` (a fixture under tsprofile's preload) with TSPROFILE_CHILD set, collecting its output and
 * the session it wrote, if any.
 */
export function runPreloadChild(command: string, args: string[], opts: ChildOptions): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), opts.tmpPrefix));
  const sessionPath = join(dir, "out.tsprof");
  const child = spawn(command, args, {
    env: {
      ...process.env,
      ...opts.env,
      TSPROFILE_CHILD: JSON.stringify({ interval: 1000, sessionPath, program: opts.program }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let signal = opts.signal;
  child.stdout!.on("data", (d) => {
    stdout += d;
    if (signal && stdout.includes("ready")) {
      const sig = signal;
      signal = undefined;
      setTimeout(() => (opts.kill ? opts.kill(child, sig) : child.kill(sig)), opts.signalDelay ?? 50);
    }
  });
  child.stderr!.on("data", (d) => (stderr += d));
  const killer = setTimeout(() => child.kill("SIGKILL"), opts.timeout ?? 30_000);
  return new Promise((done) => {
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      const session = existsSync(sessionPath) ? loadSession(sessionPath) : null;
      rmSync(dir, { recursive: true, force: true });
      done({ code, signal, stdout, stderr, session });
    });
  });
}
